# Recipe: EMO's SSDLite (none published for ExMobileViT).
# SSDLite + ExMobileViT-640 on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24
# images: the recipe of ssdlite_exmobilevit-928_8xb24-120e_coco-320x320.py
# (no published ExMobileViT detector; EMO's SSDLite recipe), ExShortcut
# context on the stride-32 level (160 + 160 channels).
_base_ = './ssdlite_exmobilevit-928_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='640'),
    neck=dict(
        in_channels=(128, 320), out_channels=(128, 320, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(128, 320, 512, 256, 256, 128)))
