# Recipe: RepViT's official ADE20K Semantic FPN.
# Semantic FPN + RepViT-M2.3 on ADE20K, 512x512 crops: RepViT's official recipe
# (46.1 mIoU in its segmentation README; schedule_40k.py: AdamW lr 2e-4, weight
# decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; backbone BN frozen),
# with its taps (the last block of each resolution) and test-time aligned
# resize (see the M1.1 config); repvit_m2_3_ade20k.pth loads as it is.
# The backbone starts from the authors' ImageNet-1k RepViT-M2.3 weights
# (repvit_m2_3_distill_450e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    neck=dict(in_channels=[80, 160, 320, 640]))
