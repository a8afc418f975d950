# EMO's ImageNet schedule (zhangzjn/EMO configs/mobile/cls_emo.py and its
# trainer): AdamW, lr 1.5e-3 per 512 images = 6e-3 for 2048 (8 GPUs x 256),
# betas (0.9, 0.999), weight decay 0.05 except on 1-D parameters (norms,
# biases), gradient norm clipped at 5; 300 epochs, linear warm-up from 1e-6
# for 20 epochs then cosine to 1e-6, updated every iteration. The recipe's
# model EMA (0.9998 per iteration) is the EMAHook of the leaf configs.
# Differences: timm's cosine runs over epochs 0-300 with the warm-up in front
# of it, mmengine's over epochs 20-300; mixed precision is --amp.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=6e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.0),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 6e-3,
        by_epoch=True,
        begin=0,
        end=20,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=20,
        end=300,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 6e-3 is for 2048 images per iteration (--auto-scale-lr rescales it).
auto_scale_lr = dict(base_batch_size=2048)
