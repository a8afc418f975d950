# ImageNet-1k, MobileViT's data recipe (apple/ml-cvnets
# config/classification/imagenet/mobilevit.yaml): random resized crops
# (bilinear) and flips only, drawn by ml-cvnets' multi-scale variable-batch
# sampler (VariableBatchSampler: every batch at one of the crop sizes 160,
# 192, 256, 288, 320 -- 5 scales from 160 to 320 plus the base 256, multiples
# of 32 -- with 327, 227, 128, 101 or 81 images per GPU, the pixels of 128
# crops of 256x256); inputs are RGB in [0, 1] (no mean/std); test: resize the
# short side to 288, centre crop 256, 100 per GPU. Base batch 128 per GPU (x 8
# GPUs = 1024).
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
        type='VariableRandomResizedCrop',  # at the size of its batch
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
    batch_sampler=dict(
        type='VariableBatchSampler',
        base_size=256,
        min_size=160,
        max_size=320,
        num_scales=5,
        size_divisor=32),
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
