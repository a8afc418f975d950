# Semantic FPN with an EMO backbone: the neck and head of fpn_repvit.py
# (RepViT's official ADE20K Semantic FPN, mmseg's fpn_r50.py) on the EMO
# backbone of EMO's official dense setting (deeplabv3_emo.py: stages 1-4,
# trainable BN, drop path 0.05, window 16 for 5M). EMO-5M by default; the
# leaf configs set the arch, window and neck inputs.
_base_ = './fpn_repvit.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='EMO',
        arch='5M',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/zhangzjn/EMO/raw/main/resources/'
            'EMO_{arch}/net.pth'),
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        window_size=16,
        drop_path_rate=0.05,
        norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(in_channels=[48, 72, 160, 288]))
