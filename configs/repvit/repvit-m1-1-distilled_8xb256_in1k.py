# Recipe: RepViT's official ImageNet-1k recipe, with its distillation.
# RepViT-M1.1 on ImageNet-1k exactly as the published models were trained
# (THU-MIG/RepViT main.py defaults): repvit-m1-1_8xb256_in1k.py (8 GPUs x
# 256, AdamW 4e-3, weight decay 0.025, 300 epochs, RandAugment, random
# erasing 0.25, repeated augmentation x3, mixup 0.8 / cutmix 1.0, label
# smoothing 0.1, EMA 0.99996, adaptive gradient clipping 0.02) plus DeiT's
# hard distillation: a frozen RegNetY-16GF teacher (timm regnety_160 with
# DeiT's weights, by URL; global average pooling) sees every augmented batch,
# a second classifier (BN + Linear, the official classifier_dist) learns its
# argmax: loss = 0.5 CE(cls, targets) + 0.5 CE(dist, argmax teacher);
# evaluation averages the two classifiers' logits, as the official model.
# The teacher is built when training starts (nothing downloads to test); a
# local copy: --cfg-options model.teacher.checkpoint=PATH.
#   python tools/train.py configs/repvit/repvit-m1-1-distilled_8xb256_in1k.py
# Difference: the timm Mixup of main.py folds label smoothing into the mixed
# targets; here LabelSmoothLoss smooths mmpretrain's mixed targets (see
# repvit-m1-1_8xb256_in1k.py).
_base_ = './repvit-m1-1_8xb256_in1k.py'
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(
        model='regnety_160',
        checkpoint='https://dl.fbaipublicfiles.com/deit/'
        'regnety_160-a5fe301d.pth',
        global_pool='avg'),
    head=dict(type='PooledDistillClsHead', distill_alpha=0.5))
