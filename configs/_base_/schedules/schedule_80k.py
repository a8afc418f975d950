# EMO's ADE20K recipe (official down-stream-tasks/mmsegmentation configs),
# in mmseg 1.x form: AdamW 1.2e-4 for 8 GPUs x 4 images, no weight decay on
# the parameters named 'norm' (see below), poly decay to 0 by iteration, 80k
# iterations. The loop resumes
# the data order and RNG exactly (mmlightvit.engine).
optimizer = dict(
    type='AdamW', lr=1.2e-4, betas=(0.9, 0.999), weight_decay=0.01)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
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
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=80000,
        by_epoch=False)
]
train_cfg = dict(
    type='ResumableIterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=8000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# The recipe's total batch (8 GPUs x 4 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 32.
auto_scale_lr = dict(enable=False, base_batch_size=32)
