"""Fail early, with one readable message, when a config's data is not there.

Without this check a missing dataset surfaces deep inside a dataloader worker
(or as an empty dataset) long after the model was built. Call
:func:`check_dataset_folders` right after loading the config.
"""
import os
import os.path as osp
import shlex

from mmengine.fileio import list_from_file
from mmengine.registry import DATASETS

__all__ = ['check_dataset_folders', 'dataset_classes', 'leaf_datasets',
           'resolve_type']

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_WRAPPER_KEYS = ('dataset', 'datasets')  # RepeatDataset, ConcatDataset, ...
_TOY_SCRIPT = 'tools/dataset_converters/make_toy_data.py'
_ADE20K_DIRNAME = 'ADEChallengeData2016'


def _type_name(dataset_cfg):
    t = dataset_cfg.get('type', '?')
    name = getattr(t, '__name__', str(t))
    return name.rsplit('.', 1)[-1]  # 'mmseg.ADE20KDataset' -> 'ADE20KDataset'


def leaf_datasets(dataset_cfg, where):
    """Yield ``(where, cfg)`` for every non-wrapper dataset below a cfg."""
    if dataset_cfg is None:
        return
    if isinstance(dataset_cfg, (list, tuple)):
        for i, sub in enumerate(dataset_cfg):
            yield from leaf_datasets(sub, f'{where}[{i}]')
        return
    if not hasattr(dataset_cfg, 'get'):
        return  # an already built dataset object: nothing to check
    for key in _WRAPPER_KEYS:
        if key in dataset_cfg and dataset_cfg[key] is not None:
            yield from leaf_datasets(dataset_cfg[key], f'{where}.{key}')
            return
    yield where, dataset_cfg


def resolve_type(registry, type_, scope):
    """The class that ``type_`` (a name, ``'scope.Name'`` or a class) names
    in ``registry`` under the default scope ``scope``; None if unknown."""
    if not isinstance(type_, str):
        return type_
    with registry.switch_scope_and_registry(scope) as scoped:
        return scoped.get(type_)


def dataset_classes(dataset_cfg, scope):
    """The class names a dataset config will have: its
    ``metainfo.classes`` (a sequence, or a file with one name a line), else
    those of its type's ``METAINFO``, else those a type that reads its class
    list from the data says (``classes_of(dataset_cfg)``, e.g.
    ``YOLODataset``'s ``data.yaml``); None when they cannot be known."""
    classes = (dataset_cfg.get('metainfo') or {}).get('classes')
    if classes is None:
        cls = resolve_type(DATASETS, dataset_cfg.get('type'), scope)
        classes = getattr(cls, 'METAINFO', {}).get('classes')
        if classes is None and hasattr(cls, 'classes_of'):
            classes = cls.classes_of(dataset_cfg)
    if isinstance(classes, str):  # as mmengine reads it: a file, if any
        try:
            classes = list_from_file(classes)
        except (TypeError, FileNotFoundError):
            return None
    return tuple(classes) if classes else None


def _is_remote(path):
    return '://' in path


def _join(data_root, path):
    # The way mmengine's BaseDataset resolves paths: relative to data_root.
    if data_root and not osp.isabs(path):
        return osp.join(data_root, path)
    return path


def _required_paths(dataset_cfg):
    """``[(what, path, is_dir)]`` a dataset needs, data_root first."""
    data_root = dataset_cfg.get('data_root') or None
    if data_root is not None and not isinstance(data_root, str):
        return []
    paths = []
    if data_root:
        paths.append(('data_root', data_root, True))
    data_prefix = dataset_cfg.get('data_prefix') or {}
    if hasattr(data_prefix, 'items'):
        for key, prefix in data_prefix.items():
            if isinstance(prefix, str) and prefix.strip('./'):
                paths.append((f'data_prefix.{key}', _join(data_root, prefix),
                              True))
    ann_file = dataset_cfg.get('ann_file')
    if isinstance(ann_file, str) and ann_file:
        paths.append(('ann_file', _join(data_root, ann_file), False))
    return [(what, osp.normpath(p), is_dir) for what, p, is_dir in paths
            if not _is_remote(p)]


def _ade20k_help(data_root):
    root = osp.normpath(data_root or _ADE20K_DIRNAME)
    layout = '\n'.join([
        f'  {root}/',
        '    images/training/          ADE_train_00000001.jpg ...',
        '    images/validation/        ADE_val_00000001.jpg ...',
        '    annotations/training/     ADE_train_00000001.png ...'
        '  (uint8 labels 0..150, 0 = other/ignore)',
        '    annotations/validation/   ADE_val_00000001.png ...',
    ])
    parent = osp.dirname(root) or '.'
    command = (f'python {_TOY_SCRIPT} ade20k --out {shlex.quote(parent)}')
    if osp.basename(root) != _ADE20K_DIRNAME:
        command += (f'   (it writes {osp.join(parent, _ADE20K_DIRNAME)}; '
                    f'point data_root there)')
    real = ('download ADEChallengeData2016.zip (http://data.csail.mit.edu/'
            'places/ADEchallenge/ADEChallengeData2016.zip) and unzip it into '
            f'{parent}/.')
    return layout, _how_to_get(root, real, command)


def _how_to_get(root, real, toy_command):
    """Where to get the real data, and the toy-data command (first, for a
    toy-data config)."""
    toy = ('a small procedural toy set in that layout (for trying the '
           f'pipeline, not for real numbers):\n  {toy_command}')
    if 'toy' in root.split(os.sep):
        return f'Make {toy}'
    return f'Get the real data: {real}\nOr make {toy}'


