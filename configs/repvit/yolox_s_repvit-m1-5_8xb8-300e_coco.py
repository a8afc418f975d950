# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on RepViT-M1.5.
# YOLOX-s + RepViT-M1.5: the recipe of yolox_s_repvit-m1-1_8xb8-300e_coco.py.
_base_ = './yolox_s_repvit-m1-1_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='m1_5'),
    neck=dict(in_channels=[128, 256, 512]))
