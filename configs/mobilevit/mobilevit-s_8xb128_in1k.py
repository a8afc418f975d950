# MobileViT-S on ImageNet-1k with MobileViT's recipe (paper and
# apple/ml-cvnets): 8 GPUs x 128 images of 256x256, AdamW 2e-3, 300 epochs,
# label smoothing 0.1, classifier dropout 0.1, model EMA (momentum 5e-4).
# ml-cvnets' multi-scale variable-batch sampler is replaced by its base
# scale (see the _base_ files). Not kept: the transformer dropout 0.1 of the
# ml-cvnets config (MobileViT here has stochastic depth, drop_path_rate, but
# no dropout inside the transformer). Reports top-1 / top-5.
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
