# RepViT's Mask R-CNN schedule (THU-MIG/RepViT detection/configs/
# mask_rcnn_repvit_m*_fpn_1x_coco.py on mmdet 2.28's schedule_1x.py, as logged
# with the published models), in mmdet 3.x form: AdamW lr 2e-4, betas
# 0.9/0.999, weight decay 0.05 on every parameter (the recipe has no
# paramwise setting, norms and biases decay too), no gradient clipping; 12
# epochs ("1x"), linear warm-up over the first 500 iterations from 1e-6 x lr
# (warmup_ratio=1e-06), lr x0.1 after epochs 8 and 11; 8 GPUs x 2 images.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=None)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

# The recipe's total batch (8 GPUs x 2 images): `tools/train.py
# --auto-scale-lr` scales lr by (GPUs x batch_size) / 16.
auto_scale_lr = dict(enable=False, base_batch_size=16)
