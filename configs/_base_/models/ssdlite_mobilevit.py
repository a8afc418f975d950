# SSDLite with a MobileViT backbone: EMO's mmdet SSDLite setting
# (ssdlite_emo.py) on MobileViT's stride-16 and stride-32 stages (layer4,
# layer5: out_indices 3-4), nothing frozen, all backbone BN in eval mode, no
# stochastic depth. The MobileViT paper's own SSDLite-320 (ml-cvnets
# config/detection/ssd_coco/mobilevit.yaml) is a different detector (extra
# levels down to a global pool, 512/256/256/128/128/64 projections, its own
# anchors, trained 200 epochs with AdamW 9e-4 and EMA): EMO compares against
# it with the recipe here, which is why this is the closest mmdet recipe.
# MobileViT-S by default; the leaf configs set the arch and neck/head widths.
_base_ = './ssdlite_emo.py'
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
        out_indices=(3, 4),
        frozen_stages=-1,
        norm_eval=True,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(
        in_channels=(128, 160), out_channels=(128, 160, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(128, 160, 512, 256, 256, 128)))
