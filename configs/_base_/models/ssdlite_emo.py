# SSDLite with an EMO backbone: EMO's official COCO setting (its mmdet 2.x
# ssdlite_emo_*_pretrain_coco.py, mmdet 3.x form): the stride-16 and stride-32
# stages (out_indices 3-4) into a depthwise SSDNeck with four extra levels
# (512/256/256/128 channels) and a depthwise SSDHead (BN eps 1e-3 momentum
# 0.03, ReLU6) over six levels; SSDAnchorGenerator for 320x320 inputs
# (strides 16/32/64/107/160/320). Nothing frozen, all backbone BN in eval
# mode, as there. EMO-5M by default (attention window 10, as in the official
# SSDLite); the leaf configs set the arch and the neck/head widths.
norm_cfg = dict(type='BN', eps=0.001, momentum=0.03)
model = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='EMO',
        arch='5M',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/zhangzjn/EMO/raw/main/resources/'
            'EMO_{arch}/net.pth'),
        out_indices=(3, 4),
        frozen_stages=-1,
        norm_eval=True,
        window_size=10,
        drop_path_rate=0.05,
        norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(
        type='SSDNeck',
        in_channels=(160, 288),
        out_channels=(160, 288, 512, 256, 256, 128),
        level_strides=(2, 2, 2, 2),
        level_paddings=(1, 1, 1, 1),
        l2_norm_scale=None,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    bbox_head=dict(
        type='SSDLiteHead',  # SSDHead that predicts on mmdet 3.3.0
        in_channels=(160, 288, 512, 256, 256, 128),
        num_classes=80,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.001),
        # anchor sizes set for 320x320 inputs instead of SSD300's
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            strides=[16, 32, 64, 107, 160, 320],
            ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
            min_sizes=[48, 100, 150, 202, 253, 304],
            max_sizes=[100, 150, 202, 253, 304, 320]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])),
    # model training and testing settings
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.45),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))
