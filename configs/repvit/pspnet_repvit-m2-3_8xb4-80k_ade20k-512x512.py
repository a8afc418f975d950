# Recipe: EMO's ADE20K PSPNet (none published for RepViT).
# PSPNet + RepViT-M2.3 on ADE20K, 512x512 crops. RepViT publishes no PSPNet
# recipe: this is the closest published one, EMO's (schedule_80k.py: AdamW lr
# 1.2e-4, weight decay 0.01 except norms, poly, 80k iterations, 8 GPUs x 4
# images; heads of _base_/models/pspnet_emo.py). The backbone starts from the
# authors' ImageNet-1k RepViT-M2.3 weights (repvit_m2_3_distill_450e.pth, by
# URL); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './pspnet_repvit-m1-1_8xb4-80k_ade20k-512x512.py'
model = dict(
    # M2.3 starts from the 450-epoch ImageNet-1k weights, as the official
    # downstream configs
    backbone=dict(
        arch='m2_3',
        init_cfg=dict(
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_m2_3_distill_450e.pth')),
    decode_head=dict(in_channels=640),
    auxiliary_head=dict(in_channels=320))
