# Recipe: CPU demo, SSDLite + MobileViT-XXS from scratch on toy COCO 128x128.
# CPU demo (about a minute on one core): the real SSDLite + MobileViT-XXS
# model of ssdlite_mobilevit-xxs_8xb24-120e_coco-320x320.py (same backbone,
# neck, head and 80 classes) trained from scratch for 20 epochs of 8
# iterations on the procedural toy COCO made by
#   python tools/dataset_converters/make_toy_data.py coco --out data/toy/coco
# at 128x128 (_base_/datasets/toy_coco.py). What differs from the real
# config: the SSD anchors are the 320x320 ones scaled to the 128x128 input
# (sizes x 128/320, strides of the 128x128 feature maps), the backbone BN
# layers train (norm_eval=False: there are no pretrained statistics to keep),
# and a higher learning rate with a short cosine schedule. On the default toy
# set it reaches bbox mAP 0.234 (AP50 0.530; 0.22-0.26 for toy seeds 0-2);
# the untrained model detects nothing above the score threshold.
_base_ = [
    '../_base_/models/ssdlite_mobilevit.py', '../_base_/datasets/toy_coco.py',
    '../_base_/schedules/schedule_ssdlite-120e.py',
    '../_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(arch='xxs', norm_eval=False, init_cfg=None),
    neck=dict(in_channels=(64, 80), out_channels=(64, 80, 512, 256, 256, 128)),
    bbox_head=dict(
        in_channels=(64, 80, 512, 256, 256, 128),
        anchor_generator=dict(
            strides=[16, 32, 64, 128, 128, 128],
            min_sizes=[19, 40, 60, 81, 101, 122],
            max_sizes=[40, 60, 81, 101, 122, 128])))

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        eta_min=0,
        convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=8), checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
