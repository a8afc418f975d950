# Recipe: RepViT's official ImageNet-1k recipe, with its distillation.
# RepViT-M2.3 on ImageNet-1k as the published models were trained:
# repvit-m1-1-distilled_8xb256_in1k.py (RegNetY-16GF hard distillation, AGC
# 0.02) with the M2.3 backbone and head width.
_base_ = './repvit-m1-1-distilled_8xb256_in1k.py'
model = dict(backbone=dict(arch='m2_3'), head=dict(in_channels=640))
