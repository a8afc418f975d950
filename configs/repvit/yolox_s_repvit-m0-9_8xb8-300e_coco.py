# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on RepViT-M0.9.
# YOLOX-s + RepViT-M0.9: the recipe of yolox_s_repvit-m1-1_8xb8-300e_coco.py.
_base_ = './yolox_s_repvit-m1-1_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='m0_9'),
    neck=dict(in_channels=[96, 192, 384]))
