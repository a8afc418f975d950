# Recipe: RepViT's ADE20K Semantic FPN (none published for ExMobileViT).
# Semantic FPN + ExMobileViT-576 on ADE20K, 512x512 crops. ExMobileViT
# publishes no dense recipe: this is the closest published Semantic FPN one,
# RepViT's (schedule_40k.py: AdamW lr 2e-4, weight decay 1e-4, poly, 40k
# iterations, 8 GPUs x 4 images), as the MobileViT-S config. The backbone is
# MobileViT-S with ExMobileViT-576's ExShortcuts appended as context to layer5
# (ex_context=True: 256 channels at stride 32, see
# _base_/models/fpn_exmobilevit.py). No ExMobileViT weights are public: the
# backbone starts from the authors' ImageNet-1k MobileViT-S weights
# (mobilevit_s.pt, by URL; all but the ExShortcuts) or, with --cfg-options
# model.backbone.init_cfg.checkpoint=PATH, from an ExMobileViT classifier
# trained here (its head.ex_shortcuts fill the ExShortcuts); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = './fpn_exmobilevit-928_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='576'),
    neck=dict(in_channels=[64, 96, 128, 256]))
