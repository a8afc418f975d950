"""The model zoo: ``configs/<family>/metafile.yml``, gathered by the
top-level ``model-index.yml`` (OpenMMLab's format, which ``mim search``
reads), and the published numbers they hold.

Every model of a metafile is one config. Its ``Metadata`` (``Parameters``,
``FLOPs``) and ``Results`` are the numbers the authors published (papers,
official READMEs; the metafile's comments give the conventions), not this
project's measurements; ``Source`` and ``Notes`` say where they come from.
:func:`lookup` finds the model of a config from what the config builds
(backbone and arch, head or detector, dataset), not from its file name, so a
copy of a config (e.g. the one mmengine dumps into a work dir) finds it too.
"""
import functools
import os.path as osp
import re

import yaml

from .flops import model_complexity
from .model import build_model, load_model_config
from .tables import fmt_flops, fmt_params, markdown_table
from .timing import make_runner, summarize, time_fn

MODEL_INDEX = 'model-index.yml'
TASK_NAMES = {'Semantic Segmentation': 'seg', 'Object Detection': 'det',
              'Instance Segmentation': 'det', 'Image Classification': 'cls'}
# metafile metric name -> the short name the tables print
METRIC_NAMES = {'Top 1 Accuracy': 'top-1', 'Top 5 Accuracy': 'top-5',
                'box AP': 'AP', 'box AP50': 'AP50', 'box AP75': 'AP75',
                'mask AP': 'mask AP'}

_REPVIT = {'m0_9': 'M0.9', 'm1_0': 'M1.0', 'm1_1': 'M1.1', 'm1_5': 'M1.5',
           'm2_3': 'M2.3'}
_MOBILEVIT = {'xxs': 'XXS', 'xx_small': 'XXS', 'xs': 'XS', 'x_small': 'XS',
              's': 'S', 'small': 'S'}
_SEG_HEADS = {'ASPPHead': 'DeepLabv3', 'DeepLabV3Head': 'DeepLabv3',
              'DepthwiseSeparableASPPHead': 'DeepLabv3+', 'PSPHead': 'PSPNet',
              'FPNHead': 'Semantic FPN', 'FCNHead': 'FCN',
              'LRASPPHead': 'LR-ASPP', 'UPerHead': 'UPerNet'}
_DETECTORS = {'RetinaNet': 'RetinaNet', 'MaskRCNN': 'Mask R-CNN',
              'FasterRCNN': 'Faster R-CNN', 'FCOS': 'FCOS'}
_DATASETS = {'ADE20KDataset': 'ADE20K', 'CocoDataset': 'COCO',
             'ImageNet': 'ImageNet-1k', 'PascalVOCDataset': 'PASCAL VOC 2012'}
_SCOPES = {'mmseg': 'seg', 'mmdet': 'det', 'mmpretrain': 'cls'}


