# RTMDet-tiny (rtmdet_tiny.py: mmdet's CSPNeXtPAFPN + RTMDetSepBNHead and
# training settings) on a RepViT backbone: its stride 8/16/32 stages
# (out_indices 2-4) feed the PAFPN where CSPNeXt's did. As RTMDet trains
# CSPNeXt: nothing frozen, BN layers train (SyncBN on several GPUs). Inputs
# normalised as RepViT's ImageNet training (RGB, ImageNet mean/std).
#
# This file is the one place of the RepViT backbone of the RTMDet and YOLOX
# configs (yolox_repvit.py takes it from here): its ImageNet initialisation,
# the authors' checkpoint by URL, is the init_cfg below. RepViT-M1.1 by
# default; the leaf configs set the arch and the PAFPN inputs
# (out_channels[2..4]).
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
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_{arch}_distill_300e.pth'),
        out_indices=(2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[128, 256, 512]))
