# Recipe: EMO's RetinaNet (none published for MobileViT).
# RetinaNet + MobileViT-S on COCO 2017, 1x schedule on 8 GPUs x 4 images.
# MobileViT published no RetinaNet: this is EMO's RetinaNet recipe, the
# closest published one (see _base_/models/retinanet_mobilevit.py), FPN on
# the last three stages. The backbone starts from the authors' ImageNet-1k
# MobileViT-S weights (mobilevit_s.pt, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/retinanet_mobilevit.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
train_dataloader = dict(batch_size=4, num_workers=4)
# MobileViT-S: the _base_ model