def project_root():
    """The folder holding ``model-index.yml`` and ``configs/``: the
    repository of an editable install, else the package's ``.mim`` folder."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.dirname(package), osp.join(package, '.mim')):
        if osp.isfile(osp.join(root, MODEL_INDEX)):
            return root
    raise FileNotFoundError(f'no {MODEL_INDEX} beside the mmlightvit package '
                            f'({osp.dirname(package)}) or in its .mim folder')


def _read_yaml(path):
    if not osp.isfile(path):
        raise FileNotFoundError(f'metafile {path} does not exist')
    with open(path) as f:
        return yaml.safe_load(f) or {}


def _zoo_entry(model, metafile, root):
    """One metafile model as a flat dict (see :func:`load_model_index`)."""
    missing = [k for k in ('Name', 'Config', 'Metadata') if k not in model]
    if missing:
        raise ValueError(f'{metafile}: model {model.get("Name", "?")} lacks '
                         f'{", ".join(missing)}')
    meta = model['Metadata']
    arch = meta.get('Architecture') or []
    results = model.get('Results') or []
    task = TASK_NAMES.get(results[0]['Task']) if results else None
    metrics = {k: v for r in results for k, v in r['Metrics'].items()}
    dataset = results[0]['Dataset'] if results else meta.get('Training Data')
    if task is None:  # no results: the task from what the model is
        task = 'cls' if len(arch) < 2 else (
            'det' if dataset == 'COCO' else 'seg')
    weights = model.get('Weights') or (
        model.get('Converted From') or {}).get('Weights')
    return dict(name=model['Name'], collection=model.get('In Collection'),
                config=osp.join(root, model['Config']), task=task,
                backbone=arch[0] if arch else None,
                head=arch[1] if len(arch) > 1 else 'classifier',
                dataset=dataset, metrics=metrics,
                params=meta.get('Parameters'), flops=meta.get('FLOPs'),
                weights=weights, source=model.get('Source', ''),
                notes=model.get('Notes', ''), metafile=metafile)


@functools.lru_cache()
def load_model_index(index=None):
    """Every model of the metafiles that ``index`` (default: the project's
    ``model-index.yml``) imports, as dicts: name, collection, config
    (absolute path), task ('seg'/'det'/'cls'), backbone, head, dataset,
    metrics (metafile name -> value), params, flops (ints or None),
    weights (URL or None), source, notes, metafile."""
    index = index or osp.join(project_root(), MODEL_INDEX)
    root = osp.dirname(osp.abspath(index))
    entries = []
    for rel in _read_yaml(index).get('Import', []):
        metafile = osp.join(root, rel)
        for model in _read_yaml(metafile).get('Models', []):
            entries.append(_zoo_entry(model, metafile, root))
    return tuple(entries)


def zoo_configs():
    """The config of every model of the zoo, in the metafiles' order."""
    return [e['config'] for e in load_model_index()]


def _get(cfg, key, default=None):
    return cfg.get(key, default) if hasattr(cfg, 'get') else default


def backbone_name(backbone_cfg):
    """'EMO-1M', 'RepViT-M1.1', 'MobileViT-XXS', 'ExMobileViT-928' (or the
    backbone type when unknown)."""
    kind = _get(backbone_cfg, 'type', '')
    kind = kind.split('.')[-1] if isinstance(kind, str) else str(kind)
    arch = str(_get(backbone_cfg, 'arch', ''))
    if kind == 'EMO':
        return f'EMO-{arch.upper()}'
    if kind == 'RepViT':
        return f'RepViT-{_REPVIT.get(arch, arch)}'
    if 'ExMobileViT' in kind:
        return f"ExMobileViT-{arch.replace('ExMobileViT-', '')}"
    if 'MobileViT' in kind:  # whatever name the registry gives it
        return f'MobileViT-{_MOBILEVIT.get(arch, arch.upper())}'
    return f'{kind}-{arch}' if arch else kind


def _head_name(model, task):
    if task == 'seg':
        head = _get(_get(model, 'decode_head', {}), 'type', '')
        return _SEG_HEADS.get(head, head)
    if task == 'det':
        kind = _get(model, 'type', '')
        head = str(_get(_get(model, 'bbox_head', {}), 'type', ''))
        if kind == 'SingleStageDetector' and head.endswith(
                ('SSDHead', 'SSDLiteHead')):
            return 'SSDLite'
        return _DETECTORS.get(kind, kind)
    return 'classifier'


def describe_config(cfg):
    """``dict(task, backbone, head, dataset)`` naming what ``cfg`` (an
    mmengine Config) builds; ``dataset`` starts with 'toy' for the toy data
    sets (so they never match a published entry)."""
    task = _SCOPES.get(cfg.get('default_scope'), cfg.get('default_scope'))
    model = cfg.get('model', {})
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset_cfg = _get(loader, 'dataset', {}) or {}
    # wrappers (RepeatDataset, ConcatDataset...) hold the real one inside
    while isinstance(_get(dataset_cfg, 'dataset'), dict):
        dataset_cfg = dataset_cfg['dataset']
    kind = _get(dataset_cfg, 'type', '')
    dataset = _DATASETS.get(kind, kind or '')
    if 'toy' in str(_get(dataset_cfg, 'data_root', '')).lower():
        dataset = f'toy {dataset}'
    return dict(task=task, backbone=backbone_name(_get(model, 'backbone', {})),
                head=_head_name(model, task), dataset=dataset)


