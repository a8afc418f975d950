# RepViT-M0.9 on ImageNet-1k with RepViT's recipe:
# repvit-m1-1_8xb256_in1k.py with the M0.9 backbone and head width.
_base_ = './repvit-m1-1_8xb256_in1k.py'
model = dict(backbone=dict(arch='m0_9'), head=dict(in_channels=384))
