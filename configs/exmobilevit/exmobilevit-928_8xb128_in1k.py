# Recipe: ExMobileViT's ImageNet-1k training, as its authors trained it.
# ExMobileViT-928 on ImageNet-1k with the recipe of the authors' code
# (EmPasLab/ExMobileVIT, PyTorch Lightning, for arXiv 2309.01310): 256x256
# random resized crops and flips, ImageNet mean/std normalisation, label
# smoothing 0.1, AdamW 2e-3 (weight decay 0.01), 12-epoch linear warm-up from 2e-4 chained with a per-epoch
# cosine (period 288 epochs, to 2e-4), 300 epochs, no EMA, no dropout before
# the Linear layer; evaluation: the image resized to 256x256 (no crop).
# Differences: 8 GPUs x 128 (the authors: 6 x 128, README); the model is
# ml-cvnets' MobileViT-S with the ExMobileViT classifier (the authors' code
# re-implements MobileViT-S with its own transformer widths). Reports top-1 /
# top-5.
#   python tools/train.py configs/exmobilevit/exmobilevit-928_8xb128_in1k.py
# The trained checkpoint initialises the dense models' backbone, with
# ex_context=True also its ExShortcuts (from the head):
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=<epoch_300.pth>)
_base_ = [
    '../_base_/models/exmobilevit_cls.py',
    '../_base_/datasets/imagenet_bs128_exmobilevit_256.py',
    '../_base_/schedules/imagenet_bs1024_adamw_exmobilevit.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(backbone=dict(arch='928'), head=dict(arch='928'))
# no EMA (the authors' Lightning module averages nothing)
custom_hooks = [dict(type='RandomStateHook')]
