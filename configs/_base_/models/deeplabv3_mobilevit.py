# DeepLabv3 with a MobileViT backbone. MobileViT's paper trains DeepLabv3 on
# PASCAL VOC only (ml-cvnets' heads, output stride 16); on ADE20K this uses
# EMO's official recipe instead (deeplabv3_emo.py: ASPPHead on the stride-32
# level + FCNHead auxiliary on the stride-16 level). The backbone gives
# layer2-layer5 (strides 4-32; the classifier's final 1x1 conv is not built, as
# in ml-cvnets' segmentation models), BN trained, no stochastic depth (as the
# official models). MobileViT-S by default; the leaf configs set the arch and
# head inputs.
_base_ = './deeplabv3_emo.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileViTBackbone',
        arch='s',
        # the authors' ImageNet-1k weights of the arch ({arch}), by URL,
        # kept in the torch hub cache; from scratch: init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://docs-assets.developer.apple.com/ml-research/'
            'models/cvnets/classification/mobilevit_{arch}.pt'),
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        drop_path_rate=0.,
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=160, in_index=3),
    auxiliary_head=dict(in_channels=128, in_index=2))
