# CPU demo, trained from scratch (backbone init_cfg=None: nothing downloads).
# A few minutes on 2 cores: the real DeepLabv3 + EMO-1M model of
# deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py (same backbone, heads and 150
# classes), trained from scratch for 300 iterations on the procedural toy
# ADE20K made by
#   python tools/dataset_converters/make_toy_data.py ade20k --out data/toy/ade
# with a short schedule and a higher learning rate.
_base_ = [
    '../_base_/models/deeplabv3_emo.py', '../_base_/datasets/toy_ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch='1M', window_size=7, drop_path_rate=0.04036, init_cfg=None),
    decode_head=dict(in_channels=168),
    auxiliary_head=dict(in_channels=80))

max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=20, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=20,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=100))
# 1 GPU x 8 images: what --auto-scale-lr scales the demo's lr against
auto_scale_lr = dict(base_batch_size=8)
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
