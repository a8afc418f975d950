# RTMDet-tiny (rtmdet_tiny.py: mmdet's CSPNeXtPAFPN + RTMDetSepBNHead and
# training settings) on an EMO backbone: its stride 8/16/32 stages
# (out_indices 2-4) feed the PAFPN where CSPNeXt's did. As RTMDet trains
# CSPNeXt: nothing frozen, BN layers train (SyncBN on several GPUs); EMO's
# own detection settings for the rest (BN eps 1e-6, the arch's stochastic
# depth, attention window 10 for EMO-5M/6M and 7 for 1M/2M as in its
# official RetinaNet / SSDLite configs). Inputs normalised as EMO's ImageNet
# training (RGB, ImageNet mean/std).
#
# This file is the one place of the EMO backbone of the RTMDet and YOLOX
# configs (yolox_emo.py takes it from here): its ImageNet initialisation, the
# authors' checkpoint by URL, is the init_cfg below. EMO-5M by default; the
# leaf configs set the arch and the PAFPN inputs (out_channels[2..4]).
_base_ = './rtmdet_tiny.py'
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='EMO',
        arch='5M',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/zhangzjn/EMO/raw/main/resources/'
            'EMO_{arch}/net.pth'),
        out_indices=(2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        window_size=10,
        drop_path_rate=0.05,
        norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(in_channels=[72, 160, 288]))
