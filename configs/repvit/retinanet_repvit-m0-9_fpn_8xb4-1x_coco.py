# Recipe: EMO's RetinaNet (none published for RepViT).
# RetinaNet + RepViT-M0.9 on COCO 2017, 1x schedule on 8 GPUs x 4 images:
# the recipe of retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py
# (EMO's RetinaNet recipe; RepViT published no RetinaNet). The backbone starts
# from the authors' ImageNet-1k RepViT-M0.9 weights
# (repvit_m0_9_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='m0_9'),
    neck=dict(in_channels=[96, 192, 384]))
