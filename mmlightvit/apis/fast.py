"""The fast inference path of every model of the project:
:func:`fast_inference` prepares a model (whole segmentor / detector /
classifier, or a lone backbone) in place.

What it does, in order:

1. re-parameterises what can be (``switch_to_deploy()``, RepViT);
2. folds every BatchNorm that follows a convolution inside an mmcv
   ``ConvModule`` into that convolution (mmcv's ``fuse_conv_bn``); the same
   numbers up to float rounding;
3. converts the weights to ``channels_last`` (by default when compiling);
4. wraps the network's compute (``extract_feat`` and the head's
   ``forward`` of a toolbox model, else ``forward``) so that it runs under
   ``torch.no_grad()``, ``torch.autocast`` for bf16 / fp16, through
   ``torch.compile`` (inductor, ``freezing=True``: the weights become
   constants) when ``compile`` is set; floating outputs come back as float32,
   so post-processing (resizing, argmax, box decoding, NMS) and metrics run
   as before. If compiling fails (no C++ compiler, an unsupported op...),
   one line is logged and the model runs eagerly from then on.

EMO's window attention and mmpretrain's MobileViT attention already call
``F.scaled_dot_product_attention`` in every mode.

Precisions: 'fp32'; 'bf16' on CPUs with AVX512-BF16 or AMX (autocast, CPU) or
on CUDA GPUs that support it; 'fp16' on CUDA only. Anything else is refused
with one line saying why.
"""
import functools

import torch
from mmcv.cnn import ConvModule, fuse_conv_bn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm

from .checks import ConfigError
from .reparam import switch_to_deploy

PRECISIONS = ('fp32', 'bf16', 'fp16')
DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}
HEADS = ('decode_head', 'bbox_head', 'head')


def cpu_bf16_support():
    """Why this CPU can or cannot run bf16 fast: ``(bool, reason)``."""
    capability = torch.backends.cpu.get_cpu_capability()
    checks = (('AMX', '_is_amx_tile_supported'),
              ('AVX512-BF16', '_is_avx512_bf16_supported'))
    found = [name for name, fn in checks
             if getattr(torch.cpu, fn, lambda: False)()]
    if found:
        return True, f'{" and ".join(found)} ({capability})'
    return False, (f'this CPU ({capability}) has neither AMX nor '
                   f'AVX512-BF16, where bf16 would be slower than fp32')


