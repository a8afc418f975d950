# Recipe: CPU demo, the DeepLabv3 + EMO-1M toy demo on a segmentation folder.
# CPU demo and the "your own data" example for segmentation: the toy
# DeepLabv3 + EMO-1M of deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py
# (same model, pipelines and 128x128 crops) on a dataset that is a plain
# folder of images + PNG masks with a class list, the procedural 5-class set
# made by
#   python tools/dataset_converters/make_toy_data.py folder-seg \
#       --out data/toy/folder_seg
# read by FolderSegDataset: class names from classes.txt (one a line),
# colours from palette.txt ("R G B" a line, optional), masks holding 0..4
# with 255 for unlabelled pixels. reduce_zero_label=False because 0 is a
# class here (background); masks in which 0 means "unlabelled" and 1..N
# the N classes take reduce_zero_label=True (0 -> 255, k -> k - 1).
# 80 iterations from scratch: about 50 mIoU on the default toy set, where
# the best constant prediction (all background) scores 10.8
# (tests/test_own_data.py prints both).
_base_ = './deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'
data_root = 'data/toy/folder_seg/'
# The heads' classes: the 5 lines of classes.txt (a head with another
# number is refused at start-up, with both numbers).
num_classes = 5
model = dict(
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))

folder = dict(
    type='FolderSegDataset',
    data_root=data_root,
    metainfo=dict(
        classes=data_root + 'classes.txt', palette=data_root + 'palette.txt'),
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=False)
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        **folder,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train')))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        **folder,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val')))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        **folder,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val')))

max_iters = 80
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=10, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=10,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=max_iters))
