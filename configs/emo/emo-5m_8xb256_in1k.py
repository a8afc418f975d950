# EMO-5M on ImageNet-1k with EMO's recipe (zhangzjn/EMO
# configs/mobile/cls_emo.py): 8 GPUs x 256 images, AdamW 6e-3, 300 epochs,
# RandAugment, label smoothing 0.1, model EMA 0.9998 (see the _base_ files
# for what is kept and what differs). Reports top-1 / top-5.
#   python tools/train.py configs/emo/emo-5m_8xb256_in1k.py
# The trained checkpoint initialises the dense models' backbone:
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint=<epoch_300.pth>)
# ('backbone.' keys are selected automatically). The official EMO weights
# initialise this classifier's backbone the same way (fine-tuning).
_base_ = [
    '../_base_/models/emo_cls.py',
    '../_base_/datasets/imagenet_bs256_emo_224.py',
    '../_base_/schedules/imagenet_bs2048_adamw_emo.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(backbone=dict(arch='5M'), head=dict(in_channels=288))
custom_hooks = [
    dict(type='RandomStateHook'),
    # timm-style EMA of weights and buffers, every iteration
    dict(
        type='EMAHook',
        momentum=2e-4,  # 1 - 0.9998
        update_buffers=True,
        priority='ABOVE_NORMAL'),
]
