# Recipe: EMO's ADE20K DeepLabv3 (none published for RepViT).
# DeepLabv3 + RepViT-M1.5 on ADE20K, 512x512 crops. RepViT publishes no
# DeepLabv3 recipe: this is the closest published one, EMO's (schedule_80k.py:
# AdamW lr 1.2e-4, weight decay 0.01 except norms, poly, 80k iterations, 8 GPUs
# x 4 images; heads of _base_/models/deeplabv3_emo.py). The backbone starts
# from the authors' ImageNet-1k RepViT-M1.5 weights
# (repvit_m1_5_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './deeplabv3_repvit-m1-1_8xb4-80k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='m1_5'))
