# RepViT-M1.0 on ImageNet-1k with RepViT's recipe:
# repvit-m1-1_8xb256_in1k.py with the M1.0 backbone and head width.
_base_ = './repvit-m1-1_8xb256_in1k.py'
model = dict(backbone=dict(arch='m1_0'), head=dict(in_channels=448))
