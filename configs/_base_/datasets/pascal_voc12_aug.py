# PASCAL VOC 2012 with the augmented set (mmseg's pascal_voc12_aug.py layout:
# train.txt with SegmentationClass + aug.txt with SegmentationClassAug, both
# under data/VOCdevkit/VOC2012; toy version: python
# tools/dataset_converters/make_toy_data.py voc), 21 classes, 255 ignored,
# with the data recipe of MobileViT's DeepLabv3 (apple/ml-cvnets
# config/segmentation/pascal_voc/deeplabv3_mobilevit.yaml and
# data/datasets/segmentation/base_segmentation.py), in its order:
# * shorter side resized to U{256..768} keeping the ratio, longer side at most
#   1024 (RandomShortSizeResize: RandomResize between (1024, 256) and
#   (1024, 768) computes the same scale);
# * horizontal flip (0.5); 512x512 random crop that no class fills over 75%
#   (10 tries), padded with 0 / 255 (the data preprocessor pads);
# * Gaussian blur (0.5, radius U(0, 1)), ml-cvnets' photometric distortion
#   (CvnetsGaussianBlur, CvnetsPhotometricDistort), rotation by U(-10, 10)
#   degrees (0.5, image 0 / mask 255);
# * inputs RGB in [0, 1] (no mean/std: the model's data preprocessor).
# Evaluation as ml-cvnets' (cvnets-eval-seg --evaluation.segmentation.resize-
# input-images): the shorter side resized to 512 keeping the ratio, the
# prediction resized back and scored on the original mask.
# Differences: ml-cvnets' training list is VOC train_aug (10582 images)
# plus COCO images mapped to the VOC classes (dataset.pascal.use_coco_data,
# its own preprocessed list) -- add yours as a third part of the
# ConcatDataset; its crop pads before cropping (the same crops, padding at
# the bottom/right); PIL bilinear resizing here is cv2's; validation during
# training uses the evaluation resize (ml-cvnets: a fixed 512x512 resize).
dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomResize', scale=[(1024, 256), (1024, 768)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='CvnetsGaussianBlur', prob=0.5),
    dict(type='CvnetsPhotometricDistort', prob=0.5),
    dict(type='RandomRotate', prob=0.5, degree=10, pad_val=0,
         seg_pad_val=255),
    dict(type='PackSegInputs')
]
val_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset_train = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/train.txt',
    pipeline=train_pipeline)
dataset_aug = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(
        img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
    ann_file='ImageSets/Segmentation/aug.txt',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[dataset_train, dataset_aug]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
