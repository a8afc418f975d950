# mmdet's YOLOX data settings (yolox_s_8xb8-300e_coco.py) on COCO 2017 at
# 640x640, with the sample checks of coco_detection.py: the training set in
# a MultiImageMixDataset (images loaded, annotations loaded and checked by
# the inner dataset) through Mosaic -> RandomAffine (scale 0.1-2) -> MixUp
# (0.8-1.6) -> YOLOXHSVRandomAug -> flip -> resize to fit 640 -> pad to a
# 640 square (value 114) -> drop boxes under 1 pixel; the schedule's
# YOLOXModeSwitchHook turns Mosaic, RandomAffine and MixUp off for the last
# 15 epochs (schedule_yolox-300e.py). Multi-scale training is in the model
# (BatchSyncRandomResize). Evaluation: resize to fit 640, pad to a square.
# 'instances' in the packed meta information lets CocoMetric build the
# ground truth itself when a dataset has no COCO json (ann_file=None, e.g.
# YOLODataset).
_base_ = './coco_detection.py'
img_scale = (640, 640)  # width, height
backend_args = None
train_pipeline = [
    dict(type='Mosaic', img_scale=img_scale, pad_val=114.0),
    dict(
        type='RandomAffine',
        scaling_ratio_range=(0.1, 2),
        border=(-img_scale[0] // 2, -img_scale[1] // 2)),
    dict(
        type='MixUp',
        img_scale=img_scale,
        ratio_range=(0.8, 1.6),
        pad_val=114.0),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'instances')
val_pipeline = [
    dict(type='CheckedLoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CheckBoxes'),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    batch_sampler=None,
    dataset=dict(
        _delete_=True,
        type='MultiImageMixDataset',
        dataset=dict(
            type=_base_.dataset_type,
            data_root=_base_.data_root,
            ann_file='annotations/instances_train2017.json',
            data_prefix=dict(img='train2017/'),
            pipeline=[
                dict(
                    type='CheckedLoadImageFromFile',
                    backend_args=backend_args),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='CheckBoxes')
            ],
            filter_cfg=dict(filter_empty_gt=False, min_size=32),
            backend_args=backend_args),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=4, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
