# Recipe: RepViT's ADE20K Semantic FPN (published for M1.1/1.5/2.3, not M1.0).
# Semantic FPN + RepViT-M1.0 on ADE20K, 512x512 crops: RepViT publishes no M1.0
# segmentation model; this is its official recipe for M1.1/M1.5/M2.3
# (schedule_40k.py: AdamW lr 2e-4, weight decay 1e-4, poly, 40k iterations, 8
# GPUs x 4 images; backbone BN frozen; the official taps, the last block of
# each resolution, and test-time aligned resize: see the M1.1 config). The
# backbone starts from the authors' ImageNet-1k RepViT-M1.0 weights
# (repvit_m1_0_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='m1_0'),
    neck=dict(in_channels=[56, 112, 224, 448]))
