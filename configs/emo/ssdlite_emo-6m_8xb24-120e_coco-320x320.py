# Recipe: EMO-5M's official SSDLite (none published for EMO-6M).
# SSDLite + EMO-6M on COCO 2017 at 320x320, 120 epochs on 8 GPUs x 24 images.
# EMO published no EMO-6M detector; this is the EMO-5M recipe, the closest
# published one (attention window 10, drop path 0.05 as there). The backbone
# starts from the authors' ImageNet-1k EMO-6M weights (EMO_6M/net.pth, by URL);
# from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './ssdlite_emo-5m_8xb24-120e_coco-320x320.py'
model = dict(
    backbone=dict(arch='6M'),
    neck=dict(
        in_channels=(160, 320), out_channels=(160, 320, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(160, 320, 512, 256, 256, 128)))
