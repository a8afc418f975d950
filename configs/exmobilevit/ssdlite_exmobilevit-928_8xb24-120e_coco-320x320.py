# Recipe: EMO's SSDLite (none published for ExMobileViT).
# SSDLite + ExMobileViT-928 on COCO 2017 at 320x320, 120 epochs (of the 5x
# repeated training set) on 8 GPUs x 24 images. The ExMobileViT paper has no
# detection setting (and no public code): this is the MobileViT-S SSDLite
# config (EMO's SSDLite recipe, the closest published one) with the
# ExShortcut context on the stride-32 level (see
# _base_/models/ssdlite_exmobilevit.py). No ExMobileViT weights are public: the
# backbone starts from the authors' ImageNet-1k MobileViT-S weights
# (mobilevit_s.pt, by URL; all but the ExShortcuts) or, with --cfg-options
# model.backbone.init_cfg.checkpoint=PATH, from an ExMobileViT classifier
# trained here (its head.ex_shortcuts fill the ExShortcuts); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/ssdlite_exmobilevit.py',
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
# ExMobileViT-928: the _base_ model