def _coco_help(data_root):
    root = osp.normpath(data_root or 'data/coco')
    layout = '\n'.join([
        f'  {root}/',
        '    annotations/instances_train2017.json',
        '    annotations/instances_val2017.json',
        '    train2017/                000000000009.jpg ...',
        '    val2017/                  000000000139.jpg ...',
    ])
    real = ('download train2017.zip, val2017.zip and '
            'annotations_trainval2017.zip from https://cocodataset.org/#download '
            f'and unzip them into {root}/.')
    return layout, _how_to_get(
        root, real, f'python {_TOY_SCRIPT} coco --out {shlex.quote(root)}')


def _imagenet_help(data_root):
    root = osp.normpath(data_root or 'data/imagenet')
    layout = '\n'.join([
        f'  {root}/',
        '    train/n01440764/          n01440764_10026.JPEG ...',
        '    val/                      ILSVRC2012_val_00000001.JPEG ...',
        '    meta/train.txt            "n01440764/n01440764_10026.JPEG 0" ...',
        '    meta/val.txt              "ILSVRC2012_val_00000001.JPEG 65" ...',
    ])
    real = ('download ILSVRC2012 from https://image-net.org/ (train, val and '
            'the meta files as mmpretrain documents them) into '
            f'{root}/.')
    return layout, _how_to_get(
        root, real, f'python {_TOY_SCRIPT} imagenet --out {shlex.quote(root)}')


def _generic_help(dataset_cfg, data_root):
    lines = [f'  {osp.normpath(data_root)}/'] if data_root else []
    for what, path, is_dir in _required_paths(dataset_cfg):
        if what != 'data_root':
            shown = osp.relpath(path, data_root) if data_root else path
            lines.append(f'    {shown}{"/" if is_dir else ""}'
                         f'{" " * max(1, 26 - len(shown))}({what})')
    return '\n'.join(lines), ('Put the dataset there, or change data_root / '
                              'data_prefix / ann_file in the config.')


_HELP = {
    'ADE20KDataset': _ade20k_help,
    'CocoDataset': _coco_help,
    'ImageNet': _imagenet_help,
}


def _path_problem(what, path, is_dir):
    """'not found', 'is empty' (a data folder without a single entry) or
    None."""
    if not (osp.isdir(path) if is_dir else osp.isfile(path)):
        return 'not found'
    if is_dir and what != 'data_root':
        with os.scandir(path) as entries:
            if next(entries, None) is None:
                return 'is empty'
    return None


def check_dataset_folders(cfg, dataloaders=_DATALOADERS):
    """Raise ``FileNotFoundError`` if a dataset folder/file of ``cfg`` is
    missing, or a data folder is empty.

    Walks ``cfg.<name>.dataset`` for every name in ``dataloaders`` that the
    config defines (through wrappers such as ``RepeatDataset`` and
    ``ConcatDataset``) and checks its ``data_root``, every ``data_prefix``
    folder (``img_path``, ``seg_map_path``, ``img``, ...) and its
    ``ann_file``, resolved as mmengine's ``BaseDataset`` resolves them.
    Remote paths (``s3://...``) are not checked.

    The error is a single message naming the missing path(s), the layout the
    dataset type expects (ADE20K, COCO or, for other types, the layout the
    config asks for) and how to get the data, including the command that
    writes toy data where one exists.

    Args:
        cfg (mmengine.Config | dict): The loaded config.
        dataloaders (Sequence[str]): Dataloader keys to check. Train scripts
            can check all three; a test script only ``('test_dataloader',)``.

    Raises:
        FileNotFoundError: If anything is missing.
    """
    # (where, type name, dataset cfg, what, path, is_dir, problem)
    missing = []
    seen = set()
    for name in dataloaders:
        loader = cfg.get(name) if hasattr(cfg, 'get') else None
        if not loader or not hasattr(loader, 'get'):
            continue
        for where, ds in leaf_datasets(loader.get('dataset'),
                                       f'{name}.dataset'):
            for what, path, is_dir in _required_paths(ds):
                if path in seen or any(
                        path.startswith(m + os.sep) for m in seen):
                    continue  # already reported, or below a missing folder
                problem = _path_problem(what, path, is_dir)
                if problem is None:
                    continue
                seen.add(path)
                missing.append((where, _type_name(ds), ds, what, path, is_dir,
                                problem))
    if not missing:
        return
    missing.sort(key=lambda m: m[-1] != 'not found')  # missing ones first
    where, type_name, ds, what, path, is_dir, problem = missing[0]
    kind = 'folder' if is_dir else 'file'
    msg = [f'Dataset {kind} {problem}: {path}',
           f'  ({what} of {where}, type {type_name})']
    for o_where, _, _, o_what, o_path, o_is_dir, o_problem in missing[1:]:
        msg.append(f'Also {"missing" if o_problem == "not found" else "empty"}'
                   f': {o_path}{"/" if o_is_dir else ""}'
                   f'  ({o_what} of {o_where})')
    data_root = ds.get('data_root') or None
    layout, get = _HELP.get(type_name,
                            lambda r: _generic_help(ds, r))(data_root)
    msg += ['', f'{type_name} expects this layout:', layout, '', get]
    raise FileNotFoundError('\n'.join(msg))
