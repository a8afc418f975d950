# SSDLite with a RepViT backbone. RepViT published no SSDLite, so this is
# EMO's SSDLite setting (ssdlite_emo.py), the closest published recipe: the
# stride-16 and stride-32 stages (out_indices 3-4) into the depthwise SSDNeck
# and SSDHead, 320x320 anchors, nothing frozen, all backbone BN in eval mode,
# no stochastic depth. RepViT-M1.1 by default; the leaf configs set the arch
# and the neck/head widths.
_base_ = './ssdlite_emo.py'
model = dict(
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
        out_indices=(3, 4),
        frozen_stages=-1,
        norm_eval=True,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(
        in_channels=(256, 512), out_channels=(256, 512, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(256, 512, 512, 256, 256, 128)))
