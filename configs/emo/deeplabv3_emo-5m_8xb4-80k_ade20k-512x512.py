# DeepLabv3 + EMO-5M on ADE20K, 512x512 crops, 80k iterations on 8 GPUs x 4
# images: EMO's official recipe. The backbone starts from the authors'
# ImageNet-1k EMO-5M weights (EMO_5M/net.pth, by URL); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/deeplabv3_emo.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)  # EMO-5M: the _base_ model
