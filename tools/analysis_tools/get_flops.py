"""Parameters and FLOPs of a config's model (mmseg/mmdet/mmpretrain
``tools/analysis_tools/get_flops.py``, counted by mmengine's
``FlopAnalyzer`` / ``parameter_count``).

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--cfg-options k=v ...]
    python tools/analysis_tools/get_flops.py --all [--published]
        [--out FILE.md]

What is counted is the inference model on one random image of the input
shape, up to the raw network outputs (mode='tensor', the convention of
mmseg/mmdet's get_flops): segmentors without their auxiliary head (training
only; its parameters are printed apart) up to the decode head's logits,
detectors up to the head's per-level cls scores / bbox preds (no NMS),
classifiers up to the logits. Input shape: segmentation 512x512, detection
the config's test scale (``Resize`` scale of the test pipeline, h x w,
padded to the data preprocessor's ``pad_size_divisor``), classification the
test crop of the config or 224x224; ``--shape`` overrides it.

FLOPs follow mmengine's (fvcore's) convention: one multiply-add = one FLOP
(so they compare with papers' "MACs"), element-wise ops (activations,
additions, softmax) are not counted. ``F.scaled_dot_product_attention``,
which mmengine does not know, is counted here as its two matrix products.

The helpers here (:func:`load_model_config`, :func:`build_model`,
:func:`model_complexity`, ...) are shared by the other analysis and
deployment tools.
"""
import argparse
import copy
import glob
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import torch  # noqa: E402
from mmengine.analysis import FlopAnalyzer, parameter_count  # noqa: E402
from mmengine.analysis.jit_handles import get_shape  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import mmlightvit  # noqa: E402,F401  (compat fixes + registry)
from mmlightvit.compat import sync_bn_to_bn  # noqa: E402
from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.published import format_metrics, lookup  # noqa: E402

TASKS = {'mmseg': 'seg', 'mmdet': 'det', 'mmpretrain': 'cls'}
SEG_SHAPE = (512, 512)
CLS_SHAPE = (224, 224)
DET_SHAPE = (800, 1333)  # when the test pipeline names no scale


# -- configs and models -------------------------------------------------------
def load_model_config(config, cfg_options=None):
    """An mmengine Config from a file (or a copy of a Config) with
    ``cfg_options`` merged and SyncBN turned into BN (the tools here run in
    one process)."""
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config} does not exist')
        cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('default_scope') not in TASKS:
        raise ValueError(f'{cfg.filename}: default_scope must be one of '
                         f'{tuple(TASKS)}, got {cfg.get("default_scope")!r}')
    cfg.model = sync_bn_to_bn(cfg.model)
    return cfg


def task_of(cfg):
    """'seg', 'det' or 'cls', from the config's default_scope."""
    return TASKS[cfg.default_scope]


def _test_pipeline(cfg):
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset', {}) if hasattr(loader, 'get') else {}
    while isinstance(dataset, dict) and 'pipeline' not in dataset \
            and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    pipeline = dataset.get('pipeline') if isinstance(dataset, dict) else None
    return list(pipeline or cfg.get('test_pipeline') or [])


