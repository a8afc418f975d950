# ExMobileViT-640 on ImageNet-1k: exmobilevit-928_8xb128_in1k.py with the
# 640 variant (final conv and ExShortcut widths) in backbone and head.
_base_ = './exmobilevit-928_8xb128_in1k.py'
model = dict(backbone=dict(arch='640'), head=dict(arch='640'))
