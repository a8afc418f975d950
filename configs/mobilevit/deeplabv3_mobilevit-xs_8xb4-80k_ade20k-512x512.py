# Recipe: EMO's ADE20K DeepLabv3 (MobileViT has no ADE20K recipe).
# DeepLabv3 + MobileViT-XS on ADE20K, 512x512 crops. MobileViT's paper trains
# DeepLabv3 on PASCAL VOC only; on ADE20K this uses EMO's recipe
# (schedule_80k.py: AdamW lr 1.2e-4, weight decay 0.01 except norms, poly, 80k
# iterations, 8 GPUs x 4 images; heads of _base_/models/deeplabv3_emo.py). The
# backbone starts from the authors' ImageNet-1k MobileViT-XS weights
# (mobilevit_xs.pt, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './deeplabv3_mobilevit-s_8xb4-80k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='xs'),
    decode_head=dict(in_channels=96),
    auxiliary_head=dict(in_channels=80))
