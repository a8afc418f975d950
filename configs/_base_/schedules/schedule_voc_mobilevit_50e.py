# MobileViT's PASCAL VOC DeepLabv3 schedule (apple/ml-cvnets
# config/segmentation/pascal_voc/deeplabv3_mobilevit.yaml): AdamW, lr 9e-4,
# betas 0.9/0.999, weight decay 0.01 on every parameter, the segmentation
# heads at 10x the lr (model.segmentation.lr_multiplier: 10); gradients of 2
# iterations accumulated (common.accum_freq: 2: 16 images x 4 GPUs x 2 = 128
# per update); 50 epochs; the lr rises linearly from 9e-5 over the first 500
# iterations while a per-epoch cosine from epoch 0 anneals it to 1e-6
# (ml-cvnets' schedule: the two overlap, as mmengine's chainable schedulers
# allow); model EMA with momentum 5e-4 per iteration (its EMA weights are the
# published ones: validation and test use them).
# Differences: ml-cvnets' warm-up ignores the cosine, here the ramp multiplies
# the cosine of epoch 0 (the same lr: cos(0) = 1); mixed precision is --amp.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=9e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.01),
    accumulative_counts=2,
    paramwise_cfg=dict(custom_keys={
        'decode_head': dict(lr_mult=10.),
        'auxiliary_head': dict(lr_mult=10.)
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=500),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=0,
        end=50),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1,
                    max_keep_ckpts=3, save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# The recipe's batch per update (4 GPUs x 16 images x 2 accumulated):
# `tools/train.py --auto-scale-lr` scales lr by (GPUs x batch_size) / 64.
auto_scale_lr = dict(enable=False, base_batch_size=64)
