# mmdet's YOLOX schedule (yolox_s_8xb8-300e_coco.py) for 8 GPUs x 8 images:
# SGD lr 0.01, momentum 0.9, Nesterov, weight decay 5e-4 (none on norm
# layers and biases); quadratic warm-up over 5 epochs, cosine to 0.05 x lr
# at epoch 285, constant for the last 15 (all by iteration); EMA of the
# weights (ExpMomentumEMA, momentum 1e-4); validation and checkpoints every
# 10 epochs. For the last 15 epochs YOLOXModeSwitchHook turns Mosaic,
# RandomAffine and MixUp off and the L1 box loss on; SyncNormHook
# synchronises the BN statistics across GPUs before each validation.
#
# It brings the detection runtime (default_runtime_det.py) with it, as its
# hooks join the runtime's RandomStateHook in one custom_hooks list.
_base_ = '../default_runtime_det.py'
max_epochs = 300
num_last_epochs = 15
base_lr = 0.01
interval = 10
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=base_lr, momentum=0.9, weight_decay=5e-4,
        nesterov=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
param_scheduler = [
    dict(
        type='mmdet.QuadraticWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=5,
        T_max=max_epochs - num_last_epochs,
        end=max_epochs - num_last_epochs,
        by_epoch=True,
        convert_to_iter_based=True),
    dict(
        type='ConstantLR',
        by_epoch=True,
        factor=1,
        begin=max_epochs - num_last_epochs,
        end=max_epochs)
]

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=interval,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

# NumClassCheckHook (mmdet's): a head whose num_classes is not the number of
# the dataset's classes stops the run before the first epoch, with both.
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='NumClassCheckHook'),
    dict(
        type='YOLOXModeSwitchHook',
        num_last_epochs=num_last_epochs,
        priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0001,
        update_buffers=True,
        priority=49)
]

# The recipe's total batch (8 GPUs x 8 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 64.
auto_scale_lr = dict(enable=False, base_batch_size=64)
