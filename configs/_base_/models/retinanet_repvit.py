# RetinaNet with a RepViT backbone. RepViT published no RetinaNet (its COCO
# results are Mask R-CNN 1x with AdamW lr 2e-4, weight decay 0.05), so this is
# EMO's RetinaNet setting (retinanet_emo.py), the closest published recipe
# for a light backbone with the same optimiser: the FPN on the last three
# stages (strides 8/16/32, out_indices 2-4), stem and first stage frozen, all
# backbone BN in eval mode, no stochastic depth (as RepViT's ImageNet
# training). RepViT-M1.1 by default; the leaf configs set the arch and the
# FPN inputs.
_base_ = './retinanet_emo.py'
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
        out_indices=(2, 3, 4),
        frozen_stages=1,
        norm_eval=True,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    neck=dict(in_channels=[128, 256, 512]))
