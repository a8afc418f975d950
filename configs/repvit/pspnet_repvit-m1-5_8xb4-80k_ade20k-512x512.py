# Recipe: EMO's ADE20K PSPNet (none published for RepViT).
# PSPNet + RepViT-M1.5 on ADE20K, 512x512 crops. RepViT publishes no PSPNet
# recipe: this is the closest published one, EMO's (schedule_80k.py: AdamW lr
# 1.2e-4, weight decay 0.01 except norms, poly, 80k iterations, 8 GPUs x 4
# images; heads of _base_/models/pspnet_emo.py). The backbone starts from the
# authors' ImageNet-1k RepViT-M1.5 weights (repvit_m1_5_distill_300e.pth, by
# URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './pspnet_repvit-m1-1_8xb4-80k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='m1_5'))
