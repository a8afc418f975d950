# DeepLabv3 + EMO-6M on ADE20K. EMO has no official 6M segmentation recipe: this
# config follows the 5M recipe (window 16, drop path 0.05, same heads and
# schedule) with the 6M backbone. The backbone starts from the authors'
# ImageNet-1k EMO-6M weights (EMO_6M/net.pth, by URL); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = './deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='6M'),
    decode_head=dict(in_channels=320))
