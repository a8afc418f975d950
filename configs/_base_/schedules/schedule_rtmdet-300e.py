# mmdet's RTMDet schedule (rtmdet_l/s/tiny_8xb32-300e_coco.py) for 8 GPUs x
# 32 images: AdamW lr 0.004, weight decay 0.05 (none on norm layers and
# biases), 1000 iterations of linear warm-up from 1e-5 x lr, constant lr to
# epoch 150, then cosine to 0.05 x lr at epoch 300 (by iteration); EMA of
# the weights (ExpMomentumEMA, momentum 2e-4; the EMA weights are the ones
# evaluated and saved); validation and checkpoints every 10 epochs, every
# epoch for the last 20. For those last 20 epochs PipelineSwitchHook
# replaces the training pipeline (Mosaic / MixUp, from the dataset config)
# by `train_pipeline_stage2` below (RTMDet-tiny/s's: random resize
# 640x640 x 0.5-2.0, crop 640, HSV, flip, pad), which a config with another
# input size redefines together with custom_hooks.
#
# It brings the detection runtime (default_runtime_det.py) with it, as its
# hooks join the runtime's RandomStateHook in one custom_hooks list.
_base_ = '../default_runtime_det.py'
max_epochs = 300
stage2_num_epochs = 20
base_lr = 0.004
interval = 10
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=interval,
    dynamic_intervals=[(max_epochs - stage2_num_epochs, 1)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=max_epochs // 2,
        end=max_epochs,
        T_max=max_epochs // 2,
        by_epoch=True,
        convert_to_iter_based=True)
]

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=interval,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

train_pipeline_stage2 = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CheckBoxes'),
    dict(
        type='RandomResize',
        scale=(640, 640),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(640, 640)),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=(640, 640), pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
# NumClassCheckHook (mmdet's): a head whose num_classes is not the number of
# the dataset's classes stops the run before the first epoch, with both.
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='NumClassCheckHook'),
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0002,
        update_buffers=True,
        priority=49),
    dict(
        type='PipelineSwitchHook',
        switch_epoch=max_epochs - stage2_num_epochs,
        switch_pipeline=train_pipeline_stage2)
]

# The recipe's total batch (8 GPUs x 32 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 256. (mmdet's RTMDet
# configs inherit 16 from its 1x schedule, which would scale the lr 16-fold
# on the recipe's own 8 x 32.)
auto_scale_lr = dict(enable=False, base_batch_size=256)
