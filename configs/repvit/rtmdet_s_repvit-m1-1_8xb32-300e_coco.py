# Recipe: mmdet's RTMDet-s (300 epochs, 640x640) on RepViT-M1.1.
# RTMDet-s + RepViT-M1.1 on COCO 2017, 300 epochs on 8 GPUs x 32 images:
# rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py at the RTMDet-s scale of
# mmdet's rtmdet_s_8xb32-300e_coco.py: PAFPN and head 128 channels wide,
# RTMDet-s's Mosaic/MixUp settings (larger caches, MixUp on every batch).
_base_ = './rtmdet_tiny_repvit-m1-1_8xb32-300e_coco.py'
model = dict(
    neck=dict(out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline_s))
