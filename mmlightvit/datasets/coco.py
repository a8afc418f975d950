"""The check of COCO annotation files: what mmdet would drop in silence.

mmdet's ``CocoDataset`` leaves out, without a word, annotations with a
non-positive size, boxes that lie fully outside their image and annotations
of categories it does not know; a box partly outside its image is kept as it
is, and a missing image file surfaces only when it is loaded. And a set whose
category names are not the dataset's classes (a 3-class set read as the 80
COCO classes) ends in ``need at least one array to concatenate``.
:func:`check_coco_annotations` reads each annotation file a config uses once,
before the run, and reports every such image by file: it refuses them
(``on_error='raise'`` of the pipeline's ``CheckBoxes``, the default), or
hands them to ``CheckBoxes(bad_images=...)``, which skips them in training
and drops them from the metrics at evaluation, as for segmentation.
"""
import json
import logging
import os.path as osp

from mmengine.logging import print_log
from mmengine.registry import DATASETS

from .checks import dataset_classes, leaf_datasets, resolve_type
from .transforms import BadSampleError

__all__ = ['DatasetConfigError', 'check_coco_annotations', 'coco_problems']

_LISTED = 10  # problems named in an error / in the log, per file


class DatasetConfigError(ValueError):
    """A dataset config that does not fit its data."""


def coco_problems(coco, img_dir, tolerance=1.0):
    """``{image id: message}`` for the images of a COCO dict whose file is
    missing or whose annotations mmdet cannot use as they are (the first
    problem of each image, naming the file and the annotation id)."""
    images = {img['id']: img for img in coco.get('images', [])}
    categories = {cat['id'] for cat in coco.get('categories', [])}
    problems = {}
    for img_id, img in images.items():
        path = osp.join(img_dir, img['file_name'])
        if not osp.isfile(path):
            problems[img_id] = f'{path}: image file not found'
    t = tolerance
    for ann in coco.get('annotations', []):
        img = images.get(ann.get('image_id'))
        if img is None or img['id'] in problems:
            continue
        x, y, w, h = ann['bbox']
        width, height = img['width'], img['height']
        where = (f'{osp.join(img_dir, img["file_name"])}: annotation '
                 f'{ann.get("id")}')
        if w <= 0 or h <= 0:
            problem = f'box {[x, y, w, h]} (x, y, w, h) has no area'
        elif x < -t or y < -t or x + w > width + t or y + h > height + t:
            problem = (f'box {[x, y, w, h]} (x, y, w, h) lies outside the '
                       f'{width}x{height} image')
        elif ann.get('category_id') not in categories:
            problem = (f'category_id {ann.get("category_id")} is not one of '
                       f'the file\'s categories')
        else:
            continue
        problems[img['id']] = f'{where}: {problem}'
    return problems


def _check_classes(coco, classes, ann_file, where):
    """The file's category names and the dataset's classes: mmdet keeps the
    categories named by ``classes``, labelled in the file's order."""
    names = [cat['name'] for cat in coco.get('categories', [])]
    kept = [n for n in names if n in classes]
    hint = (f'give {where} metainfo=dict(classes={tuple(names)}) and the '
            f'head num_classes={len(names)}')
    if not kept:
        raise DatasetConfigError(
            f'{ann_file}: none of its {len(names)} categories '
            f'{names[:_LISTED]} is a class of {where} ({len(classes)} '
            f'classes: {list(classes[:5])}...): {hint}')
    missing = [c for c in classes if c not in names]
    if missing:
        raise DatasetConfigError(
            f'{ann_file}: the classes {missing[:_LISTED]} of {where} are '
            f'not categories of the file ({names[:_LISTED]}...): {hint}')
    if kept != [c for c in classes if c in kept]:
        raise DatasetConfigError(
            f'{ann_file}: mmdet labels the categories in the file\'s order '
            f'{kept[:_LISTED]}, not in the order of the classes of {where} '
            f'{list(classes[:_LISTED])}: list metainfo.classes in the '
            'file\'s order')


def _check_boxes_cfg(pipeline):
    """The ``CheckBoxes`` step of a pipeline config (None if it has none)."""
    for step in pipeline or []:
        if hasattr(step, 'get') and str(step.get('type', '')).split(
                '.')[-1] == 'CheckBoxes':
            return step
    return None


def _is_coco(dataset_cfg, scope):
    cls = resolve_type(DATASETS, dataset_cfg.get('type'), scope)
    return cls is not None and any(c.__name__ == 'CocoDataset'
                                   for c in cls.__mro__)


def _join(root, path):
    return osp.join(root, path) if root and not osp.isabs(path) else path


def check_coco_annotations(cfg, dataloaders):
    """Check the COCO annotation files of ``cfg``'s datasets (those of the
    ``dataloaders`` keys) before the run.

    Raises:
        DatasetConfigError: the file's categories are not the dataset's
            classes (none of them, some missing, or in another order).
        BadSampleError: images with a missing file or unusable annotations,
            when the pipeline's ``CheckBoxes`` has ``on_error='raise'``
            (or there is no ``CheckBoxes``); each is named with its problem.
            Otherwise they are logged and given to ``CheckBoxes``.
    """
    scope, loaded = cfg.get('default_scope'), {}
    for name in dataloaders:
        loader = cfg.get(name)
        if not hasattr(loader, 'get'):
            continue
        for where, ds in leaf_datasets(loader.get('dataset'),
                                       f'{name}.dataset'):
            ann_file = ds.get('ann_file')
            if not (isinstance(ann_file, str) and ann_file.endswith('.json')
                    and _is_coco(ds, scope)):
                continue
            root = ds.get('data_root') or ''
            ann_file = _join(root, ann_file)
            if '://' in ann_file or not osp.isfile(ann_file):
                continue  # remote, or reported by check_dataset_folders
            img_dir = _join(root, (ds.get('data_prefix') or {}).get('img', ''))
            if ann_file not in loaded:
                with open(ann_file) as f:
                    coco = json.load(f)
                loaded[ann_file] = (coco, coco_problems(coco, img_dir))
            coco, problems = loaded[ann_file]
            classes = dataset_classes(ds, scope)
            if classes:
                _check_classes(coco, classes, ann_file, where)
            _apply(problems, _check_boxes_cfg(ds.get('pipeline')), ann_file,
                   where)


def _apply(problems, check_boxes, ann_file, where):
    if not problems:
        return
    on_error = check_boxes.get('on_error', 'raise') if check_boxes else 'raise'
    listed = [f'  {m}' for m in list(problems.values())[:_LISTED]]
    if len(problems) > _LISTED:
        listed.append(f'  ... and {len(problems) - _LISTED} more')
    head = (f'{ann_file}: {len(problems)} image(s) with a missing file or '
            f'annotations mmdet would drop in silence ({where})')
    if on_error == 'raise':
        raise BadSampleError('\n'.join(
            [head + ':', *listed,
             'Fix the file, or set on_error=\'skip\' on the CheckBoxes step '
             'of the pipeline to leave these images out.']))
    print_log('\n'.join([head + f', left out (on_error={on_error!r}):',
                         *listed]), logger='current', level=logging.WARNING)
    check_boxes['bad_images'] = [[img_id, message]
                                 for img_id, message in problems.items()]
