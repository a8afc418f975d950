# Recipe: EMO's SSDLite (none published for RepViT).
# SSDLite + RepViT-M1.1 on COCO 2017 at 320x320, 120 epochs (of the 5x
# repeated training set) on 8 GPUs x 24 images. RepViT published no SSDLite:
# this is EMO's SSDLite recipe, the closest published one (see
# _base_/models/ssdlite_repvit.py). The backbone starts from the authors'
# ImageNet-1k RepViT-M1.1 weights (repvit_m1_1_distill_300e.pth, by URL); from
# scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/ssdlite_repvit.py',
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
# RepViT-M1.1: the _base_ model
