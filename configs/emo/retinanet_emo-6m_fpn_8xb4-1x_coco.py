# Recipe: EMO-5M's official RetinaNet (none published for EMO-6M).
# RetinaNet + EMO-6M on COCO 2017, 1x schedule on 8 GPUs x 4 images. EMO
# published no EMO-6M detector; this is the EMO-5M recipe, the closest
# published one (EMO-6M is EMO-5M with a wider last stage: attention window 10
# and drop path 0.05 as there), FPN on the last three stages. The backbone
# starts from the authors' ImageNet-1k EMO-6M weights (EMO_6M/net.pth, by URL);
# from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = './retinanet_emo-5m_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='6M'),
    neck=dict(in_channels=[72, 160, 320]))
