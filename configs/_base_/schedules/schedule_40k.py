# RepViT's ADE20K Semantic FPN recipe (THU-MIG/RepViT segmentation/configs/
# sem_fpn/fpn_repvit_m1_1_ade20k_40k.py, mmseg 0.x), in mmseg 1.x form: AdamW
# lr 2e-4 (mmseg's 4-GPU 1e-4 doubled for 8 GPUs x 4 images), weight decay
# 1e-4 on every parameter (norms included, as the recipe has no paramwise
# setting), poly decay (power 0.9) to 1e-6 by iteration, 40k iterations,
# checkpoint and validation every 4k. The loop resumes the data order and RNG
# exactly (mmlightvit.engine).
optimizer = dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(
    type='ResumableIterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# The recipe's total batch (8 GPUs x 4 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 32.
auto_scale_lr = dict(enable=False, base_batch_size=32)
