# RTMDet-tiny (rtmdet_tiny.py: mmdet's CSPNeXtPAFPN + RTMDetSepBNHead and
# training settings) on a RepViT backbone: its stride 8/16/32 stages
# (out_indices 2-4) feed the PAFPN where CSPNeXt's did. As RTMDet trains
# CSPNeXt: nothing frozen, BN layers train (SyncBN on several GPUs). Inputs
# normalised as RepViT's ImageNet training (RGB, ImageNet mean/std).
#
# This file is the one place of the RepViT backbone of the RTMDet and YOLOX
# configs (yolox_repvit.py takes it from here): its ImageNet initialisation
# goes into init_cfg below, e.g.
#   init_cfg=dict(type='Pretrained', checkpoint='checkpoints/repvit_m1_1_distill_300e.pth')
# (for now every config starts from scratch, as the other detection
# configs). RepViT-M1.1 by default; the leaf configs set the arch and the
# PAFPN inputs (out_channels[2..4]).
_base_ = './rtmdet_tiny.py'
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='RepViT',
        arch='m1_1',
        out_indices=(2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=None),
    neck=dict(in_channels=[128, 256, 512]))
