"""Checks of a built runner's model: channels, and the checkpoint it loads.

mmengine loads ``load_from`` / ``tools/test.py CONFIG CKPT`` with
``strict=False``: a checkpoint of another architecture, or one without
weights, only logs the missing keys, and the metrics of a random or
half-loaded model follow with exit code 0. :class:`CheckpointFitHook` looks
at every checkpoint the runner loads, before it goes into the model, and
stops with one line when it leaves a weight of the model unloaded or of
another shape (unless ``allow_partial``). A deploy-form (re-parameterised)
checkpoint for a training-form model switches the model to its deploy form at
test time (logged), and is refused with the option to set otherwise.
"""
import logging
import re
from collections.abc import Mapping

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from ..compat import CheckpointError
from ..models.checks import check_channels
from ..models.downstream import convert_model_state_dict

__all__ = ['CheckpointFitHook', 'CheckpointMismatchError', 'check_model',
           'checkpoint_fit']

_SHOWN = 3  # keys named per kind
_DEPLOY_KEY = '.reparam_conv.'


class CheckpointMismatchError(CheckpointError):
    """A checkpoint that does not fit the model it is loaded into."""


def checkpoint_fit(model, state_dict):
    """``(missing, unexpected, mismatched)`` key lists of loading
    ``state_dict`` into ``model`` the way mmengine does (``module.``
    stripped). BatchNorm's ``num_batches_tracked``, which torch fills in
    when absent, is not counted as missing."""
    state_dict = {re.sub(r'^module\.', '', k): v
                  for k, v in state_dict.items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [
        f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in state_dict.items()
        if k in own and tuple(getattr(v, 'shape', ())) != tuple(own[k].shape)]
    return missing, unexpected, mismatched


def _switch_to_deploy(model):
    """``switch_to_deploy()`` the outermost modules that have it; their
    names."""
    modules = {}
    for name, module in model.named_modules():
        if not any(n == '' or name.startswith(n + '.') for n in modules) \
                and callable(getattr(module, 'switch_to_deploy', None)):
            modules[name] = module
    for module in modules.values():
        module.switch_to_deploy()
    return list(modules)


class CheckpointFitHook(Hook):
    """Refuse a checkpoint that leaves model weights unloaded or mismatched
    (see the module docstring).

    Args:
        allow_partial (bool): Load it anyway, with a warning.
        override (str): How the user allows a partial load (named in the
            error), e.g. ``'--allow-partial'``.
        switch_to_deploy (bool): Switch a training-form model to its deploy
            form for a deploy-form checkpoint (testing); otherwise refuse.
    """
    priority = 'VERY_HIGH'  # before EMAHook & co. read the checkpoint

    def __init__(self, allow_partial=False, override='--allow-partial',
                 switch_to_deploy=False):
        self.allow_partial = allow_partial
        self.override = override
        self.switch_to_deploy = switch_to_deploy

    def after_load_checkpoint(self, runner, checkpoint):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        name = f'checkpoint {runner._load_from}' if runner._load_from \
            else 'the checkpoint'
        state_dict = checkpoint.get('state_dict', checkpoint)
        if not isinstance(state_dict, Mapping):
            raise CheckpointMismatchError(f'{name} holds no weights')
        # backbones in the authors' layout (published downstream files)
        convert_model_state_dict(model, state_dict)
        self._match_form(runner, model, state_dict, name)
        missing, unexpected, mismatched = checkpoint_fit(model, state_dict)
        if not (missing or unexpected or mismatched):
            return
        total = sum(not k.endswith('num_batches_tracked')
                    for k in model.state_dict())
        counts = (f'{len(missing)} of the model\'s {total} weights '
                  f'missing, {len(unexpected)} unexpected, '
                  f'{len(mismatched)} of another shape')
        shown = '; '.join(f'{kind}: {", ".join(keys[:_SHOWN])}'
                          f'{", ..." if len(keys) > _SHOWN else ""}'
                          for kind, keys in (('missing', missing),
                                             ('unexpected', unexpected),
                                             ('shape', mismatched)) if keys)
        message = (f'{name} does not fit the {type(model).__name__} model '
                   f'({counts}; {shown})')
        if (missing or mismatched) and not self.allow_partial:
            raise CheckpointMismatchError(
                f'{message}. Is it the checkpoint of this config? '
                f'{self.override} loads it anyway')
        print_log(message, logger='current', level=logging.WARNING)

    def _match_form(self, runner, model, state_dict, name):
        """Deploy-form weights into a training-form model: switch it (when
        testing on one process) or refuse; and the other way round."""
        ckpt_deploy = any(_DEPLOY_KEY in k for k in state_dict)
        model_deploy = any(_DEPLOY_KEY in k for k in model.state_dict())
        if ckpt_deploy == model_deploy:
            return
        if not ckpt_deploy:
            raise CheckpointMismatchError(
                f'{name} is in training form, but the model is built in '
                'deploy (re-parameterised) form: drop deploy=True from the '
                'backbone, or convert the checkpoint with '
                'tools/deployment/reparameterize.py')
        if not self.switch_to_deploy or is_model_wrapper(runner.model):
            raise CheckpointMismatchError(
                f'{name} is in deploy (re-parameterised) form, but the model '
                'is built in training form: add --cfg-options '
                'model.backbone.deploy=True')
        names = _switch_to_deploy(model)
        print_log(f'{name} is in deploy (re-parameterised) form: switched '
                  f'{", ".join(n or "the model" for n in names)} of the model '
                  'to deploy form to load it', logger='current')


def check_model(runner, allow_partial=False, override='--allow-partial',
                testing=False):
    """Check the channels of ``runner``'s model and register a
    :class:`CheckpointFitHook` for the checkpoints it will load."""
    check_channels(runner.model)
    runner.register_hook(CheckpointFitHook(
        allow_partial, override, switch_to_deploy=testing))
