# Recipe: EMO's SSDLite (none published for RepViT).
# SSDLite + RepViT-M1.0 on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24
# images: the recipe of ssdlite_repvit-m1-1_8xb24-120e_coco-320x320.py
# (EMO's SSDLite recipe; RepViT published no SSDLite). The backbone starts from
# the authors' ImageNet-1k RepViT-M1.0 weights (repvit_m1_0_distill_300e.pth,
# by URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './ssdlite_repvit-m1-1_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='m1_0'),
    neck=dict(
        in_channels=(224, 448), out_channels=(224, 448, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(224, 448, 512, 256, 256, 128)))
