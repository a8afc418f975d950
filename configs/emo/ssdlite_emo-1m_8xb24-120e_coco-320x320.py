# Recipe: EMO's official SSDLite.
# SSDLite + EMO-1M on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24 images:
# EMO's official recipe (EMO README: 22.0 AP, 2.3M parameters; attention
# window 7, drop path 0.04036). The backbone starts from the authors'
# ImageNet-1k EMO-1M weights (EMO_1M/net.pth, by URL); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = './ssdlite_emo-5m_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='1M', window_size=7, drop_path_rate=0.04036),
    neck=dict(
        in_channels=(80, 168), out_channels=(80, 168, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(80, 168, 512, 256, 256, 128)))
