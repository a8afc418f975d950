# ExMobileViT's ImageNet schedule (the authors' EmPasLab/ExMobileVIT
# models/model_utils.py and utils/parser.py, PyTorch Lightning): AdamW lr
# 2e-3, weight decay 0.01 on every parameter (torch defaults otherwise); 300
# epochs; two schedulers stepped together once per epoch, as Lightning steps
# a list of them: a linear warm-up from 0.1 x lr over the first 12 epochs (4%
# of 300) and a cosine with period 288 epochs down to 0.1 x lr = 2e-4 (its
# last 12 epochs climb back a little, as torch's CosineAnnealingLR past
# T_max). No EMA (see the leaf configs).
# Difference: the authors' batch is 128 per GPU on 6 GPUs (README) = 768 at
# lr 2e-3 (unscaled); the configs' name and --auto-scale-lr assume 8 x 128.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=12),
    dict(
        type='CosineAnnealingLR',
        T_max=288,
        eta_min=2e-4,
        by_epoch=True,
        begin=0,
        end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 2e-3 for 1024 images per iteration (--auto-scale-lr rescales it).
auto_scale_lr = dict(base_batch_size=1024)
