# MobileViT ImageNet classifier (ml-cvnets): the backbone's final 1x1 conv
# (output index 5, min(4 x C5, 960) channels) -> global mean -> dropout 0.1
# -> Linear. Label smoothing 0.1. MobileViT-S by default; the leaf configs
# set the arch and the head width.
# mmpretrain registers a MobileViT of its own, which the mmpretrain scope
# finds first: 'mmengine.MobileViT' is mmlightvit's (in mmengine's root
# registry).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmengine.MobileViT', arch='s', out_indices=(5, )),
    head=dict(
        type='PooledLinearClsHead',
        num_classes=1000,
        in_channels=640,
        dropout_rate=0.1,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
