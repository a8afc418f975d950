# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on MobileViT-XS.
# YOLOX-s + MobileViT-XS: the recipe of yolox_s_mobilevit-
# s_8xb8-300e_coco.py.
_base_ = './yolox_s_mobilevit-s_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='xs'),
    neck=dict(in_channels=[64, 80, 96]))
