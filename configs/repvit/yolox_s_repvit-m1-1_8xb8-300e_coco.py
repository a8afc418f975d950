# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on RepViT-M1.1.
# YOLOX-s + RepViT-M1.1 on COCO 2017, 300 epochs on 8 GPUs x 8 images:
# mmdet's YOLOX-s recipe (yolox_s_8xb8-300e_coco.py) with the
# RepViT backbone in place of CSPDarknet: YOLOXPAFPN + YOLOXHead on
# strides 8/16/32, Mosaic/RandomAffine/MixUp off for the last 15 epochs,
# multi-scale batches, EMA, SGD 0.01 (see the _base_ files). The
# backbone is declared, and its ImageNet initialisation set, in
# _base_/models/rtmdet_repvit.py.
_base_ = [
    '../_base_/models/yolox_repvit.py',
    '../_base_/datasets/coco_detection_yolox-640x640.py',
    '../_base_/schedules/schedule_yolox-300e.py'
]
# RepViT-M1.1: the _base_ model
