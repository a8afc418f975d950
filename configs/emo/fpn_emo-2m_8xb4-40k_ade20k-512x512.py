# Recipe: RepViT's ADE20K Semantic FPN (none published for EMO).
# Semantic FPN + EMO-2M on ADE20K, 512x512 crops. EMO publishes no Semantic FPN
# recipe: this is the closest published one, RepViT's (schedule_40k.py: AdamW
# lr 2e-4, weight decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; neck and
# head of _base_/models/fpn_repvit.py), with the EMO backbone as in EMO's
# DeepLabv3/PSPNet (window 7, drop path 0.05, trainable BN). The backbone
# starts from the authors' ImageNet-1k EMO-2M weights (EMO_2M/net.pth, by URL);
# from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './fpn_emo-5m_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='2M', window_size=7),
    neck=dict(in_channels=[32, 48, 120, 200]))
