# mmdet's YOLOX-s detector (yolox_s_8xb8-300e_coco.py) without its backbone,
# as the variable `yolox_s`: YOLOXPAFPN (128 channels, one CSP block) ->
# YOLOXHead (128 channels, strides 8/16/32, objectness, SimOTA), Swish, BN
# momentum 0.03 eps 1e-3; multi-scale training by BatchSyncRandomResize
# (480-800 px every 10 iterations), inputs padded to a multiple of 32.
# yolox_<family>.py put it on the backbone (and input normalisation) of
# rtmdet_<family>.py, the one place each family's backbone is declared.
__norm_cfg = dict(type='BN', momentum=0.03, eps=0.001)
yolox_s = dict(
    type='YOLOX',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        pad_size_divisor=32,
        batch_augments=[
            dict(
                type='BatchSyncRandomResize',
                random_size_range=(480, 800),
                size_divisor=32,
                interval=10)
        ]),
    neck=dict(
        type='YOLOXPAFPN',
        in_channels=[128, 256, 512],
        out_channels=128,
        num_csp_blocks=1,
        use_depthwise=False,
        upsample_cfg=dict(scale_factor=2, mode='nearest'),
        norm_cfg=__norm_cfg,
        act_cfg=dict(type='Swish')),
    bbox_head=dict(
        type='YOLOXHead',
        num_classes=80,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        strides=(8, 16, 32),
        use_depthwise=False,
        norm_cfg=__norm_cfg,
        act_cfg=dict(type='Swish'),
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            reduction='sum',
            loss_weight=1.0),
        loss_bbox=dict(
            type='IoULoss',
            mode='square',
            eps=1e-16,
            reduction='sum',
            loss_weight=5.0),
        loss_obj=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            reduction='sum',
            loss_weight=1.0),
        loss_l1=dict(type='L1Loss', reduction='sum', loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
    # as mmdet: score threshold 0.01 in validation (0.001 for the official
    # test numbers)
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))
