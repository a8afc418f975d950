# Recipe: RepViT's official ImageNet-1k recipe, with its distillation.
# RepViT-M1.0 on ImageNet-1k as the published models were trained:
# repvit-m1-1-distilled_8xb256_in1k.py (RegNetY-16GF hard distillation, AGC
# 0.02) with the M1.0 backbone and head width.
_base_ = './repvit-m1-1-distilled_8xb256_in1k.py'
model = dict(backbone=dict(arch='m1_0'), head=dict(in_channels=448))
