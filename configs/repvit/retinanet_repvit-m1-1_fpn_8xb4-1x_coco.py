# Recipe: EMO's RetinaNet (none published for RepViT).
# RetinaNet + RepViT-M1.1 on COCO 2017, 1x schedule on 8 GPUs x 4 images.
# RepViT published no RetinaNet: this is EMO's RetinaNet recipe, the closest
# published one (see _base_/models/retinanet_repvit.py; AdamW lr 2e-4, weight
# decay 0.05 as RepViT's own Mask R-CNN 1x), FPN on the last three stages.
# The backbone starts from the authors' ImageNet-1k RepViT-M1.1 weights
# (repvit_m1_1_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/retinanet_repvit.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
train_dataloader = dict(batch_size=4, num_workers=4)
# RepViT-M1.1: the _base_ model
