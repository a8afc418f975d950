# RepViT ImageNet classifier (the official RepViT model without its
# distillation head): the backbone's last stage -> global mean ->
# BatchNorm1d -> Linear (official ``BN_Linear``). Mixup 0.8 / CutMix 1.0
# (one of the two per batch) with label smoothing 0.1, as RepViT's main.py.
# RepViT-M1.1 by default; the leaf configs set the arch and the head width.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='RepViT', arch='m1_1', out_indices=(4, )),
    head=dict(
        type='PooledLinearClsHead',
        num_classes=1000,
        in_channels=512,
        post_norm_cfg=dict(type='BN1d'),
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))
