"""A config's model for the analysis and deployment tools: the config loaded
for one process, the input shape the tools count and time at, the model
built (with a checkpoint's weights or as initialised)."""
import argparse
import copy
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint

from ..compat import sync_bn_to_bn

TASKS = {'mmseg': 'seg', 'mmdet': 'det', 'mmpretrain': 'cls'}
SEG_SHAPE = (512, 512)
CLS_SHAPE = (224, 224)
DET_SHAPE = (800, 1333)  # when the test pipeline names no scale


def load_model_config(config, cfg_options=None):
    """An mmengine Config from a file (or a copy of a Config) with
    ``cfg_options`` merged and SyncBN turned into BN (the tools run in one
    process)."""
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


def test_pipeline(cfg):
    """The transforms of the config's test (else val) dataset, looking
    through dataset wrappers; else its ``test_pipeline``."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset', {}) if hasattr(loader, 'get') else {}
    while isinstance(dataset, dict) and 'pipeline' not in dataset \
            and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    pipeline = dataset.get('pipeline') if isinstance(dataset, dict) else None
    return list(pipeline or cfg.get('test_pipeline') or [])


def flat_transforms(pipeline):
    """Every transform dict of ``pipeline``, including those inside
    wrappers (TTA, RandomChoice...)."""
    for t in pipeline:
        if not isinstance(t, dict):
            continue
        yield t
        for key in ('transforms', 'transforms_list'):
            inner = t.get(key)
            if isinstance(inner, (list, tuple)):
                flat = []
                for x in inner:
                    flat.extend(x if isinstance(x, (list, tuple)) else [x])
                yield from flat_transforms(flat)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def default_input_shape(cfg):
    """(H, W) the tools count and time at: segmentation 512x512, detection
    the test scale (padded to the preprocessor's ``pad_size_divisor``),
    classification the test crop, else 224x224."""
    task = task_of(cfg)
    if task == 'seg':
        return SEG_SHAPE
    transforms = list(flat_transforms(test_pipeline(cfg)))
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
    for t in transforms:
        for key in ('crop_size', 'size'):
            if t.get(key) is not None and 'Crop' in t.get('type', ''):
                w, h = _pair(t[key])
                return (h, w)
    return CLS_SHAPE


def parse_shape(values):
    """``--shape`` values: ``None``, one side or H W -> ``(H, W)``."""
    if values is None:
        return None
    values = list(values)
    if len(values) not in (1, 2) or min(values) < 1:
        raise ValueError(f'--shape takes H W or one side (positive), got '
                         f'{" ".join(map(str, values))}')
    return tuple(values * 2 if len(values) == 1 else values)


class ShapeAction(argparse.Action):
    """``--shape H W`` or ``--shape SIDE`` (``nargs='+', type=int``) stored
    as ``(H, W)``; anything else is a usage error."""

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            setattr(namespace, self.dest, parse_shape(values))
        except ValueError as e:
            raise argparse.ArgumentError(self, str(e))


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


def dummy_data_samples(task, shape, batch_size):
    """Data samples with the meta information ``predict`` needs for images
    that are already at ``shape`` (no resizing, no padding)."""
    h, w = shape
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
    if task == 'seg':
        from mmseg.structures import SegDataSample
        return [SegDataSample(metainfo=dict(meta, padding_size=[0, 0, 0, 0]))
                for _ in range(batch_size)]
    if task == 'det':
        from mmdet.structures import DetDataSample
        return [DetDataSample(metainfo=dict(
            meta, batch_input_shape=(h, w), scale_factor=(1.0, 1.0)))
            for _ in range(batch_size)]
    from mmpretrain.structures import DataSample
    return [DataSample(metainfo=meta) for _ in range(batch_size)]


def random_seg_batch(shape, batch_size, num_classes, seed=0):
    """A training batch for a segmentor's data preprocessor: random uint8
    images at ``shape`` and random labels of ``num_classes`` classes, the top
    eighth of every label map ignored (255)."""
    from mmengine.structures import PixelData
    gen = torch.Generator().manual_seed(seed)
    samples = dummy_data_samples('seg', shape, batch_size)
    for sample in samples:
        label = torch.randint(0, num_classes, (1, *shape), generator=gen)
        label[:, :shape[0] // 8] = 255
        sample.gt_sem_seg = PixelData(data=label)
    images = [torch.randint(0, 256, (3, *shape), generator=gen,
                            dtype=torch.uint8) for _ in range(batch_size)]
    return dict(inputs=images, data_samples=samples)


def loss_step(model, batch):
    """One training step without the optimizer: the data preprocessor, the
    forward pass with the losses and the backward pass. Returns ``(logged
    values, gradient vector, seconds)``."""
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    loss, logged = model.parse_losses(model(**data, mode='loss'))
    loss.backward()
    seconds = time.perf_counter() - start
    grads = torch.cat([p.grad.flatten() for p in model.parameters()
                       if p.grad is not None])
    return logged, grads, seconds


def num_params(module):
    return sum(p.numel() for p in module.parameters())
