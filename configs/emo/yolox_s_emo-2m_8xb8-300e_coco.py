# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on EMO-2M.
# YOLOX-s + EMO-2M (attention window 7, drop path 0.05, as its official
# detectors): the recipe of yolox_s_emo-5m_8xb8-300e_coco.py.
_base_ = './yolox_s_emo-5m_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='2M', window_size=7, drop_path_rate=0.05),
    neck=dict(in_channels=[48, 120, 200]))
