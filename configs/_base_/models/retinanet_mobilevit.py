# RetinaNet with a MobileViT backbone. MobileViT published no RetinaNet (its
# COCO detector is SSDLite), so this is EMO's RetinaNet setting
# (retinanet_emo.py), the closest published recipe for a light backbone: the
# FPN on the last three stages (layer3-layer5, strides 8/16/32, out_indices
# 2-4; the classifier's final 1x1 conv is not built), stem, layer1 and layer2
# (stride <= 4) frozen like EMO's stem and stage 1, all backbone BN in eval
# mode, no stochastic depth (as the official MobileViTs). MobileViT-S by
# default; the leaf configs set the arch and the FPN inputs.
_base_ = './retinanet_emo.py'
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
        out_indices=(2, 3, 4),
        frozen_stages=1,
        norm_eval=True,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[96, 128, 160]))
