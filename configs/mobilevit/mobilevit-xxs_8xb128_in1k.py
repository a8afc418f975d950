# MobileViT-XXS on ImageNet-1k with MobileViT's recipe:
# mobilevit-s_8xb128_in1k.py with the XXS backbone and head width.
_base_ = './mobilevit-s_8xb128_in1k.py'
model = dict(backbone=dict(arch='xxs'), head=dict(in_channels=320))
