# ImageNet-1k, MobileViT's data recipe (apple/ml-cvnets
# config/classification/imagenet/mobilevit.yaml): random resized crops
# (bilinear) and flips only; inputs are RGB in [0, 1] (no mean/std); test:
# resize the short side to 288, centre crop 256. 128 images per GPU (x 8 GPUs
# = 1024).
# Difference: ml-cvnets trains with its multi-scale variable-batch sampler
# (crops of 160..320 px in 5 scales, batch size scaled inversely to the crop
# area, base 256x256 x 128); mmpretrain has no such sampler, so the closest
# mmpretrain form is the sampler's base scale: 256x256 crops, 128 per GPU.
# Layout: data/imagenet/{train/<wnid>/*.JPEG, val/*.JPEG, meta/{train,val}.txt}
# (toy version: python tools/dataset_converters/make_toy_data.py imagenet).
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
data_preprocessor = dict(
    num_classes=1000,
    mean=[0, 0, 0],
    std=[255, 255, 255],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=256,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=288,
        edge='short',
        backend='pillow',
        interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=100,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
