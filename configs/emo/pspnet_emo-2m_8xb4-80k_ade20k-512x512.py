# PSPNet + EMO-2M on ADE20K, 512x512 crops, 80k iterations on 8 GPUs x 4
# images: EMO's official recipe. The backbone starts from the authors'
# ImageNet-1k EMO-2M weights (EMO_2M/net.pth, by URL); from scratch:
# --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/pspnet_emo.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(arch='2M', window_size=7, drop_path_rate=0.05),
    decode_head=dict(in_channels=200),
    auxiliary_head=dict(in_channels=120))
