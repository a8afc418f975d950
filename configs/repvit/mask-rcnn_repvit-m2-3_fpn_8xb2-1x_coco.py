# Recipe: RepViT's official COCO Mask R-CNN.
# Mask R-CNN + RepViT-M2.3 + FPN on COCO, 1x: RepViT's official recipe
# (THU-MIG/RepViT detection/configs/mask_rcnn_repvit_m2_3_fpn_1x_coco.py;
# published 44.6 box AP / 40.8 mask AP), as the M1.1 config (official taps
# [6,14,50,54] into `features`); repvit_m2_3_coco.pth loads as it is.
# The backbone starts from the authors' ImageNet-1k RepViT-M2.3 weights
# (repvit_m2_3_distill_450e.pth, by URL, the official init); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = './mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    neck=dict(in_channels=[80, 160, 320, 640]))
