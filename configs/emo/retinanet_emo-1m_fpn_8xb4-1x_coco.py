# Recipe: EMO's official RetinaNet (FPN on the last three stages).
# RetinaNet + EMO-1M on COCO 2017, 1x schedule on 8 GPUs x 4 images: EMO's
# official recipe (EMO README: 34.4 AP, 10.4M parameters; attention window 7,
# drop path 0.04036), FPN on the last three stages (the same network as the
# official stages 1-4 with start_level=1). The backbone starts from the
# authors' ImageNet-1k EMO-1M weights (EMO_1M/net.pth, by URL: the official
# RetinaNet-1M config says pretrained=None, but the log of its published run
# loaded these weights); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = './retinanet_emo-5m_fpn_8xb4-1x_coco.py'
model = dict(
    backbone=dict(arch='1M', window_size=7, drop_path_rate=0.04036),
    neck=dict(in_channels=[48, 80, 168]))