def _flat_transforms(pipeline):
    for t in pipeline:
        if not isinstance(t, dict):
            continue
        yield t
        for key in ('transforms', 'transforms_list'):  # TTA / wrappers
            inner = t.get(key)
            if isinstance(inner, (list, tuple)):
                flat = []
                for x in inner:
                    flat.extend(x if isinstance(x, (list, tuple)) else [x])
                yield from _flat_transforms(flat)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def default_input_shape(cfg):
    """(H, W) the FLOPs are counted at (see the module docstring)."""
    task = task_of(cfg)
    if task == 'seg':
        return SEG_SHAPE
    transforms = list(_flat_transforms(_test_pipeline(cfg)))
    if task == 'det':
        shape = DET_SHAPE
        for t in transforms:
            if t.get('scale') is not None and 'Resize' in t.get('type', ''):
                w, h = _pair(t['scale'])  # mmdet/mmcv scales are (w, h)
                shape = (h, w)
                break
        preprocessor = cfg.model.get('data_preprocessor') or {}
        divisor = preprocessor.get('pad_size_divisor', 1) or 1
        return tuple(-(-s // divisor) * divisor for s in shape)
    for t in transforms:  # cls: the test crop
        for key in ('crop_size', 'size'):
            if t.get(key) is not None and 'Crop' in t.get('type', ''):
                w, h = _pair(t[key])
                return (h, w)
    return CLS_SHAPE


def build_model(cfg, device='cpu', with_aux=False, checkpoint=None):
    """The config's model in eval mode on ``device``, with the weights of
    ``checkpoint`` (loaded by mmengine, non-strict) or as initialised by the
    constructors (no pretrained loading); segmentors lose their auxiliary
    head (after loading) unless ``with_aux``."""
    cfg = copy.deepcopy(cfg)
    init_default_scope(cfg.default_scope)
    if task_of(cfg) == 'seg':
        cfg.model.pop('pretrained', None)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
        load_checkpoint(model, checkpoint, map_location='cpu')
    if not with_aux and getattr(model, 'auxiliary_head', None) is not None:
        model.auxiliary_head = None
    return model.to(device).eval()


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# -- FLOPs --------------------------------------------------------------------
def _sdpa_flop_jit(inputs, outputs):
    """``F.scaled_dot_product_attention(q, k, v)``: ``q @ k^T`` and
    ``attn @ v`` (multiply-adds)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


EXTRA_FLOP_HANDLES = {'aten::scaled_dot_product_attention': _sdpa_flop_jit}
# ops whose cost mmengine leaves out on purpose (element-wise, cheap)
_ELEMENTWISE = ('add', 'sub', 'mul', 'div', 'neg', 'rsub', 'silu', 'gelu',
                'relu', 'relu6', 'hardtanh', 'sigmoid', 'hardsigmoid',
                'hardswish', 'softmax', 'mean', 'pad', 'constant_pad_nd',
                'feature_dropout', 'dropout', 'sqrt', 'pow', 'exp', 'clamp',
                'max_pool2d', 'avg_pool2d', 'adaptive_avg_pool2d', 'sum',
                'expand_as', 'flatten', 'cat', 'stack', 'max', 'min')


class _TensorForward(torch.nn.Module):
    """``model(x)`` in mode='tensor' (raw outputs), for the jit trace."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


@torch.no_grad()
def model_complexity(config, shape=None, cfg_options=None, device='cpu'):
    """Params and FLOPs of ``config`` (path or Config) at ``shape`` (H, W).

    Returns a dict: task, shape, params (inference model), aux_params
    (segmentors' auxiliary head, else 0), flops, unsupported (non
    element-wise ops the counter skipped: name -> count).
    """
    cfg = load_model_config(config, cfg_options)
    task = task_of(cfg)
    shape = tuple(shape) if shape else default_input_shape(cfg)
    full = build_model(cfg, device, with_aux=True)
    aux = getattr(full, 'auxiliary_head', None)
    aux_params = num_params(aux) if aux is not None else 0
    if aux is not None:
        full.auxiliary_head = None
    model = full
    params = parameter_count(model)['']
    x = torch.randn(1, 3, *shape, device=device)
    analyzer = FlopAnalyzer(_TensorForward(model), (x, ))
    analyzer.set_op_handle(**EXTRA_FLOP_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    flops = analyzer.total()
    unsupported = {
        op: n for op, n in analyzer.unsupported_ops().items()
        if op.split('::')[-1].rstrip('_') not in _ELEMENTWISE}
    return dict(task=task, shape=shape, params=params, aux_params=aux_params,
                flops=flops, unsupported=unsupported)


def fmt_params(n):
    return f'{n / 1e6:.2f}M'


def fmt_flops(n):
    return f'{n / 1e9:.2f}G' if n >= 1e9 else f'{n / 1e6:.0f}M'


# -- the table of all configs -------------------------------------------------
def list_configs(root=osp.join(ROOT, 'configs')):
    """Every config under ``root`` except ``_base_``, sorted."""
    paths = glob.glob(osp.join(root, '**', '*.py'), recursive=True)
    return sorted(p for p in paths
                  if '_base_' not in osp.relpath(p, root).split(osp.sep))


def _rel(path):
    path = osp.abspath(path)
    return osp.relpath(path, ROOT) if path.startswith(ROOT + osp.sep) \
        else path


def table_row(path, shape=None, published=False):
    """One Markdown row (a list of cells) of :func:`all_configs_table`."""
    name = osp.splitext(osp.basename(path))[0]
    cells = [f'[{name}]({_rel(path)})']
    try:
        cfg = load_model_config(path)
        res = model_complexity(cfg, shape)
        h, w = res['shape']
        params = fmt_params(res['params'])
        if res['aux_params']:
            params += f" (+{fmt_params(res['aux_params'])} aux)"
        cells += [res['task'], params, fmt_flops(res['flops']), f'{h}x{w}']
        entry = lookup(cfg) if published else None
    except Exception as e:  # a broken config gets a row saying why
        cells += ['error', f'{type(e).__name__}: {e}'.splitlines()[0], '', '']
        entry = None
    if published:
        if entry:
            source = entry['source'] + (f" ({entry['note']})"
                                        if entry['note'] else '')
            cells += [format_metrics(entry), entry['params'] or '',
                      entry['flops'] or '', source]
        else:
            cells += ['', '', '', '']
    return cells


_SECTIONS = {
    'seg': 'Semantic segmentation (ADE20K, mIoU)',
    'det': 'Object detection (COCO 2017, box AP)',
    'cls': 'Classification (ImageNet-1k, top-1)',
    'error': 'Configs that failed to build',
}


def all_configs_table(paths=None, shape=None, published=False, log=None):
    """Markdown: one table per task (segmentation, detection, classification)
    with every config, its params and FLOPs (and the published numbers)."""
    header = ['config', 'params', 'FLOPs', 'input (HxW)']
    if published:
        header += ['published', 'published params', 'published FLOPs',
                   'source']
    rows = {}
    for path in paths if paths is not None else list_configs():
        if log:
            log(f'{_rel(path)} ...')
        cells = table_row(path, shape, published)
        rows.setdefault(cells.pop(1), []).append(cells)
    lines = [
        'Train a config with `python tools/train.py CONFIG` (or '
        '`tools/dist_train.sh CONFIG 8`), test it with `python tools/test.py '
        'CONFIG CHECKPOINT` (or `tools/dist_test.sh CONFIG CHECKPOINT 8`).'
    ]
    for task, title in _SECTIONS.items():
        if task not in rows:
            continue
        lines += ['', f'### {title}', '',
                  '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
        lines += ['| ' + ' | '.join(c.replace('|', '/') for c in cells) + ' |'
                  for cells in rows[task]]
    lines += [
        '',
        'Params and FLOPs of the inference model (segmentors without the '
        'auxiliary head, whose parameters are given as "+aux"), on one '
        'image of the given size, by `tools/analysis_tools/get_flops.py '
        '--all` (mmengine counter; 1 multiply-add = 1 FLOP).',
    ]
    if published:
        lines.append('Published numbers: see `mmlightvit/published.py` for '
                     'their sources and conventions.')
    return '\n'.join(lines) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of a config (or of all configs)')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input H W (or one side); default: seg 512x512, '
                        "det the config's test scale, cls its test crop/224")
    parser.add_argument('--all', action='store_true',
                        help='one Markdown table for every config in configs/')
    parser.add_argument('--published', action='store_true',
                        help='with --all: add the published numbers')
    parser.add_argument('--out', help='with --all: write the table here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.shape is not None:
        if len(args.shape) not in (1, 2):
            parser.error('--shape takes H W or one side')
        args.shape = tuple(args.shape * 2 if len(args.shape) == 1
                           else args.shape)
    if bool(args.all) == bool(args.config):
        parser.error('give a CONFIG or --all (not both)')
    if (args.out or args.published) and not args.all:
        parser.error('--out and --published go with --all')
    return args


def main(argv=None):
    torch.set_num_threads(min(torch.get_num_threads(), 4))
    args = parse_args(argv)
    if args.all:
        table = all_configs_table(
            shape=args.shape, published=args.published,
            log=lambda s: print(s, file=sys.stderr, flush=True))
        if args.out:
            with open(args.out, 'w') as f:
                f.write(table)
            print(f'table written to {args.out}')
        print(table)
        return table
    res = model_complexity(args.config, args.shape, args.cfg_options)
    h, w = res['shape']
    split = '=' * 30
    print(f'{split}\nConfig: {args.config}\nTask: {res["task"]}\n'
          f'Input shape: {h}x{w}\n'
          f'Flops: {fmt_flops(res["flops"])} ({res["flops"]})\n'
          f'Params: {fmt_params(res["params"])} ({res["params"]})')
    if res['aux_params']:
        print(f'Auxiliary head (training only, not counted): '
              f'{fmt_params(res["aux_params"])} ({res["aux_params"]})')
    if res['unsupported']:
        print('Ops not counted: ' + ', '.join(
            f'{op} x{n}' for op, n in sorted(res['unsupported'].items())))
    print(split)
    return res


if __name__ == '__main__':
    run_cli(main)
