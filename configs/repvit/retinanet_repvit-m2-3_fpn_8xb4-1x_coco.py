# Recipe: EMO's RetinaNet (none published for RepViT).
# RetinaNet + RepViT-M2.3 on COCO 2017, 1x schedule on 8 GPUs x 4 images:
# the recipe of retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py
# (EMO's RetinaNet recipe; RepViT published no RetinaNet). The backbone starts
# from the authors' ImageNet-1k RepViT-M2.3 weights
# (repvit_m2_3_distill_450e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './retinanet_repvit-m1-1_fpn_8xb4-1x_coco.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    neck=dict(in_channels=[160, 320, 640]))
