# Recipe: RepViT's official COCO Mask R-CNN.
# Mask R-CNN + RepViT-M1.5 + FPN on COCO, 1x: RepViT's official recipe
# (THU-MIG/RepViT detection/configs/mask_rcnn_repvit_m1_5_fpn_1x_coco.py;
# published 41.6 box AP / 38.6 mask AP), as the M1.1 config (official taps
# [4,10,36,42] into `features`); repvit_m1_5_coco.pth loads as it is.
# The backbone starts from the authors' ImageNet-1k RepViT-M1.5 weights
# (repvit_m1_5_distill_300e.pth, by URL, the official init); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = './mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco.py'
model = dict(
    backbone=dict(arch='m1_5'), neck=dict(in_channels=[64, 128, 256, 512]))
