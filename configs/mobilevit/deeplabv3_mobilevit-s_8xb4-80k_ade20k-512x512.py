# Recipe: EMO's ADE20K DeepLabv3 (MobileViT has no ADE20K recipe).
# DeepLabv3 + MobileViT-S on ADE20K, 512x512 crops. MobileViT's paper trains
# DeepLabv3 on PASCAL VOC only; on ADE20K this uses EMO's recipe
# (schedule_80k.py: AdamW lr 1.2e-4, weight decay 0.01 except norms, poly, 80k
# iterations, 8 GPUs x 4 images; heads of _base_/models/deeplabv3_emo.py). The
# backbone starts from the authors' ImageNet-1k MobileViT-S weights
# (mobilevit_s.pt, by URL); from scratch: --cfg-options
# model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/deeplabv3_mobilevit.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
# MobileViT-S: the _base_ model as it is
model = dict(data_preprocessor=data_preprocessor)