def lookup(cfg):
    """The zoo entry (see :func:`load_model_index`) of what ``cfg`` builds:
    among the entries that describe it, the one of the config's name (a
    variant, e.g. RTMDet-tiny / -s, shares its description), else the only
    one; None if there is none or no way to choose."""
    desc = describe_config(cfg)
    found = [e for e in load_model_index() if all(
        e[k] == desc[k] for k in ('task', 'backbone', 'head', 'dataset'))]
    name = osp.splitext(osp.basename(cfg.filename or ''))[0]
    named = [e for e in found if e['name'] == name]
    return (named or found)[0] if named or len(found) == 1 else None


def format_metrics(entry):
    """'34.4 AP, 54.2 AP50, 36.2 AP75' for tables; '' for no entry."""
    if not entry:
        return ''
    return ', '.join(f'{v:g} {METRIC_NAMES.get(k, k)}'
                     for k, v in entry['metrics'].items())


def published_cells(entry):
    """[metrics, params, FLOPs, source (notes)] of a zoo entry for tables;
    empty cells without one."""
    if not entry:
        return ['', '', '', '']
    source = entry['source'] or entry['notes']
    if entry['source'] and entry['notes']:
        source += f" ({entry['notes']})"
    return [format_metrics(entry),
            fmt_params(entry['params']) if entry['params'] else '',
            fmt_flops(entry['flops']) if entry['flops'] else '', source]


def _rel(path):
    path, root = osp.abspath(path), project_root()
    return osp.relpath(path, root) if path.startswith(root + osp.sep) \
        else path


def stock_references():
    """The stock models the latency column is measured beside, per task:
    ``{task: (label, config path)}`` (mmdet's RTMDet-tiny, CSPNeXt)."""
    import mmdet
    configs = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
    name = 'rtmdet_tiny_8xb32-300e_coco'
    return {'det': (f'mmdet {name} (stock CSPNeXt)',
                    osp.join(configs, 'rtmdet', f'{name}.py'))}


def model_latency(cfg, shape, repeat=10, warmup=2):
    """Median seconds of one forward pass of ``cfg``'s inference model
    (batch 1, eager fp32, initial weights, up to the raw outputs: detectors
    without NMS) on a random ``shape`` image, on the CPU."""
    model = build_model(cfg)
    run = make_runner(model, describe_config(cfg)['task'], shape,
                      mode='tensor')
    return summarize(time_fn(run, repeat, warmup))['median']


def table_row(path, shape=None, published=False, latency=None, label=None):
    """One row of :func:`zoo_table`: ``(task, cells, seconds)``, ``seconds``
    the median latency with ``latency`` (kwargs of :func:`model_latency`),
    else None; a config that fails to build has the task 'error'."""
    name = osp.splitext(osp.basename(path))[0]
    cells = [label or f'[{name}]({_rel(path)})']
    entry = seconds = None
    try:
        cfg = load_model_config(path)
        res = model_complexity(cfg, shape)
        h, w = res['shape']
        params = fmt_params(res['params'])
        if res['aux_params']:
            params += f" (+{fmt_params(res['aux_params'])} aux)"
        task = res['task']
        cells += [params, fmt_flops(res['flops']), f'{h}x{w}']
        entry = lookup(cfg) if published else None
        if latency is not None:
            seconds = model_latency(cfg, res['shape'], **latency)
    except Exception as e:  # a broken config gets a row saying why
        task = 'error'
        cells += [f'{type(e).__name__}: {e}'.splitlines()[0], '', '']
    cells += published_cells(entry) if published else []
    return task, cells, seconds


