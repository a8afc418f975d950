# RepViT-M1.5 on ImageNet-1k with RepViT's recipe:
# repvit-m1-1_8xb256_in1k.py with the M1.5 backbone and head width.
_base_ = './repvit-m1-1_8xb256_in1k.py'
model = dict(backbone=dict(arch='m1_5'), head=dict(in_channels=512))
