# Recipe: RepViT's ADE20K Semantic FPN (none published for EMO).
# Semantic FPN + EMO-5M on ADE20K, 512x512 crops. EMO publishes no Semantic FPN
# recipe: this is the closest published one, RepViT's (schedule_40k.py: AdamW
# lr 2e-4, weight decay 1e-4, poly, 40k iterations, 8 GPUs x 4 images; neck and
# head of _base_/models/fpn_repvit.py), with the EMO backbone as in EMO's
# DeepLabv3/PSPNet (window 16, drop path 0.05, trainable BN). The backbone
# starts from the authors' ImageNet-1k EMO-5M weights (EMO_5M/net.pth, by URL);
# from scratch: --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/fpn_emo.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# EMO-5M: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
