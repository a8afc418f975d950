# Recipe: EMO's official RetinaNet (FPN on the last three stages).
# RetinaNet + EMO-2M on COCO 2017, 1x schedule on 8 GPUs x 4 images: EMO's
# official recipe (EMO README: 36.2 AP, 11.5M parameters; attention window 7),
# FPN on the last three stages (the same network as the official stages 1-4
# with start_level=1). The backbone starts from the authors' ImageNet-1k EMO-2M
# weights (EMO_2M/net.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './retinanet_emo-5m_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='2M', window_size=7, drop_path_rate=0.05),
    neck=dict(in_channels=[48, 120, 200]))
