# Recipe: EMO's RetinaNet (none published for RepViT).
# RetinaNet + RepViT-M2.3 on COCO 2017, 1x schedule on 8 GPUs x 4 images:
# the recipe of retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py
# (EMO's RetinaNet recipe; RepViT published no RetinaNet). Pretrained
# backbone: as there, with checkpoints/repvit_m2_3_distill_300e.pth.
_base_ = './retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='m2_3'),
    neck=dict(in_channels=[160, 320, 640]))
