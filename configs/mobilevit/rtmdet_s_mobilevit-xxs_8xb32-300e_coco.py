# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on MobileViT-XXS.
# RTMDet-s + MobileViT-XXS: the recipe of rtmdet_s_mobilevit-
# s_8xb32-300e_coco.py.
_base_ = './rtmdet_s_mobilevit-s_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='xxs'),
    neck=dict(in_channels=[48, 64, 80]))
