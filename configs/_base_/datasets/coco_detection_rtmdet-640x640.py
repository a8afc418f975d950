# mmdet's RTMDet data settings (rtmdet_tiny_8xb32-300e_coco.py) on COCO 2017
# at 640x640, with the sample checks of coco_detection.py. Training stage 1
# (all but the last 20 epochs): CachedMosaic -> RandomResize (1280x1280 x
# 0.5-2.0) -> RandomCrop 640 -> YOLOXHSVRandomAug -> flip -> pad to 640
# (value 114) -> CachedMixUp; the stage-2 pipeline (no Mosaic/MixUp) is
# switched in by the schedule (schedule_rtmdet-300e.py, PipelineSwitchHook).
# `train_pipeline` is RTMDet-tiny's (smaller mosaic/mixup caches, mixup on
# half the batches); `train_pipeline_s` is RTMDet-s's, for the rtmdet_s_*
# configs. Evaluation: resize to fit 640x640, pad to 640x640.
# 'instances' in the packed meta information lets CocoMetric build the
# ground truth itself when a dataset has no COCO json (ann_file=None, e.g.
# YOLODataset); with an ann_file it is not used.
_base_ = './coco_detection.py'
img_scale = (640, 640)
backend_args = None


def _train_pipeline(mosaic, mixup):
    return [
        dict(type='CheckedLoadImageFromFile', backend_args=backend_args),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='CheckBoxes'),
        dict(type='CachedMosaic', img_scale=img_scale, pad_val=114.0,
             **mosaic),
        dict(
            type='RandomResize',
            scale=(img_scale[0] * 2, img_scale[1] * 2),
            ratio_range=(0.5, 2.0),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=img_scale),
        dict(type='YOLOXHSVRandomAug'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
        dict(
            type='CachedMixUp',
            img_scale=img_scale,
            ratio_range=(1.0, 1.0),
            pad_val=(114, 114, 114),
            **mixup),
        dict(type='PackDetInputs')
    ]


train_pipeline = _train_pipeline(
    dict(max_cached_images=20, random_pop=False),
    dict(max_cached_images=10, random_pop=False, prob=0.5))
train_pipeline_s = _train_pipeline(dict(), dict(max_cached_images=20))
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'instances')
val_pipeline = [
    dict(type='CheckedLoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CheckBoxes'),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=32,
    num_workers=10,
    batch_sampler=None,
    pin_memory=True,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=5, num_workers=10, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=5, num_workers=10, dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(proposal_nums=(100, 1, 10))
test_evaluator = val_evaluator
