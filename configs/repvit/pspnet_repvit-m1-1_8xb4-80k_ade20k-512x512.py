# Recipe: EMO's ADE20K PSPNet (none published for RepViT).
# PSPNet + RepViT-M1.1 on ADE20K, 512x512 crops. RepViT publishes no PSPNet
# recipe: this is the closest published one, EMO's (schedule_80k.py: AdamW lr
# 1.2e-4, weight decay 0.01 except norms, poly, 80k iterations, 8 GPUs x 4
# images; heads of _base_/models/pspnet_emo.py). The backbone starts from the
# authors' ImageNet-1k RepViT-M1.1 weights (repvit_m1_1_distill_300e.pth, by
# URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/pspnet_repvit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# RepViT-M1.1: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
