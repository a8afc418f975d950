# Recipe: RepViT's official ADE20K Semantic FPN.
# Semantic FPN + RepViT-M1.5 on ADE20K, 512x512 crops: RepViT's official recipe
# (43.6 mIoU in its segmentation README; schedule_40k.py: AdamW lr 2e-4, weight
# decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; backbone BN frozen),
# with its taps (the last block of each resolution) and test-time aligned
# resize (see the M1.1 config); repvit_m1_5_ade20k.pth loads as it is.
# The backbone starts from the authors' ImageNet-1k RepViT-M1.5 weights
# (repvit_m1_5_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='m1_5'))
