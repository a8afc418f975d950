# ImageNet-1k, ExMobileViT's data recipe (the authors' EmPasLab/ExMobileVIT
# dataset/transform.py, torchvision): random resized crops to 256x256
# (bilinear, scale 0.08-1, ratio 3/4-4/3) and horizontal flips; ImageNet
# mean/std normalisation; validation and test: resize to 256x256 (both sides,
# ratio not kept, no crop). 128 images per GPU (the README's command).
# The CenterCrop(256) after the 256x256 resize changes nothing; it keeps the
# pipeline's shape (scale at index 1, crop_size at index 2) that the toy-data
# overrides of the tests and tools rely on.
# Layout: data/imagenet/{train/<wnid>/*.JPEG, val/*.JPEG, meta/{train,val}.txt}
# (toy version: python tools/dataset_converters/make_toy_data.py imagenet).
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
data_preprocessor = dict(
    num_classes=1000,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
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
        type='Resize',
        scale=(256, 256),
        keep_ratio=False,
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
    batch_size=128,
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
