# EMO ImageNet classifier (the official EMO_* model): the backbone's last
# stage -> final LayerNorm over channels (the official ``norm``) -> global
# mean -> Linear. Label smoothing 0.1 (EMO's LabelSmoothingCE). EMO-5M by
# default; the leaf configs set the arch and the head width.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='EMO', arch='5M', out_indices=(4, )),
    head=dict(
        type='PooledLinearClsHead',
        num_classes=1000,
        in_channels=288,
        pre_norm_cfg=dict(type='LN2d', eps=1e-6),
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
