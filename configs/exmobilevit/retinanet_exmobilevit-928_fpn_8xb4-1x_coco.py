# Recipe: EMO's RetinaNet (none published for ExMobileViT).
# RetinaNet + ExMobileViT-928 on COCO 2017, 1x schedule on 8 GPUs x 4 images.
# The ExMobileViT paper has no detection setting (and no public code): this
# is the MobileViT-S RetinaNet config (EMO's RetinaNet recipe, the closest
# published one) with the ExShortcut context on the stride-32 level (see
# _base_/models/retinanet_exmobilevit.py), FPN on the last three stages. No
# ExMobileViT weights are public: the backbone starts from the authors'
# ImageNet-1k MobileViT-S weights (mobilevit_s.pt, by URL; all but the
# ExShortcuts) or, with --cfg-options model.backbone.init_cfg.checkpoint=PATH,
# from an ExMobileViT classifier trained here (its head.ex_shortcuts fill the
# ExShortcuts); from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/retinanet_exmobilevit.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
train_dataloader = dict(batch_size=4, num_workers=4)
# ExMobileViT-928: the _base_ model
