# RepViT-M1.1 on ImageNet-1k with RepViT's recipe (THU-MIG/RepViT main.py):
# 8 GPUs x 256 images, AdamW 4e-3, 300 epochs, RandAugment, random erasing,
# repeated augmentation, mixup/cutmix, label smoothing 0.1, model EMA
# 0.99996, adaptive gradient clipping 0.02; the plain classifier (BN +
# Linear). Difference: no distillation; the published accuracies were
# trained with RegNetY-16GF hard distillation, which is
# repvit-m1-1-distilled_8xb256_in1k.py. Reports top-1 / top-5.
#   python tools/train.py configs/repvit/repvit-m1-1_8xb256_in1k.py
# The trained checkpoint initialises the dense models' backbone:
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=<epoch_300.pth>)
_base_ = [
    '../_base_/models/repvit_cls.py',
    '../_base_/datasets/imagenet_bs256_repvit_224.py',
    '../_base_/schedules/imagenet_bs2048_adamw_repvit.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(backbone=dict(arch='m1_1'), head=dict(in_channels=512))
custom_hooks = [
    dict(type='RandomStateHook'),
    # timm ModelEma: weights and buffers, every iteration
    dict(
        type='EMAHook',
        momentum=4e-5,  # 1 - 0.99996
        update_buffers=True,
        priority='ABOVE_NORMAL'),
]
