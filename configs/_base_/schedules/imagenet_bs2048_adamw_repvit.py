# RepViT's ImageNet schedule (THU-MIG/RepViT main.py defaults): AdamW, lr
# 1e-3 per 512 images = 4e-3 for 2048 (8 GPUs x 256), weight decay 0.025
# except on 1-D parameters (norms, biases); 300 epochs, linear warm-up from
# 1e-6 for 5 epochs then cosine to 1e-5, stepped once per epoch (timm's
# scheduler); adaptive gradient clipping of every parameter with clip factor
# 0.02 (main.py --clip-grad 0.02 --clip-mode agc: AGCOptimWrapper). The
# recipe's model EMA (0.99996 per iteration) is the EMAHook of the leaf
# configs; its hard distillation from RegNetY-16GF, the model of the
# repvit-*-distilled_* configs.
# Differences: timm's cosine runs over epochs 0-300 with the warm-up in
# front of it, mmengine's over epochs 5-300; mixed precision is --amp.
optim_wrapper = dict(
    type='AGCOptimWrapper',
    clip_factor=0.02,
    optimizer=dict(
        type='AdamW', lr=4e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.025),
    paramwise_cfg=dict(flat_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 4e-3,
        by_epoch=True,
        begin=0,
        end=5),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=5,
        end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 4e-3 is for 2048 images per iteration (--auto-scale-lr rescales it).
auto_scale_lr = dict(base_batch_size=2048)
