# Recipe: RepViT's official ADE20K Semantic FPN.
# Semantic FPN + RepViT-M2.3 on ADE20K, 512x512 crops: RepViT's official recipe
# (46.1 mIoU in its segmentation README; schedule_40k.py: AdamW lr 2e-4, weight
# decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; backbone BN frozen). The
# features are taken one block before the official segmentation taps (see
# _base_/models/fpn_repvit.py). To start from ImageNet-1k RepViT-M2.3 weights
# (official, timm or converted), add
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=checkpoints/repvit_m2_3_distill_450e.pth
_base_ = './fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='m2_3'),
    neck=dict(in_channels=[80, 160, 320, 640]))
