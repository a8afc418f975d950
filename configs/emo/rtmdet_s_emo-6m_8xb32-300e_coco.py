# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on EMO-6M.
# RTMDet-s + EMO-6M (window 10, drop path 0.05: the EMO-5M settings, as its
# other detection configs): the recipe of rtmdet_s_emo-5m_8xb32-300e_coco.py.
_base_ = './rtmdet_s_emo-5m_8xb32-300e_coco.py'
model = dict(
    backbone=dict(arch='6M'),
    neck=dict(in_channels=[72, 160, 320]))
