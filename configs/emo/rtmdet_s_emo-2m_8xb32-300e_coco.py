# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on EMO-2M.
# RTMDet-s + EMO-2M (attention window 7, drop path 0.05, as its official
# detectors): the recipe of rtmdet_s_emo-5m_8xb32-300e_coco.py.
_base_ = './rtmdet_s_emo-5m_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='2M', window_size=7, drop_path_rate=0.05),
    neck=dict(in_channels=[48, 120, 200]))
