# Recipe: mmdet's YOLOX-s (300 epochs, 640x640) on RepViT-M2.3.
# YOLOX-s + RepViT-M2.3: the recipe of yolox_s_repvit-m1-1_8xb8-300e_coco.py.
_base_ = './yolox_s_repvit-m1-1_8xb8-300e_coco.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    neck=dict(in_channels=[160, 320, 640]))
