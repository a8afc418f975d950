# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on EMO-1M.
# YOLOX-s + EMO-1M (attention window 7, drop path 0.04036, as its official
# detectors): the recipe of yolox_s_emo-5m_8xb8-300e_coco.py.
_base_ = './yolox_s_emo-5m_8xb8-300e_coco.py'
model = dict(
    backbone=dict(arch='1M', window_size=7, drop_path_rate=0.04036),
    neck=dict(in_channels=[48, 80, 168]))
