# ExMobileViT-928 on ImageNet-1k. The paper trains as MobileViT does, so this
# is MobileViT's recipe (mobilevit-s_8xb128_in1k.py: 8 GPUs x 128 images of
# 256x256, AdamW 2e-3, weight decay 0.01, 300 epochs, label smoothing 0.1,
# model EMA) on the ExMobileViT classifier (no dropout before its Linear
# layer, as the authors' code). The authors' code (EmPasLab/ExMobileVIT,
# PyTorch Lightning) differs in details: ImageNet mean/std normalisation,
# warm-up from 2e-4 over the first 12 epochs, no EMA, 256x256 resize without
# crop for validation. Reports top-1 / top-5.
#   python tools/train.py configs/exmobilevit/exmobilevit-928_8xb128_in1k.py
# The trained checkpoint initialises the dense models' backbone, with
# ex_context=True also its ExShortcuts (from the head):
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=<epoch_300.pth>)
_base_ = [
    '../_base_/models/exmobilevit_cls.py',
    '../_base_/datasets/imagenet_bs128_mobilevit_256.py',
    '../_base_/schedules/imagenet_bs1024_adamw_mobilevit.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(backbone=dict(arch='928'), head=dict(arch='928'))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(
        type='EMAHook',
        momentum=5e-4,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
]
