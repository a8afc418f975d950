# Recipe: mmdet's RTMDet-tiny (300 epochs, 640x640) on EMO-5M.
# RTMDet-tiny + EMO-5M on COCO 2017, 300 epochs on 8 GPUs x 32 images:
# mmdet's RTMDet-tiny recipe (rtmdet_tiny_8xb32-300e_coco.py) with the
# EMO backbone in place of CSPNeXt-tiny: CSPNeXtPAFPN + RTMDetSepBNHead
# on strides 8/16/32, Mosaic/MixUp then the stage-2 pipeline for the last
# 20 epochs, EMA, AdamW 0.004 (see the _base_ files). The backbone is
# declared, and its ImageNet initialisation set, in
# _base_/models/rtmdet_emo.py.
_base_ = [
    '../_base_/models/rtmdet_emo.py',
    '../_base_/datasets/coco_detection_rtmdet-640x640.py',
    '../_base_/schedules/schedule_rtmdet-300e.py'
]
# EMO-5M: the _base_ model
