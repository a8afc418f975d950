# Semantic FPN with a RepViT backbone: RepViT's official ADE20K setting
# (THU-MIG/RepViT segmentation/, on mmseg's fpn_r50.py: FPN neck with 256
# channels + FPNHead with 128 channels over strides 4-32), in mmseg 1.x form.
# RepViT-M1.1 by default; the leaf configs set the arch and neck inputs.
#
# Where the features are taken: as the official segmentation backbone, after
# the last block of each resolution (features [3, 7, 21, 24] for M1.1,
# [5, 11, 37, 42] for M1.5, [7, 15, 51, 54] for M2.3): tap='last' (RepViT's
# stages end one block earlier, where the official detection code and timm
# tap). The official backbone keeps all its BN layers in eval mode while
# training (its train() override): norm_eval=True.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='RepViT',
        arch='m1_1',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_{arch}_distill_300e.pth'),
        out_indices=(1, 2, 3, 4),
        tap='last',
        frozen_stages=-1,
        norm_eval=True,
        drop_path_rate=0.,
        norm_cfg=norm_cfg),
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 256, 512],
        out_channels=256,
        num_outs=4),
    decode_head=dict(
        type='FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    # model training and testing settings
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
