# Recipe: RepViT's official COCO Mask R-CNN.
# Mask R-CNN + RepViT-M1.1 + FPN on COCO, 1x: RepViT's official recipe
# (THU-MIG/RepViT detection/configs/mask_rcnn_repvit_m1_1_fpn_1x_coco.py, mmdet
# 2.28; published 39.8 box AP / 37.2 mask AP): the backbone taps the official
# features [2,6,20,24] (RepViT's stage ends, tap='timm'), BN in eval mode; FPN
# 256 x 5 levels; AdamW lr 2e-4, weight decay 0.05 (all parameters), 8 GPUs x
# 2 images, 12 epochs, 500-iteration linear warm-up from 1e-6 x lr, lr x0.1
# after epochs 8 and 11 (_base_/schedules/schedule_mask-rcnn_repvit_1x.py);
# 1333x800 resize, flip. The published repvit_m1_1_coco.pth (mmdet 2.x) loads
# as it is:
#   python tools/test.py THIS_CONFIG repvit_m1_1_coco.pth
# The backbone starts from the authors' ImageNet-1k RepViT-M1.1 weights
# (repvit_m1_1_distill_300e.pth, by URL, the official init); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/mask-rcnn_repvit_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_mask-rcnn_repvit_1x.py',
    '../_base_/default_runtime_det.py'
]
# RepViT-M1.1: the _base_ model as it is
model = dict(
    backbone=dict(arch='m1_1'), neck=dict(in_channels=[64, 128, 256, 512]))
