# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on EMO-6M.
# YOLOX-s + EMO-6M (window 10, drop path 0.05: the EMO-5M settings, as its
# other detection configs): the recipe of yolox_s_emo-5m_8xb8-300e_coco.py.
_base_ = './yolox_s_emo-5m_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='6M'),
    neck=dict(in_channels=[72, 160, 320]))
