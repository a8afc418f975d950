# Decoupled SAM encoder distillation (MobileSAM's recipe): the student image
# encoder regresses a SAM teacher's stored image embeddings (MSE). Made with
#   python tools/sam/dump_teacher.py data/sa1b/images/train \
#       --checkpoint sam_vit_h_4b8939.pth --out data/sa1b/embeddings/train
# (and the same for a held-out images/val). MobileSAM distilled from ViT-H on
# 1% of SA-1B (~100k images) on one GPU in under a day; the optimizer, length
# and batch below are this project's choice (MobileSAM published no training
# code): AdamW 1e-3, cosine to 1e-6 after 1k warm-up iterations, 8 epochs of
# 100k images at 8 per batch (100k iterations), no weight decay on norms.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmlightvit', 'mmlightvit.sam'],
                      allow_failed_imports=False)
img_size = 1024
data_root = 'data/sa1b'
# the student; a leaf config sets encoder.trunk (a backbone config)
model = dict(
    type='SamEncoderDistiller',
    encoder=dict(type='SamImageEncoder', img_size=img_size))
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SamDistillDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/train',
                         embed_path='embeddings/train')))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SamDistillDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/val', embed_path='embeddings/val')))
test_dataloader = val_dataloader
val_evaluator = dict(type='EmbeddingDistance')
test_evaluator = val_evaluator

max_iters = 100000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, begin=0, end=1000,
         by_epoch=False),
    dict(type='CosineAnnealingLR', eta_min=1e-6, begin=1000, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000,
                    max_keep_ckpts=3, save_best='distill/mse', rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'))
# Saves the RNG states in checkpoints so that --resume continues exactly.
custom_hooks = [dict(type='RandomStateHook')]
# 1 GPU x 8 images: what --auto-scale-lr scales the lr against
auto_scale_lr = dict(enable=False, base_batch_size=8)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
