# Recipe: RepViT's ADE20K Semantic FPN (none published for MobileViT).
# Semantic FPN + MobileViT-S on ADE20K, 512x512 crops. MobileViT publishes no
# ADE20K recipe: this is the closest published Semantic FPN one, RepViT's
# (schedule_40k.py: AdamW lr 2e-4, weight decay 1e-4, poly, 40k iterations, 8
# GPUs x 4 images), with trainable backbone BN. The backbone starts from the
# authors' ImageNet-1k MobileViT-S weights (mobilevit_s.pt, by URL); from
# scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/fpn_mobilevit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# MobileViT-S: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
