# Recipe: mmdet's RTMDet-tiny (300 epochs, 640x640) on RepViT-M1.5.
# RTMDet-tiny + RepViT-M1.5: the recipe of
# rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py.
_base_ = './rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='m1_5'),
    neck=dict(in_channels=[128, 256, 512]))
