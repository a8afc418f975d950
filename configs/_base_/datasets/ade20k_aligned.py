# ADE20K (ade20k.py) evaluated with the test-time resize of RepViT's official
# segmentation code: its mmseg 0.x configs (the PoolFormer / EfficientFormer
# ade20k.py, as logged with the published models) validate and test with
# `AlignResize(keep_ratio=True, size_divisor=32)` at img_scale (2048, 512):
# the image is rescaled keeping its ratio to fit 2048x512, then resized
# (bilinear) so that both sides are the next multiple of 32 above. mmseg 1.x:
# Resize(keep_ratio=True) then ResizeToMultiple(size_divisor=32) (ceil, as
# AlignResize). The prediction is resized back to the original image and
# compared with the untouched annotation, as in mmseg 0.x.
_base_ = './ade20k.py'
val_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
