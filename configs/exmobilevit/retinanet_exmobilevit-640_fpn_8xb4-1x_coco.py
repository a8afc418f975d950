# Recipe: EMO's RetinaNet (none published for ExMobileViT).
# RetinaNet + ExMobileViT-640 on COCO 2017, 1x schedule on 8 GPUs x 4 images:
# the recipe of retinanet_exmobilevit-928_fpn_8xb4-1x_coco.py
# (no published ExMobileViT detector; EMO's RetinaNet recipe), ExShortcut
# context on the stride-32 level (160 + 160 channels).
_base_ = './retinanet_exmobilevit-928_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='640'),
    neck=dict(in_channels=[96, 128, 320]))
