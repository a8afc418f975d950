# MobileViT's ImageNet schedule (paper, Sec. 4.1, and apple/ml-cvnets
# config/classification/imagenet/mobilevit.yaml): AdamW, lr 2e-3 for 1024
# images (8 GPUs x 128), betas (0.9, 0.999), weight decay 0.01 on all
# parameters; 300 epochs; the lr rises linearly from 2e-4 to 2e-3 over the
# first 20k iterations (ml-cvnets' config; the paper says 3k) while a
# per-epoch cosine from epoch 0 anneals it to 2e-4 (ml-cvnets' schedule: the
# two overlap, as mmengine's chainable schedulers allow). The recipe's model
# EMA (momentum 5e-4 per iteration) is the EMAHook of the leaf configs.
# Differences: ml-cvnets' warm-up ignores the cosine (lr = the linear ramp),
# here the ramp multiplies the cosine of the epoch (<= 0.2% lower during the
# ~16 warm-up epochs); mixed precision is --amp.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.01))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=20000),
    dict(
        type='CosineAnnealingLR',
        eta_min=2e-4,
        by_epoch=True,
        begin=0,
        end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 2e-3 is for 1024 images per iteration (--auto-scale-lr rescales it).
auto_scale_lr = dict(base_batch_size=1024)
