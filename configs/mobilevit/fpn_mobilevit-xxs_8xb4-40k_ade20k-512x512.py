# Recipe: RepViT's ADE20K Semantic FPN (none published for MobileViT).
# Semantic FPN + MobileViT-XXS on ADE20K, 512x512 crops. MobileViT publishes no
# ADE20K recipe: this is the closest published Semantic FPN one, RepViT's
# (schedule_40k.py: AdamW lr 2e-4, weight decay 1e-4, poly, 40k iterations, 8
# GPUs x 4 images), with trainable backbone BN. The backbone starts from the
# authors' ImageNet-1k MobileViT-XXS weights (mobilevit_xxs.pt, by URL); from
# scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './fpn_mobilevit-s_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='xxs'),
    neck=dict(in_channels=[24, 48, 64, 80]))
