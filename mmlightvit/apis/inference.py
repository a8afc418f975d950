"""One image through a config and checkpoint with the toolboxes' own
inferencers (mmseg ``MMSegInferencer``, mmdet ``DetInferencer``, mmpretrain
``ImageClassificationInferencer``), and the ground truth of that image when
the user has it (``demo/image_demo.py``)."""
import copy
import inspect
import json
import os.path as osp

import numpy as np
from mmengine.registry import DATASETS
from PIL import Image

from .fast import fast_inference
from .model import load_model_config, task_of, test_pipeline

# pipeline steps that read or check ground truth: a lone image has none
_GT_STEPS = ('Annotations', 'CheckSegLabels', 'CheckBoxes')
# what the inferencers build when a config names no visualizer
_VISUALIZERS = {'seg': 'SegLocalVisualizer', 'det': 'DetLocalVisualizer',
                'cls': 'UniversalVisualizer'}


def inference_config(cfg):
    """A copy of ``cfg`` whose test pipeline suits a lone image: the steps
    that read or check ground truth dropped, the checking image loader
    (``CheckedLoadImageFromFile``) as mmcv's ``LoadImageFromFile``, which
    the inferencers look for; the toolbox's visualizer when it names none
    (the inferencers build one)."""
    cfg = copy.deepcopy(cfg)
    if not cfg.get('visualizer'):
        cfg.visualizer = dict(type=_VISUALIZERS[task_of(cfg)])
    pipeline = []
    for t in test_pipeline(cfg):
        kind = str(t.get('type', '')).split('.')[-1]
        if any(kind.endswith(s) for s in _GT_STEPS):
            continue
        if kind == 'CheckedLoadImageFromFile':
            t = dict(t, type='LoadImageFromFile')
            t.pop('on_error', None)
        pipeline.append(t)
    for key in ('test_dataloader', 'val_dataloader'):
        if cfg.get(key):
            dataset = cfg[key].dataset
            while 'pipeline' not in dataset and 'dataset' in dataset:
                dataset = dataset.dataset
            dataset.pipeline = pipeline
    cfg.test_dataloader = cfg.get('test_dataloader') or cfg.val_dataloader
    cfg.test_pipeline = pipeline
    return cfg


def _dataset_cfg(cfg):
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset', {})
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def _dataset_class(cfg):
    """The class of the config's test dataset (None if it names none)."""
    kind = _dataset_cfg(cfg).get('type')
    if not kind:
        return None
    with DATASETS.switch_scope_and_registry(cfg.default_scope) as registry:
        return registry.get(kind) if isinstance(kind, str) else kind


def dataset_meta_from_config(cfg):
    """Classes and palette of the config's test dataset (its class's
    METAINFO, updated by the config's ``metainfo``)."""
    dataset = _dataset_cfg(cfg)
    meta = dict(getattr(_dataset_class(cfg), 'METAINFO', {}) or {})
    meta.update(dataset.get('metainfo') or {})
    return {k: meta.get(k) for k in ('classes', 'palette')}


