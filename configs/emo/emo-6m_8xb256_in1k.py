# EMO-6M on ImageNet-1k with EMO's recipe: emo-5m_8xb256_in1k.py with the
# 6M backbone (its official drop path rate) and head width.
_base_ = './emo-5m_8xb256_in1k.py'
model = dict(backbone=dict(arch='6M'), head=dict(in_channels=320))
