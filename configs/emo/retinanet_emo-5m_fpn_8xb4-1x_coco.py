# Recipe: EMO's official RetinaNet (FPN on the last three stages).
# RetinaNet + EMO-5M on COCO 2017, 1x schedule on 8 GPUs x 4 images: EMO's
# official recipe (EMO README: 38.9 AP, 14.4M parameters), with the FPN on
# the backbone's last three stages. The official config takes stages 1-4 with
# FPN start_level=1, so its FPN ignores stage 1: the same network and
# parameter count as here (see _base_/models/retinanet_emo.py). The backbone
# starts from the authors' ImageNet-1k EMO-5M weights (EMO_5M/net.pth, by URL);
# from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/retinanet_emo.py', '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
train_dataloader = dict(batch_size=4, num_workers=4)
# EMO-5M (window 10, drop path 0.05): the _base_ model
