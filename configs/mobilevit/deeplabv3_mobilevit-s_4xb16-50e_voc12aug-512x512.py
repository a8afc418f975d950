# Recipe: MobileViT's own PASCAL VOC 2012 DeepLabv3.
# DeepLabv3 + MobileViT-S on PASCAL VOC 2012 + the augmented set, 512x512
# crops: MobileViT's recipe (apple/ml-cvnets config/segmentation/pascal_voc/
# deeplabv3_mobilevit.yaml; paper: 79.1 mIoU, ml-cvnets' model zoo 79.3):
# * backbone at output stride 8 (layer4 and layer5 without their
#   downsampling stride, layer5's depthwise conv dilated by 2), transformer
#   dropout 0.1, BN trained (SyncBN, momentum 0.1); the authors' ImageNet-1k
#   weights (the family base: mobilevit_s.pt by URL);
# * DeepLabv3 head on layer5: ASPP with 512 channels, a 1x1 branch and rates
#   12/24/36, image pooling, 1x1 projection (DeepLabV3Head), dropout 0.1,
#   ReLU; auxiliary head on layer4 (3x3 conv to 128 channels, dropout 0.1,
#   loss weight 0.4); logits upsampled with align_corners=True;
# * data: _base_/datasets/pascal_voc12_aug.py (ml-cvnets' augmentations,
#   evaluation at a 512 short side); schedule:
#   _base_/schedules/schedule_voc_mobilevit_50e.py (AdamW 9e-4, heads x10,
#   50 epochs, EMA), 4 GPUs x 16 images, gradients of 2 iterations
#   accumulated.
# Differences: no COCO images in the training set (see the dataset base);
# the paper's 6.4M parameters are those of a 256-channel ASPP (ml-cvnets'
# earlier setting); with the 512 channels of the current config the model
# has more (tools/analysis_tools/get_flops.py prints the count).
_base_ = [
    '../_base_/models/deeplabv3_mobilevit.py',
    '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_voc_mobilevit_50e.py'
]
crop_size = (512, 512)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    size=crop_size, mean=[0., 0., 0.], std=[255., 255., 255.],
    bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(output_stride=8, drop_rate=0.1),
    decode_head=dict(
        _delete_=True,
        type='DeepLabV3Head',
        in_channels=160,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=128,
        in_index=2,
        channels=128,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)))
log_processor = dict(by_epoch=True)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='FusedSegLossHook'),
    # ml-cvnets EMA: weights and buffers, every iteration
    dict(type='EMAHook', momentum=5e-4, update_buffers=True,
         priority='ABOVE_NORMAL'),
]
