# Recipe: RepViT's official ADE20K Semantic FPN.
# Semantic FPN + RepViT-M1.1 on ADE20K, 512x512 crops: RepViT's official recipe
# (40.6 mIoU in its segmentation README; schedule_40k.py: AdamW lr 2e-4, weight
# decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; backbone BN frozen),
# with its taps (the last block of each resolution, see
# _base_/models/fpn_repvit.py) and its test-time aligned resize (keep ratio,
# sides resized to multiples of 32: _base_/datasets/ade20k_aligned.py). The
# published repvit_m1_1_ade20k.pth (mmseg 0.x) loads as it is:
#   python tools/test.py THIS_CONFIG repvit_m1_1_ade20k.pth
# The backbone starts from the authors' ImageNet-1k RepViT-M1.1 weights
# (repvit_m1_1_distill_300e.pth, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/fpn_repvit.py',
    '../_base_/datasets/ade20k_aligned.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# RepViT-M1.1: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
