# Recipe: EMO's RetinaNet (none published for MobileViT).
# RetinaNet + MobileViT-XXS on COCO 2017, 1x schedule on 8 GPUs x 4 images:
# the recipe of retinanet_mobilevit-s_fpn_8xb4-1x_coco.py
# (EMO's RetinaNet recipe; MobileViT published no RetinaNet). The backbone
# starts from the authors' ImageNet-1k MobileViT-XXS weights (mobilevit_xxs.pt,
# by URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './retinanet_mobilevit-s_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='xxs'),
    neck=dict(in_channels=[48, 64, 80]))
