# Recipe: CPU demo, the real RTMDet-tiny + RepViT-M0.9 on the toy YOLO set.
# CPU demo and the "your own data" example: the real RTMDet-tiny +
# RepViT-M0.9 of rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py (same backbone,
# PAFPN and head) trained from scratch on a dataset in the YOLO layout, the
# procedural 20-class set made by
#   python tools/dataset_converters/make_toy_data.py yolo --out data/toy/yolo
# read as it is by YOLODataset (class names from data.yaml, labels checked).
# What differs from the real config: the dataset and its 20 classes,
# 128x128 inputs, the stage-2 pipeline from the start (Mosaic/MixUp pay off
# over hundreds of epochs, not 8), 8 epochs of 6 iterations of 16 images
# at the recipe's flat learning rate (its first 150 epochs) after a short
# warm-up, no worker processes. On the default toy set it reaches a COCO
# bbox mAP of about 0.09 (tests/test_yolo_detectors.py prints it); the
# untrained model detects nothing.
_base_ = './rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py'
data_root = 'data/toy/yolo/'
img_scale = (128, 128)
# The head's classes: the 20 names of data.yaml (a head with another number
# is refused at start-up, with both numbers).
num_classes = 20
model = dict(
    backbone=dict(init_cfg=None),  # from scratch
    bbox_head=dict(num_classes=num_classes))

yolo = dict(type='YOLODataset', data_root=data_root, ann_file='data.yaml')
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CheckBoxes'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.75, 1.25),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=img_scale),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
val_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CheckBoxes'),
    dict(type='PackDetInputs', meta_keys=_base_.meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=_base_.meta_keys)
]
loader = dict(batch_size=8, num_workers=0, persistent_workers=False,
              pin_memory=False)
train_dataloader = dict(
    loader,
    batch_size=16,
    dataset=dict(
        **yolo, data_prefix=dict(img='images/train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    loader,
    dataset=dict(
        **yolo, data_prefix=dict(img='images/val/'), pipeline=val_pipeline))
test_dataloader = dict(
    loader,
    dataset=dict(
        **yolo, data_prefix=dict(img='images/val/'), pipeline=test_pipeline))
# no COCO json: CocoMetric builds the ground truth from the dataset
val_evaluator = dict(ann_file=None)
test_evaluator = val_evaluator

max_epochs = 8
train_cfg = dict(
    max_epochs=max_epochs, val_interval=max_epochs, dynamic_intervals=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)
]
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='NumClassCheckHook'),
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0002,
        update_buffers=True,
        priority=49)
]
default_hooks = dict(
    logger=dict(interval=6), checkpoint=dict(interval=max_epochs))
auto_scale_lr = dict(base_batch_size=16)
randomness = dict(seed=0)
