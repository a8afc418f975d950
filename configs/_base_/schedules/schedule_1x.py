# EMO's RetinaNet schedule (official down-stream-tasks/mmdetection
# retinanet_emo_*_fpn_1x_coco.py, mmdet 3.x form): AdamW lr 2e-4, betas
# 0.9/0.999, weight decay 0.05 (0 for parameters named 'norm') for 8 GPUs x
# 4 images, 12 epochs ("1x"), 500 iterations of linear warm-up from 0.001 x
# lr.
#
# The decay: EMO's RetinaNet configs override the step policy of mmdet's 1x
# schedule (commented out in their _base_ schedule_1x.py) with
# lr_config=dict(policy='CosineAnnealing', min_lr=0, ...), i.e. cosine decay
# to 0 over the 12 epochs, updated by epoch as mmcv did; that is what the
# published AP was trained with, so it is the default here. mmdet's 1x steps
# (x0.1 after epochs 8 and 11) instead:
#   param_scheduler = [
#       dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
#            end=500),
#       dict(type='MultiStepLR', begin=0, end=12, by_epoch=True,
#            milestones=[8, 11], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=12,
        end=12,
        by_epoch=True,
        eta_min=0)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=None,
    # EMO's exemption as its configs write it, matched by parameter NAME:
    # custom_keys={'norm': dict(decay_mult=0.)} exempts its blocks'
    # pre-norms and depthwise-conv BNs (official conv_local.norm, named
    # conv_local.bn here); the stem BN and the heads' BNs keep their decay.
    # The other backbones on EMO's schedule name no parameter 'norm' (BN
    # 'bn', LayerNorm 'ln1'/'ln2'): the same rule decays all of theirs.
    paramwise_cfg=dict(custom_keys={
        'norm': dict(decay_mult=0.),
        'conv_local.bn': dict(decay_mult=0.)
    }))

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

# The recipe's total batch (8 GPUs x 4 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 32.
auto_scale_lr = dict(enable=False, base_batch_size=32)