def _latency_cells(seconds, reference):
    """'ms' and 'time / reference' cells ('' where not measured)."""
    if seconds is None:
        return ['', '']
    ratio = f'{seconds / reference:.2f}' if reference else ''
    ms = seconds * 1e3
    return [f'{ms:.0f}' if ms >= 100 else f'{ms:.3g}', ratio]


SECTIONS = {
    'seg': 'Semantic segmentation (ADE20K; PASCAL VOC 2012: the voc '
           'configs; mIoU)',
    'det': 'Object detection (COCO 2017, box AP)',
    'cls': 'Classification (ImageNet-1k, top-1)',
    'error': 'Configs that failed to build',
}


def zoo_table(paths=None, shape=None, published=False, log=None,
              latency=None, repeat=10):
    """Markdown: one table per task with every config of ``paths`` (default:
    the zoo's), its measured params and FLOPs and, with ``published``, the
    metafiles' numbers. ``log`` gets an ``[n/N] config`` line per config.

    ``latency`` (a regular expression): the configs whose name it matches
    also get their CPU latency (:func:`model_latency`, median of ``repeat``
    runs, with torch's current threads), beside the task's stock reference
    (:func:`stock_references`) measured first, in the same run, whose row
    heads the table.
    """
    import torch
    paths = zoo_configs() if paths is None else list(paths)
    header = ['config', 'params', 'FLOPs', 'input (HxW)']
    if published:
        header += ['published', 'published params', 'published FLOPs',
                   'source']
    timed = set()
    if latency is not None:
        pattern = re.compile(latency)
        timed = {p for p in paths
                 if pattern.search(osp.splitext(osp.basename(p))[0])}
        if not timed:
            raise ValueError(f'the latency pattern {latency!r} matches no '
                             'config of the zoo')
        header += [f'CPU latency (ms, {torch.get_num_threads()} thread(s))',
                   'time / stock']
    rows, references = {}, {}
    jobs = [(p, None) for p in paths]
    if timed:
        jobs = [(p, label) for label, p in stock_references().values()] + jobs
    for i, (path, label) in enumerate(jobs, 1):
        if log:
            log(f'[{i}/{len(jobs)}] {_rel(path)}')
        measure = dict(repeat=repeat) if path in timed or label else None
        task, cells, seconds = table_row(path, shape, published, measure,
                                         label)
        if label:
            references[task] = seconds
        rows.setdefault(task, []).append((cells, seconds))
    rows = {task: [cells + (_latency_cells(seconds, references.get(task))
                            if timed else [])
                   for cells, seconds in task_rows]
            for task, task_rows in rows.items()}
    lines = [
        'Train a config with `python tools/train.py CONFIG` (or '
        '`tools/dist_train.sh CONFIG 8`), test it with `python tools/test.py '
        'CONFIG CHECKPOINT` (or `tools/dist_test.sh CONFIG CHECKPOINT 8`).'
    ]
    for task, title in SECTIONS.items():
        if task in rows:
            lines += ['', f'### {title}', '',
                      *markdown_table(header, rows[task])]
    lines += [
        '',
        'Params and FLOPs of the inference model (segmentors without the '
        'auxiliary head, whose parameters are given as "+aux"), on one '
        'image of the given size, by `tools/analysis_tools/get_flops.py '
        '--all` (mmengine counter; 1 multiply-add = 1 FLOP).',
    ]
    if published:
        lines.append('Published numbers: the `Metadata` and `Results` of '
                     '`configs/<family>/metafile.yml` (their comments give '
                     'the sources\' conventions).')
    if timed:
        lines.append(
            f'CPU latency: median of {repeat} runs of the network (batch 1, '
            'eager fp32, up to the raw outputs: detectors without NMS) on '
            'one image of the given size, measured in the same run as the '
            'stock reference heading the table (`get_flops.py --all '
            f'--latency {latency!r}`); "time / stock" is its latency over '
            "the reference's.")
    return '\n'.join(lines) + '\n'
