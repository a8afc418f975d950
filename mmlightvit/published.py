"""Published numbers of the original works, for the model zoo tables.

Copied from the papers / official READMEs (EMO: zhangzjn/EMO, RepViT:
THU-MIG/RepViT, MobileViT: apple/ml-cvnets and its paper, ExMobileViT: arXiv
2309.01310). ``tools/analysis_tools/get_flops.py --all --published`` and
``tools/analysis_tools/results_table.py`` put them beside this project's
configs and runs; :func:`lookup` finds the entry of a config from what the
config builds (backbone + arch, head / detector, dataset), not from its file
name.

Units and conventions of the sources: metrics in percent; "FLOPs" as the
sources print them (EMO and RepViT count multiply-adds, i.e. FLOPs = MACs, as
mmengine's counter does); params in millions as printed (EMO's dense-task
params include the auxiliary head). ``params_exact`` is the count of the
official classification model with its 1000-class head.
"""

__all__ = ['PUBLISHED', 'METRIC_NAMES', 'backbone_name', 'describe_config',
           'format_metrics', 'lookup']

# mmengine metric key -> the name the tables print
METRIC_NAMES = {
    'mIoU': 'mIoU',
    'aAcc': 'aAcc',
    'mAcc': 'mAcc',
    'coco/bbox_mAP': 'AP',
    'coco/bbox_mAP_50': 'AP50',
    'coco/bbox_mAP_75': 'AP75',
    'coco/bbox_mAP_s': 'APs',
    'coco/bbox_mAP_m': 'APm',
    'coco/bbox_mAP_l': 'APl',
    'accuracy/top1': 'top-1',
    'accuracy/top5': 'top-5',
}


def _seg(backbone, head, miou, aacc=None, params=None, flops=None,
         source='', dataset='ADE20K', note=''):
    metrics = {'mIoU': miou}
    if aacc is not None:
        metrics['aAcc'] = aacc
    return dict(task='seg', backbone=backbone, head=head, dataset=dataset,
                metrics=metrics, params=params, flops=flops, source=source,
                note=note)


def _det(backbone, head, ap, ap50=None, ap75=None, params=None, flops=None,
         source='', note=''):
    metrics = {'coco/bbox_mAP': ap}
    if ap50 is not None:
        metrics['coco/bbox_mAP_50'] = ap50
    if ap75 is not None:
        metrics['coco/bbox_mAP_75'] = ap75
    return dict(task='det', backbone=backbone, head=head, dataset='COCO',
                metrics=metrics, params=params, flops=flops, source=source,
                note=note)


def _cls(backbone, top1, params=None, flops=None, params_exact=None,
         source='', note=''):
    return dict(task='cls', backbone=backbone, head='classifier',
                dataset='ImageNet-1k',
                metrics={} if top1 is None else {'accuracy/top1': top1},
                params=params, flops=flops, params_exact=params_exact,
                source=source, note=note)


PUBLISHED = [
    # ImageNet-1k classification (224x224; MobileViT 256x256)
    _cls('EMO-1M', 71.5, '1.3M', '261M', 1361168, 'EMO README'),
    _cls('EMO-2M', 75.1, '2.3M', '439M', 2377472, 'EMO README'),
    _cls('EMO-5M', 78.4, '5.1M', '903M', 5108848, 'EMO README'),
    _cls('EMO-6M', 79.0, '6.1M', '961M', 6168496, 'EMO README'),
    _cls('RepViT-M0.9', 78.7, '5.1M', '0.8G', 5103560, 'RepViT README',
         note='300 epochs; MACs'),
    _cls('RepViT-M1.0', 80.0, '6.8M', '1.1G', 6852900, 'RepViT README',
         note='MACs'),
    _cls('RepViT-M1.1', 80.7, '8.2M', '1.3G', 8288888, 'RepViT README',
         note='MACs'),
    _cls('RepViT-M1.5', 82.3, '14.0M', '2.3G', 14130408, 'RepViT README',
         note='MACs'),
    _cls('RepViT-M2.3', 83.3, '22.9M', '4.5G', 23046512, 'RepViT README',
         note='MACs'),
    _cls('MobileViT-XXS', 69.0, '1.3M', None, 1272024, 'MobileViT paper'),
    _cls('MobileViT-XS', 74.8, '2.3M', None, 2317848, 'MobileViT paper'),
    _cls('MobileViT-S', 78.4, '5.6M', None, 5578632, 'MobileViT paper'),
    _cls('ExMobileViT-640', None, '5.553M', None, None, 'ExMobileViT paper',
         note='params without the ExShortcut convs'),
    _cls('ExMobileViT-928', None, None, None, None, 'ExMobileViT paper',
         note='+5.16% params and +0.68 top-1 over MobileViT-S'),
    # ADE20K semantic segmentation (512x512, single scale)
    _seg('EMO-1M', 'DeepLabv3', 33.5, 75.0, '5.6M', '2.4G', 'EMO README'),
    _seg('EMO-2M', 'DeepLabv3', 35.3, 75.6, '6.9M', '3.5G', 'EMO README'),
    _seg('EMO-5M', 'DeepLabv3', 37.8, 77.6, '10.3M', '5.8G', 'EMO README'),
    _seg('EMO-1M', 'PSPNet', 33.2, 74.8, '4.3M', '2.1G', 'EMO README'),
    _seg('EMO-2M', 'PSPNet', 34.5, 75.5, '5.5M', '3.1G', 'EMO README'),
    _seg('EMO-5M', 'PSPNet', 38.2, 77.6, '8.5M', '5.3G', 'EMO README'),
    _seg('RepViT-M1.1', 'Semantic FPN', 40.6,
         source='RepViT segmentation README', note='40k iters, 8 GPUs'),
    _seg('RepViT-M1.5', 'Semantic FPN', 43.6,
         source='RepViT segmentation README', note='40k iters, 8 GPUs'),
    _seg('RepViT-M2.3', 'Semantic FPN', 46.1,
         source='RepViT segmentation README', note='40k iters, 8 GPUs'),
    _seg('MobileViT-S', 'DeepLabv3', 79.1, params='6.4M',
         source='MobileViT paper', dataset='PASCAL VOC 2012'),
    # COCO 2017 detection (box AP)
    _det('EMO-1M', 'SSDLite', 22.0, 37.3, 22.0, '2.3M', '0.6G', 'EMO README'),
    _det('EMO-2M', 'SSDLite', 25.2, 42.0, 25.3, '3.3M', '0.9G', 'EMO README'),
    _det('EMO-5M', 'SSDLite', 27.9, 45.2, 28.1, '6.0M', '1.8G', 'EMO README'),
    _det('EMO-1M', 'RetinaNet', 34.4, 54.2, 36.2, '10.4M', '163G',
         'EMO README'),
    _det('EMO-2M', 'RetinaNet', 36.2, 56.6, 38.1, '11.5M', '167G',
         'EMO README'),
    _det('EMO-5M', 'RetinaNet', 38.9, 59.8, 41.0, '14.4M', '178G',
         'EMO README'),
    _det('MobileViT-XXS', 'SSDLite', 18.5, params='1.7M',
         source='MobileViT paper', note='320x320'),
    _det('MobileViT-XS', 'SSDLite', 24.8, params='2.7M',
         source='MobileViT paper', note='320x320'),
    _det('MobileViT-S', 'SSDLite', 27.7, params='5.7M',
         source='MobileViT paper', note='320x320'),
    _det('RepViT-M1.1', 'Mask R-CNN', 39.8, source='RepViT detection README',
         note='mask AP 37.2'),
]

