# Recipe: EMO's mmdet SSDLite (MobileViT's own is ml-cvnets' SSD).
# SSDLite + MobileViT-XS on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24
# images: the recipe of ssdlite_mobilevit-s_8xb24-120e_coco-320x320.py
# (EMO's mmdet SSDLite recipe; the MobileViT paper's SSDLite-320, 24.8 AP, 2.7M
# parameters, is ml-cvnets' own detector). The backbone starts from the
# authors' ImageNet-1k MobileViT-XS weights (mobilevit_xs.pt, by URL); from
# scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './ssdlite_mobilevit-s_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='xs'),
    neck=dict(
        in_channels=(80, 96), out_channels=(80, 96, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(80, 96, 512, 256, 256, 128)))
