# DeepLabv3 with a RepViT backbone. RepViT publishes no DeepLabv3 setting:
# these are the heads of EMO's official ADE20K DeepLabv3 (deeplabv3_emo.py:
# ASPPHead on the stride-32 stage + FCNHead auxiliary on the stride-16 stage)
# on RepViT's four stages (strides 4-32), with BN trained as in EMO's recipe.
# RepViT-M1.1 by default; the leaf configs set the arch and head inputs.
_base_ = './deeplabv3_emo.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='RepViT',
        arch='m1_1',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/THU-MIG/RepViT/releases/download/'
            'v1.0/repvit_{arch}_distill_300e.pth'),
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=512, in_index=3),
    auxiliary_head=dict(in_channels=256, in_index=2))
