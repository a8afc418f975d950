# Recipe: EMO's official SSDLite.
# SSDLite + EMO-2M on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24 images:
# EMO's official recipe (EMO README: 25.2 AP, 3.3M parameters; attention
# window 7). The backbone starts from the authors' ImageNet-1k EMO-2M weights
# (EMO_2M/net.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './ssdlite_emo-5m_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='2M', window_size=7, drop_path_rate=0.05),
    neck=dict(
        in_channels=(120, 200), out_channels=(120, 200, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(120, 200, 512, 256, 256, 128)))
