# Recipe: MobileViT's own PASCAL VOC 2012 DeepLabv3.
# DeepLabv3 + MobileViT-XS on PASCAL VOC 2012 + the augmented set: the
# MobileViT-S recipe (deeplabv3_mobilevit-s_4xb16-50e_voc12aug-512x512.py;
# ml-cvnets' deeplabv3_mobilevit.yaml with mode 'x_small'; its model zoo:
# 77.1 mIoU) with the XS backbone (mobilevit_xs.pt by URL) and head inputs;
# the auxiliary head keeps 128 channels (ml-cvnets: max(C4 / 4, 128)).
_base_ = './deeplabv3_mobilevit-s_4xb16-50e_voc12aug-512x512.py'
model = dict(
    backbone=dict(arch='xs'), decode_head=dict(in_channels=96),
    auxiliary_head=dict(in_channels=80))
