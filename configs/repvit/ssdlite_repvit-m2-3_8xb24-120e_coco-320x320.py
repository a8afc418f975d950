# Recipe: EMO's SSDLite (none published for RepViT).
# SSDLite + RepViT-M2.3 on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24
# images: the recipe of ssdlite_repvit-m1-1_8xb24-120e_coco-320x320.py
# (EMO's SSDLite recipe; RepViT published no SSDLite). The backbone starts from
# the authors' ImageNet-1k RepViT-M2.3 weights (repvit_m2_3_distill_450e.pth,
# by URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './ssdlite_repvit-m1-1_8xb24-120e_coco-320x320.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    neck=dict(
        in_channels=(320, 640), out_channels=(320, 640, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(320, 640, 512, 256, 256, 128)))
