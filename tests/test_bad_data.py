"""Broken samples are refused with the file name, skipped (training) or kept
marked to be dropped from the metrics (evaluation) when the config asks."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmdet.datasets import CocoDataset
from mmseg.datasets import ADE20KDataset

import mmlightvit  # noqa: F401
from mmlightvit.datasets.toy import make_toy_ade20k, make_toy_coco
from mmlightvit.datasets.transforms import BadSampleError


def seg_dataset(root, on_error):
    pipeline = [
        dict(type='CheckedLoadImageFromFile', on_error=on_error),
        dict(type='mmseg.LoadAnnotations', reduce_zero_label=True),
        dict(type='CheckSegLabels', num_classes=150, on_error=on_error),
    ]
    return ADE20KDataset(
        data_root=root, pipeline=pipeline, data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'))


@pytest.fixture
def ade(tmp_path):
    root = make_toy_ade20k(str(tmp_path / 'ade'), num_train=4, num_val=1,
                           size=32, seed=0)
    ds = seg_dataset(root, 'raise')
    return root, [ds.get_data_info(i) for i in range(len(ds))]


def break_image(info):
    with open(info['img_path'], 'wb') as f:
        f.write(b'\xff\xd8 truncated jpeg')


def resize_label(info):
    seg = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    cv2.imwrite(info['seg_map_path'], cv2.resize(seg, (17, 9)))


def label_out_of_range(info):
    seg = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    seg[0, 0] = 200  # 199 after reduce_zero_label; ADE20K has 150 classes
    cv2.imwrite(info['seg_map_path'], seg)


@pytest.mark.parametrize('breaker, file_key, words', [
    (break_image, 'img_path', 'cannot decode the image'),
    (resize_label, 'seg_map_path', 'label map is 17x9 but its image'),
    (label_out_of_range, 'seg_map_path', 'labels [199] are outside 0..149'),
])
def test_broken_segmentation_sample(ade, breaker, file_key, words):
    root, infos = ade
    breaker(infos[1])
    with pytest.raises(BadSampleError) as e:
        seg_dataset(root, 'raise')[1]
    assert infos[1][file_key] in str(e.value) and words in str(e.value)

    skipping = seg_dataset(root, 'skip')
    sample = skipping[1]  # logged and skipped: another sample is drawn
    assert sample['img_path'] != infos[1]['img_path']
    assert all(skipping[i] is not None for i in (0, 2, 3))


def coco_dataset(root, on_error):
    pipeline = [
        dict(type='CheckedLoadImageFromFile', on_error=on_error),
        dict(type='mmdet.LoadAnnotations', with_bbox=True),
        dict(type='CheckBoxes', on_error=on_error),
    ]
    return CocoDataset(data_root=root, ann_file='annotations/instances_train2017.json',
                       data_prefix=dict(img='train2017/'), pipeline=pipeline)


def test_box_outside_the_image(tmp_path):
    root = str(tmp_path / 'coco')
    make_toy_coco(root, num_train=3, num_val=1, size=64, seed=0)
    ann_file = osp.join(root, 'annotations', 'instances_train2017.json')
    with open(ann_file) as f:
        coco = json.load(f)
    ann = coco['annotations'][0]
    image = next(i for i in coco['images'] if i['id'] == ann['image_id'])
    ann['bbox'] = [image['width'] - 10, 5, 40, 20]  # 30 px past the border
    with open(ann_file, 'w') as f:
        json.dump(coco, f)

    ds = coco_dataset(root, 'raise')
    idx = next(i for i in range(len(ds))
               if ds.get_data_info(i)['img_id'] == ann['image_id'])
    with pytest.raises(BadSampleError) as e:
        ds[idx]
    assert image['file_name'] in str(e.value)
    assert 'outside the 64x64 image' in str(e.value)
    skipping = coco_dataset(root, 'skip')
    assert skipping[idx]['img_id'] != ann['image_id']
    assert np.all([skipping[i] is not None for i in range(len(skipping))])


def test_on_error_is_validated():
    with pytest.raises(ValueError, match="on_error must be one of"):
        mmlightvit.datasets.transforms.CheckBoxes(on_error='ignore')


def test_dropped_samples_are_kept_marked(ade):
    """on_error='drop' (evaluation): the sample stays, marked, with a blank
    image and an all-ignore label map that no metric counts."""
    root, infos = ade
    break_image(infos[1])
    label_out_of_range(infos[2])
    ds = seg_dataset(root, 'drop')
    for i in (1, 2):
        sample = ds[i]
        assert infos[i]['img_path'] in sample['bad_sample'] or \
            infos[i]['seg_map_path'] in sample['bad_sample']
        assert np.all(sample['gt_seg_map'] == 255)
        assert sample['gt_seg_map'].shape == sample['img'].shape[:2]
    assert 'bad_sample' not in ds[0] and np.any(ds[0]['gt_seg_map'] != 255)


def test_missing_coco_image_dropped_as_a_blank_of_its_size(tmp_path):
    root = str(tmp_path / 'coco')
    make_toy_coco(root, num_train=2, num_val=1, size=(40, 56), seed=0)
    ds = coco_dataset(root, 'drop')
    info = ds.get_data_info(0)
    import os
    os.remove(info['img_path'])
    sample = ds[0]
    assert sample['bad_sample'].startswith(info['img_path'])
    assert sample['img'].shape == (40, 56, 3) and not sample['img'].any()


def test_seg_labels_without_num_classes_check_the_size_only(ade):
    root, infos = ade
    label_out_of_range(infos[1])
    pipeline = [dict(type='CheckedLoadImageFromFile'),
                dict(type='mmseg.LoadAnnotations'),
                dict(type='CheckSegLabels')]
    ds = ADE20KDataset(data_root=root, pipeline=pipeline, data_prefix=dict(
        img_path='images/training', seg_map_path='annotations/training'))
    assert ds[1]['gt_seg_map'][0, 0] == 199  # passes: no range given
    resize_label(infos[1])
    with pytest.raises(BadSampleError, match='label map is 17x9'):
        ds[1]
