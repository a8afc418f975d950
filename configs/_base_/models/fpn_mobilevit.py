# Semantic FPN with a MobileViT backbone: the neck and head of fpn_repvit.py
# (RepViT's official ADE20K Semantic FPN, mmseg's fpn_r50.py) on MobileViT's
# layer2-layer5 (strides 4-32; the classifier's final 1x1 conv is not built),
# BN trained as in MobileViT's dense settings, no stochastic depth.
# MobileViT-S by default; the leaf configs set the arch and neck inputs.
_base_ = './fpn_repvit.py'
model = dict(
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
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[64, 96, 128, 160]))
