# SSDLite with an ExMobileViT backbone: ssdlite_mobilevit.py (EMO's SSDLite
# recipe on MobileViT-S; the ExMobileViT paper has no detection setting) with
# the ExShortcuts used for dense prediction (ex_context=True, this project's
# extension): the pooled ExShortcut vectors of layer3/layer4 are broadcast
# and concatenated to layer5, so the stride-32 input has 160 + 96 / 160 / 288
# channels for ExMobileViT-576 / 640 / 928. ExMobileViT-928 by default; the
# leaf configs set the arch and the neck/head widths.
_base_ = './ssdlite_mobilevit.py'
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
    neck=dict(
        in_channels=(128, 448), out_channels=(128, 448, 512, 256, 256, 128)),
    bbox_head=dict(in_channels=(128, 448, 512, 256, 256, 128)))
