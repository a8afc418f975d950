# ExMobileViT ImageNet classifier: MobileViT-S with the variant's final 1x1
# conv, whose layer3 / layer4 / final-conv outputs (out_indices=(2, 3, 4),
# final_conv=True) feed ExMobileViTClsHead: the ExShortcuts (1x1 conv + BN +
# SiLU) on layer3 and layer4, global mean of all three, concatenation (576 /
# 640 / 928 channels) -> Linear. Label smoothing 0.1. ExMobileViT-928 by
# default; the leaf configs set the arch (backbone and head).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ExMobileViT', arch='928', out_indices=(2, 3, 4),
        final_conv=True),
    head=dict(
        type='ExMobileViTClsHead',
        num_classes=1000,
        arch='928',
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