def predict(image, config, checkpoint, device='cpu', cfg_options=None,
            fast=False, precision='fp32'):
    """Run the toolbox's inferencer of ``config`` (path or Config) with the
    weights of ``checkpoint`` on the image file ``image``; with ``fast``,
    through :func:`mmlightvit.apis.fast_inference` at ``precision``.

    Returns a dict: task, sample (the toolbox's data sample), classes,
    palette (from the checkpoint's ``dataset_meta``, else the config's
    dataset), cfg (the config used), reduce_zero_label (of the config's
    annotations, for the ground truth).
    """
    for path, what in ((image, 'image'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    cfg = load_model_config(config, cfg_options)
    zero_label = task_of(cfg) == 'seg' and reduce_zero_label(cfg)
    cfg = inference_config(cfg)
    task = task_of(cfg)
    if task == 'seg':
        from mmseg.apis import MMSegInferencer
        inferencer = MMSegInferencer(model=cfg, weights=checkpoint,
                                     device=device)
        inferencer.show_progress = False

        def run():
            return inferencer(image, return_datasamples=True)
    elif task == 'det':
        from mmdet.apis import DetInferencer
        inferencer = DetInferencer(model=cfg, weights=checkpoint,
                                   device=device, show_progress=False)

        def run():
            return inferencer(image, return_datasamples=True,
                              no_save_vis=True)['predictions'][0]
    else:
        from mmpretrain.apis import ImageClassificationInferencer
        inferencer = ImageClassificationInferencer(
            model=cfg, pretrained=checkpoint, device=device)

        def run():
            return inferencer(image, return_datasamples=True)[0]
    if fast:
        fast_inference(inferencer.model, precision)
    sample = run()
    meta = dataset_meta_from_config(cfg)
    saved = _checkpoint_dataset_meta(checkpoint)
    meta.update({k: v for k, v in saved.items() if v})
    return dict(task=task, sample=sample, cfg=cfg,
                reduce_zero_label=zero_label, **meta)


def _checkpoint_dataset_meta(checkpoint):
    """``meta.dataset_meta`` (classes, palette) saved with a checkpoint by
    training, else empty."""
    from ..compat import load_local_checkpoint
    meta = (load_local_checkpoint(checkpoint, map_location='cpu').get(
        'meta') or {}).get('dataset_meta') or {}
    return {k: meta.get(k) for k in ('classes', 'palette')}


def reduce_zero_label(cfg):
    """Whether the config's annotations shift labels down by one (0 =
    ignored, ADE20K's convention): from its test pipeline's
    ``LoadAnnotations``, else its dataset config, else its dataset class's
    default."""
    for t in test_pipeline(cfg):
        if isinstance(t, dict) and 'reduce_zero_label' in t:
            return bool(t['reduce_zero_label'])
    dataset = _dataset_cfg(cfg)
    if 'reduce_zero_label' in dataset:
        return bool(dataset['reduce_zero_label'])
    cls = _dataset_class(cfg)
    param = inspect.signature(cls).parameters.get('reduce_zero_label') \
        if cls else None
    return bool(param is not None and param.default is True)


def load_ground_truth(task, gt, image, classes=None, zero_label=False):
    """The ground truth of ``image`` in the form
    :func:`mmlightvit.visualization.paint` takes.

    ``gt``: segmentation, the label PNG of the image (shifted down by one
    with 0 ignored when ``zero_label``); detection, a COCO JSON file holding
    the image (found by file name; categories matched to ``classes`` by
    name); classification, a class name or index.
    """
    if task == 'cls':
        names = [str(c) for c in classes or []]
        if gt in names:
            return names.index(gt)
        if str(gt).isdigit():
            return int(gt)
        raise ValueError(f'--gt {gt}: not a class index or one of the '
                         f'{len(names)} class names')
    if not osp.isfile(gt):
        raise FileNotFoundError(f'ground truth {gt} does not exist')
    if task == 'seg':
        labels = np.asarray(Image.open(gt)).astype(np.int64)
        if labels.ndim != 2:
            raise ValueError(f'{gt}: a label map has one channel, this one '
                             f'has shape {labels.shape}')
        if zero_label:
            labels = np.where(labels == 0, 255, labels - 1)
            labels[labels == 254] = 255
        return labels
    with open(gt) as f:
        coco = json.load(f)
    name = osp.basename(image)
    ids = [im['id'] for im in coco.get('images', [])
           if osp.basename(im.get('file_name', '')) == name]
    if not ids:
        raise ValueError(f'{gt} has no image named {name}')
    names = [str(c) for c in classes or []]
    category = {c['id']: c['name'] for c in coco.get('categories', [])}
    bboxes, labels = [], []
    for ann in coco.get('annotations', []):
        if ann.get('image_id') != ids[0] or ann.get('iscrowd', 0):
            continue
        cat = category.get(ann['category_id'])
        if cat not in names:
            raise ValueError(f'{gt}: category {cat!r} is not one of the '
                             f"model's classes")
        x, y, w, h = ann['bbox']
        bboxes.append([x, y, x + w, y + h])
        labels.append(names.index(cat))
    return dict(bboxes=np.array(bboxes, np.float64).reshape(-1, 4),
                labels=np.array(labels, np.int64))