# -- naming what a config builds ----------------------------------------------
_REPVIT = {'m0_9': 'M0.9', 'm1_0': 'M1.0', 'm1_1': 'M1.1', 'm1_5': 'M1.5',
           'm2_3': 'M2.3'}
_MOBILEVIT = {'xxs': 'XXS', 'xx_small': 'XXS', 'xs': 'XS', 'x_small': 'XS',
              's': 'S', 'small': 'S'}
_SEG_HEADS = {'ASPPHead': 'DeepLabv3', 'DepthwiseSeparableASPPHead':
              'DeepLabv3+', 'PSPHead': 'PSPNet', 'FPNHead': 'Semantic FPN',
              'FCNHead': 'FCN', 'LRASPPHead': 'LR-ASPP', 'UPerHead': 'UPerNet'}
_DETECTORS = {'RetinaNet': 'RetinaNet', 'MaskRCNN': 'Mask R-CNN',
              'FasterRCNN': 'Faster R-CNN', 'FCOS': 'FCOS'}
_DATASETS = {'ADE20KDataset': 'ADE20K', 'CocoDataset': 'COCO',
             'ImageNet': 'ImageNet-1k', 'PascalVOCDataset': 'PASCAL VOC 2012'}
_TASKS = {'mmseg': 'seg', 'mmdet': 'det', 'mmpretrain': 'cls'}


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
    if kind == 'MobileViT':
        return f'MobileViT-{_MOBILEVIT.get(arch, arch.upper())}'
    if kind == 'ExMobileViT':
        return f"ExMobileViT-{arch.replace('ExMobileViT-', '')}"
    return f'{kind}-{arch}' if arch else kind


def _head_name(model, task):
    if task == 'seg':
        head = _get(_get(model, 'decode_head', {}), 'type', '')
        return _SEG_HEADS.get(head, head)
    if task == 'det':
        kind = _get(model, 'type', '')
        if kind == 'SingleStageDetector' and _get(_get(
                model, 'bbox_head', {}), 'type') in ('SSDHead', 'SSDLiteHead'):
            return 'SSDLite'
        return _DETECTORS.get(kind, kind)
    return 'classifier'


def describe_config(cfg):
    """``dict(task, backbone, head, dataset)`` naming what ``cfg`` (an
    mmengine Config) builds; ``dataset`` starts with 'toy' for the toy data
    sets (so they never match a published entry)."""
    task = _TASKS.get(cfg.get('default_scope'), cfg.get('default_scope'))
    model = cfg.get('model', {})
    dataset = ''
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
    """The :data:`PUBLISHED` entry for what ``cfg`` builds, or None."""
    desc = describe_config(cfg)
    for entry in PUBLISHED:
        if all(entry[k] == desc[k]
               for k in ('task', 'backbone', 'head', 'dataset')):
            return entry
    return None


def format_metrics(entry):
    """'34.4 AP, 54.2 AP50, 36.2 AP75' for tables; '' for no entry."""
    if not entry:
        return ''
    return ', '.join(f'{v:g} {METRIC_NAMES.get(k, k)}'
                     for k, v in entry['metrics'].items())
