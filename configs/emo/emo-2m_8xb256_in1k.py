# EMO-2M on ImageNet-1k with EMO's recipe: emo-5m_8xb256_in1k.py with the
# 2M backbone (its official drop path rate) and head width.
_base_ = './emo-5m_8xb256_in1k.py'
model = dict(backbone=dict(arch='2M'), head=dict(in_channels=200))
