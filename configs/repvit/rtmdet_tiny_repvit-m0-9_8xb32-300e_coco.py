# Recipe: mmdet's RTMDet-tiny (300 epochs, 640x640) on RepViT-M0.9.
# RTMDet-tiny + RepViT-M0.9: the recipe of
# rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py.
_base_ = './rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='m0_9'),
    neck=dict(in_channels=[96, 192, 384]))
