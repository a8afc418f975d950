# RetinaNet with an EMO backbone: EMO's official COCO setting (its mmdet 2.x
# retinanet_emo_fpn.py, mmdet 3.x form) with the FPN on the backbone's last
# three stages (strides 8/16/32, out_indices 2-4). The official configs take
# out_indices 1-4 with start_level=1, i.e. the FPN ignores stage 1 there: the
# network and its parameters are the same (same FPN layers, P6/P7 from the
# last stage with add_extra_convs='on_input'), only stage 1 is no longer
# returned. Stem and stage 1 frozen, all backbone BN in eval mode, as there.
# EMO-5M by default (attention window 10, as in the official RetinaNet);
# the leaf configs set the arch and the FPN inputs.
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='EMO',
        arch='5M',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/zhangzjn/EMO/raw/main/resources/'
            'EMO_{arch}/net.pth'),
        out_indices=(2, 3, 4),
        frozen_stages=1,
        norm_eval=True,
        window_size=10,
        drop_path_rate=0.05,
        norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(
        type='FPN',
        in_channels=[72, 160, 288],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='RetinaHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    # model training and testing settings
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=dict(
            type='PseudoSampler'),  # Focal loss should use PseudoSampler
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))
