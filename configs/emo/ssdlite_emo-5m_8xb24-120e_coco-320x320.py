# Recipe: EMO's official SSDLite.
# SSDLite + EMO-5M on COCO 2017 at 320x320, 120 epochs (of the 5x repeated
# training set) on 8 GPUs x 24 images: EMO's official recipe (EMO README:
# 27.9 AP, 6.0M parameters). The backbone starts from the authors' ImageNet-1k
# EMO-5M weights (EMO_5M/net.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/ssdlite_emo.py',
    '../_base_/datasets/coco_detection_ssdlite-320x320.py',
    '../_base_/schedules/schedule_ssdlite-120e.py',
    '../_base_/default_runtime_det.py'
]
env_cfg = dict(cudnn_benchmark=True)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW')
]
# EMO-5M (window 10, drop path 0.05): the _base_ model
