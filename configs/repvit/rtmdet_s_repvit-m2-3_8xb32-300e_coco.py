# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on RepViT-M2.3.
# RTMDet-s + RepViT-M2.3: the recipe of
# rtmdet_s_repvit-m1-1_8xb32-300e_coco.py.
_base_ = './rtmdet_s_repvit-m1-1_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='m2_3'),
    neck=dict(in_channels=[160, 320, 640]))
