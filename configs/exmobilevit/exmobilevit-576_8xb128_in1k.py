# ExMobileViT-576 on ImageNet-1k: exmobilevit-928_8xb128_in1k.py with the
# 576 variant (final conv and ExShortcut widths) in backbone and head.
_base_ = './exmobilevit-928_8xb128_in1k.py'
model = dict(backbone=dict(arch='576'), head=dict(arch='576'))
