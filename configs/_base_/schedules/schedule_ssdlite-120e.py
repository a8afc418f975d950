# EMO's SSDLite schedule (official ssdlite_emo_*_pretrain_coco.py, mmdet 3.x
# form, as mmdet's ssdlite_mobilenetv2 schedule): AdamW lr 1.2e-3, betas
# 0.9/0.999, weight decay 0.05 (0 for the parameters named 'norm') for 8
# GPUs x 24 images, 120 epochs of the 5x repeated training set, 500
# iterations of linear warm-up from 0.001 x lr, then cosine decay to 0 by
# epoch; evaluation and checkpoints every 5 epochs.
max_epochs = 120
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=max_epochs,
        end=max_epochs,
        by_epoch=True,
        eta_min=0)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1.2e-3, betas=(0.9, 0.999), weight_decay=0.05),
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
    checkpoint=dict(type='CheckpointHook', interval=5),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

# The recipe's total batch (8 GPUs x 24 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 192.
auto_scale_lr = dict(enable=False, base_batch_size=192)
