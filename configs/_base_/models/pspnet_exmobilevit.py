# PSPNet with an ExMobileViT backbone: pspnet_mobilevit.py (EMO's ADE20K recipe
# on MobileViT-S) with the ExShortcuts used for dense prediction
# (ex_context=True, this project's extension; the paper has no dense setting):
# the pooled ExShortcut vectors of layer3/layer4 are broadcast and concatenated
# to layer5, so the decode head sees 160 + 96 / 160 / 288 channels for
# ExMobileViT-576 / 640 / 928. Without ex_context the dense backbone would be
# MobileViT-S itself. ExMobileViT-928 by default; the leaf configs set the arch
# and the decode head input.
_base_ = './pspnet_mobilevit.py'
model = dict(
    backbone=dict(
        type='ExMobileViT',
        arch='928',
        ex_context=True,
        # no ExMobileViT weights are published: MobileViT-S's ImageNet-1k
        # weights (all but the ExShortcuts fit), by URL
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://docs-assets.developer.apple.com/'
            'ml-research/models/cvnets/classification/mobilevit_s.pt')),
    decode_head=dict(in_channels=448))
