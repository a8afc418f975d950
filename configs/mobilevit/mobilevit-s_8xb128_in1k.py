# MobileViT-S on ImageNet-1k with MobileViT's recipe (paper and
# apple/ml-cvnets config/classification/imagenet/mobilevit.yaml): 8 GPUs x
# 128 images of 256x256 at the base scale of ml-cvnets' multi-scale
# variable-batch sampler (crops 160-320 px, batch scaled to keep the pixels),
# AdamW 2e-3 after a 20k-iteration warm-up from 2e-4, cosine to 2e-4, 300
# epochs, label smoothing 0.1, classifier dropout 0.1, transformer dropout
# 0.1, model EMA (momentum 5e-4); see the _base_ files for the differences
# left. Reports top-1 / top-5.
#   python tools/train.py configs/mobilevit/mobilevit-s_8xb128_in1k.py
# The trained checkpoint initialises the dense models' backbone:
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=<epoch_300.pth>)
_base_ = [
    '../_base_/models/mobilevit_cls.py',
    '../_base_/datasets/imagenet_bs128_mobilevit_256.py',
    '../_base_/schedules/imagenet_bs1024_adamw_mobilevit.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(backbone=dict(arch='s'), head=dict(in_channels=640))
custom_hooks = [
    dict(type='RandomStateHook'),
    # ml-cvnets EMA: weights and buffers, every iteration
    dict(
        type='EMAHook',
        momentum=5e-4,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
]
