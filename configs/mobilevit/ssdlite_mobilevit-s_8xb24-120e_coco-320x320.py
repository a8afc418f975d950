# Recipe: EMO's mmdet SSDLite (MobileViT's own is ml-cvnets' SSD).
# SSDLite + MobileViT-S on COCO 2017 at 320x320, 120 epochs (of the 5x
# repeated training set) on 8 GPUs x 24 images: EMO's mmdet SSDLite recipe
# (see _base_/models/ssdlite_mobilevit.py). The MobileViT paper's SSDLite-320
# (27.7 AP, 5.7M parameters) is ml-cvnets' own SSD head and training, not
# available in mmdet; EMO's recipe is the closest published one for this
# detector. The backbone starts from the authors' ImageNet-1k MobileViT-S
# weights (mobilevit_s.pt, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/ssdlite_mobilevit.py',
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
# MobileViT-S: the _base_ model