def autocast_dtype(precision, device='cpu'):
    """The autocast dtype of ``precision`` on ``device`` (None for fp32).

    Raises:
        ValueError: an unknown precision, or one the device cannot run.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision == 'fp32':
        return None
    cuda = torch.device(device).type == 'cuda'
    if precision == 'fp16' and not cuda:
        raise ValueError('precision fp16 needs a CUDA GPU (CPUs have no '
                         'fast fp16): use bf16 or fp32 on CPU')
    if precision == 'bf16':
        if cuda and not torch.cuda.is_bf16_supported():
            raise ValueError(f'precision bf16: {device} does not support '
                             f'bfloat16: use fp16 or fp32')
        if not cuda:
            ok, reason = cpu_bf16_support()
            if not ok:
                raise ValueError(f'precision bf16: {reason}: use fp32')
    return DTYPES[precision]


@torch.no_grad()
def fold_batch_norms(model):
    """Fold the eval-mode BatchNorm of every ``ConvModule`` whose norm comes
    right after its conv into the conv's weights (mmcv ``fuse_conv_bn``);
    returns how many were folded."""
    folded = 0
    for module in list(model.modules()):
        if not (isinstance(module, ConvModule) and module.with_norm):
            continue
        order = list(module.order)
        if order.index('norm') != order.index('conv') + 1 or not (
                isinstance(module.conv, torch.nn.Conv2d)
                and isinstance(module.norm, _BatchNorm)):
            continue
        fuse_conv_bn(module)
        folded += 1
    return folded


def _to_float(out):
    """``out`` with its floating tensors (in tuples, lists, dicts) as
    float32."""
    if torch.is_tensor(out):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (list, tuple)):
        items = [_to_float(o) for o in out]
        return type(out)(*items) if hasattr(out, '_fields') else \
            type(out)(items)
    if isinstance(out, dict):
        return type(out)((k, _to_float(v)) for k, v in out.items())
    return out


class FastCall:
    """``fn`` under no_grad and autocast, through ``torch.compile`` when
    asked; falls back to ``fn`` (one logged line) if compiling fails."""

    def __init__(self, fn, device_type, dtype, compile):
        self.fn = fn
        self.device_type, self.dtype = device_type, dtype
        self.compiled = None
        if compile:
            try:
                self.compiled = torch.compile(fn, options={'freezing': True})
            except Exception as e:  # e.g. torch.compile missing / refused
                self._fall_back(e)

    def _fall_back(self, error):
        self.compiled = None
        first = str(error).strip().splitlines()[0] if str(error) else ''
        print_log(f'fast inference: torch.compile is not available here '
                  f'({type(error).__name__}: {first[:200]}); running '
                  f'eagerly', logger='current')

    def __call__(self, *args, **kwargs):
        with torch.no_grad(), torch.autocast(
                self.device_type, dtype=self.dtype or torch.bfloat16,
                enabled=self.dtype is not None):
            if self.compiled is not None:
                try:
                    return _to_float(self.compiled(*args, **kwargs))
                except Exception as e:  # a genuine error recurs eagerly
                    self._fall_back(e)
            return _to_float(self.fn(*args, **kwargs))


def _device_of(model):
    param = next(iter(model.parameters()), None)
    return param.device if param is not None else torch.device('cpu')


def fast_inference(model, precision='fp32', compile=True,
                   channels_last=None):
    """Prepare ``model`` (a toolbox model or any module, e.g. a backbone)
    for fast inference, in place (see the module docstring); returns it.

    Call it after the weights are loaded: re-parameterisation, BN folding
    and compiling (``freezing``) bake the current weights in. The model is
    for inference only from then on (eval mode, no gradients).

    Args:
        model (nn.Module): The model, on its device.
        precision (str): 'fp32', 'bf16' (CPU with AMX / AVX512-BF16, or
            CUDA) or 'fp16' (CUDA).
        compile (bool): Run through ``torch.compile`` (inductor).
        channels_last (bool | None): Weights in channels_last memory
            format; None: when compiling (measured at 512x512 on a 2-core
            AMX CPU, compiled fp32: EMO-5M 1.39x vs 1.28x over eager, RepViT
            and MobileViT within a few percent either way; eager: slower for
            EMO and RepViT).

    Returns:
        nn.Module: ``model``, with ``model.fast_settings`` (a dict: precision,
        compile, channels_last, switched (re-parameterised modules), folded
        (BatchNorms folded), wrapped (what runs fast)).
    """
    if getattr(model, 'fast_settings', None) is not None:
        raise ValueError('this model was already prepared by '
                         'fast_inference')
    device = _device_of(model)
    dtype = autocast_dtype(precision, device)
    model.eval()
    switched = switch_to_deploy(model)
    folded = fold_batch_norms(model)
    if channels_last is None:
        channels_last = bool(compile)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if callable(getattr(model, 'extract_feat', None)):
        targets = [(model, 'extract_feat')] + [
            (getattr(model, h), 'forward') for h in HEADS
            if isinstance(getattr(model, h, None), torch.nn.Module)]
    else:
        targets = [(model, 'forward')]
    wrapped = []
    for module, name in targets:
        fn = getattr(module, name)
        setattr(module, name, functools.update_wrapper(
            FastCall(fn, device.type, dtype, compile), fn))
        wrapped.append(name if module is model else
                       f'{type(module).__name__}.{name}')
    model.fast_settings = dict(
        precision=precision, compile=compile, channels_last=channels_last,
        switched=switched, folded=folded, wrapped=wrapped)
    print_log(f'fast inference: {describe(model.fast_settings)}',
              logger='current')
    return model


def describe(settings):
    """One line of what :func:`fast_inference` did."""
    parts = [settings['precision']]
    if settings['switched']:
        parts.append('re-parameterised ' + ', '.join(
            n or 'model' for n in settings['switched']))
    parts.append(f'{settings["folded"]} BatchNorms folded')
    if settings['channels_last']:
        parts.append('channels_last')
    parts.append('torch.compile' if settings['compile'] else 'eager')
    return '; '.join(parts) + f' ({", ".join(settings["wrapped"])})'


@HOOKS.register_module()
class FastInferenceHook(Hook):
    """``tools/test.py --fast [--precision bf16]``: prepares the runner's
    model with :func:`fast_inference` before testing (after the checkpoint
    is loaded)."""

    priority = 'LOW'

    def __init__(self, precision='fp32', compile=True, channels_last=None):
        self.precision = precision
        self.compile = compile
        self.channels_last = channels_last

    def before_test(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        fast_inference(model, self.precision, self.compile,
                       self.channels_last)


def add_fast_hook(runner, precision='fp32', compile=True):
    """Register :class:`FastInferenceHook` on ``runner`` (the precision
    checked first: one line saying why the device cannot run it)."""
    try:
        autocast_dtype(precision, _device_of(runner.model))
    except ValueError as e:
        raise ConfigError(f'--precision {precision}: {e}') from None
    runner.register_hook(FastInferenceHook(precision, compile))
