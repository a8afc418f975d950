# MobileViT ImageNet classifier (ml-cvnets): the backbone's final 1x1 conv
# (final_conv=True: on output index 4, min(4 x C5, 960) channels) -> global
# mean -> dropout 0.1 -> Linear; transformer dropout 0.1 (after attention and
# after the FFN: ml-cvnets mit.dropout; attention and FFN-inner dropout 0).
# Label smoothing 0.1. MobileViT-S by default;
# the leaf configs set the arch and the head width.
# mmlightvit's MobileViT is registered as 'MobileViTBackbone' (mmpretrain
# registers a 'MobileViT' of its own).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='MobileViTBackbone', arch='s', out_indices=(4, ),
        final_conv=True, drop_rate=0.1),
    head=dict(
        type='PooledLinearClsHead',
        num_classes=1000,
        in_channels=640,
        dropout_rate=0.1,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
