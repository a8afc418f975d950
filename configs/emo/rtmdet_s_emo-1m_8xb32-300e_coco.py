# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on EMO-1M.
# RTMDet-s + EMO-1M (attention window 7, drop path 0.04036, as its official
# detectors): the recipe of rtmdet_s_emo-5m_8xb32-300e_coco.py.
_base_ = './rtmdet_s_emo-5m_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='1M', window_size=7, drop_path_rate=0.04036),
    neck=dict(in_channels=[48, 80, 168]))
