# Recipe: EMO's ADE20K DeepLabv3 (none published for ExMobileViT).
# DeepLabv3 + ExMobileViT-928 on ADE20K, 512x512 crops. ExMobileViT publishes
# no dense recipe: this uses EMO's, as the MobileViT-S config (schedule_80k.py:
# AdamW lr 1.2e-4, weight decay 0.01 except norms, poly, 80k iterations, 8 GPUs
# x 4 images). The backbone is MobileViT-S with ExMobileViT-928's ExShortcuts
# appended as context to layer5 (ex_context=True: 448 channels at stride 32,
# see _base_/models/deeplabv3_exmobilevit.py). No ExMobileViT weights are
# public: the backbone starts from the authors' ImageNet-1k MobileViT-S weights
# (mobilevit_s.pt, by URL; all but the ExShortcuts) or, with --cfg-options
# model.backbone.init_cfg.checkpoint=PATH, from an ExMobileViT classifier
# trained here (its head.ex_shortcuts fill the ExShortcuts); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/deeplabv3_exmobilevit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# ExMobileViT-928: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
