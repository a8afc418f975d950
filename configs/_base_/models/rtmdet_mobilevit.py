# RTMDet-tiny (rtmdet_tiny.py: mmdet's CSPNeXtPAFPN + RTMDetSepBNHead and
# training settings) on a MobileViT backbone: layer3-layer5 (strides
# 8/16/32, out_indices 2-4; the classifier's final 1x1 conv is not built)
# feed the PAFPN where CSPNeXt's stages did. As RTMDet trains CSPNeXt:
# nothing frozen, BN layers train (SyncBN on several GPUs); no stochastic
# depth (as the official MobileViTs). Inputs as MobileViT's ImageNet
# training (ml-cvnets): RGB scaled to [0, 1], no mean/std.
#
# This file is the one place of the MobileViT backbone of the RTMDet and YOLOX
# configs (yolox_mobilevit.py takes it from here): its ImageNet initialisation,
# the authors' checkpoint by URL, is the init_cfg below. MobileViT-S by
# default; the leaf configs set the arch and the PAFPN inputs
# (out_channels[2..4]).
_base_ = './rtmdet_tiny.py'
model = dict(
    data_preprocessor=dict(
        mean=[0., 0., 0.], std=[255., 255., 255.], bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='MobileViTBackbone',
        arch='s',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://docs-assets.developer.apple.com/ml-research/'
            'models/cvnets/classification/mobilevit_{arch}.pt'),
        out_indices=(2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[96, 128, 160]))
