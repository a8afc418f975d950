"""Your own data: the YOLO detection layout (YOLODataset, yolo2coco.py with
its checks), a segmentation folder (FolderSegDataset), their toy sets, the
start-up refusal of heads whose num_classes is not the dataset's, and a short
EMO DeepLabv3 run on the toy folder set that beats a constant predictor."""
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlightvit  # noqa: F401  (registers the datasets)
from mmlightvit.datasets.checks import dataset_classes
from mmlightvit.datasets.toy import (FOLDER_SEG_IGNORE, FOLDER_SEG_TOY_CLASSES,
                                     YOLO_TOY_CLASSES, make_toy_folder_seg,
                                     make_toy_yolo)
from mmlightvit.datasets.yolo import (YOLODataError, label_dir_of,
                                      read_class_names, scan_yolo_split,
                                      to_coco)
from helpers import ROOT, failure_summary, run_tool

YOLO2COCO = 'tools/dataset_converters/yolo2coco.py'
YOLO_TOY_CONFIG = ('configs/repvit/'
                   'rtmdet_tiny_repvit-m0-9_1xb16-8e_toy-yolo-128x128.py')
SEG_TOY_CONFIG = ('configs/emo/'
                  'deeplabv3_emo-1m_1xb8-80iter_toy-folder-seg-128x128.py')
NAMES = tuple(name for name, _, _ in YOLO_TOY_CLASSES.values())

pytestmark = pytest.mark.usefixtures('single_thread')


def load_tool(path):
    """A tool script as a module (its ``main(argv)`` runs in this
    process: no interpreter start-up, which costs a minute on a busy
    machine)."""
    import importlib.util
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main(path, *argv):
    """A tool's ``main`` run as its ``__main__`` does (a user error ends it
    with one line): that line, or None when it ran through."""
    from mmlightvit.apis.cli import run_cli
    tool = load_tool(path)
    try:
        run_cli(lambda: tool.main(list(argv)))
    except SystemExit as e:
        return str(e.code)
    return None


def build_dataset(scope, **cfg):
    init_default_scope(scope)
    if scope == 'mmdet':
        from mmdet.registry import DATASETS
    else:
        from mmseg.registry import DATASETS
    return DATASETS.build(dict(pipeline=[], **cfg))


def yolo_dataset(root, split='train', **kwargs):
    return build_dataset('mmdet', type='YOLODataset', data_root=root,
                         data_prefix=dict(img=f'images/{split}/'), **kwargs)


# ------------------------------------------------------- toy YOLO data set
@pytest.fixture(scope='module')
def toy_yolo(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('yolo'))
    assert make_toy_yolo(root, num_train=6, num_val=3, size=96,
                         seed=1) == root
    return root


def read_labels(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def test_toy_yolo_layout(toy_yolo):
    assert sorted(os.listdir(toy_yolo)) == ['data.yaml', 'images', 'labels']
    with open(osp.join(toy_yolo, 'data.yaml')) as f:
        data = yaml.safe_load(f)
    assert data['nc'] == len(data['names']) == 20
    assert tuple(data['names']) == NAMES and len(set(NAMES)) == 20
    for split, num in (('train', 6), ('val', 3)):
        images = sorted(os.listdir(osp.join(toy_yolo, 'images', split)))
        labels = sorted(os.listdir(osp.join(toy_yolo, 'labels', split)))
        assert len(images) == num
        assert [osp.splitext(n)[0] for n in images] == \
            [osp.splitext(n)[0] for n in labels]


def test_toy_yolo_labels_are_exact_boxes_of_the_class_colour(toy_yolo):
    """Each label line is a class id and a normalised box that holds an
    object of the class's colour and fits its pixels."""
    checked = 0
    for name in sorted(os.listdir(osp.join(toy_yolo, 'images', 'train'))):
        img = cv2.imread(osp.join(toy_yolo, 'images', 'train', name))
        h, w = img.shape[:2]
        stem = osp.splitext(name)[0]
        for fields in read_labels(osp.join(toy_yolo, 'labels', 'train',
                                           stem + '.txt')):
            label = int(fields[0])
            cx, cy, bw, bh = map(float, fields[1:])
            assert 0 < bw <= 1 and 0 < bh <= 1
            assert 0 <= cx - bw / 2 and cx + bw / 2 <= 1
            assert 0 <= cy - bh / 2 and cy + bh / 2 <= 1
            x1, y1 = round((cx - bw / 2) * w), round((cy - bh / 2) * h)
            x2, y2 = round((cx + bw / 2) * w), round((cy + bh / 2) * h)
            colour = np.asarray(YOLO_TOY_CLASSES[label][1], np.float32)
            centre = img[(y1 + y2) // 2, (x1 + x2) // 2].astype(np.float32)
            assert np.abs(centre - colour).max() < 45, (name, label)
            # nothing of that colour just outside the box
            ring = np.concatenate([img[max(y1 - 2, 0), x1:x2],
                                   img[min(y2 + 1, h - 1), x1:x2]])
            assert (np.abs(ring - colour).max(1) > 45).all()
            checked += 1
    assert checked >= 6


def test_toy_yolo_is_deterministic_and_kept(tmp_path, toy_yolo):
    again = make_toy_yolo(str(tmp_path / 'again'), num_train=6, num_val=3,
                          size=96, seed=1)
    for sub in ('labels/train/000003.txt', 'data.yaml'):
        with open(osp.join(again, sub)) as a, \
                open(osp.join(toy_yolo, sub)) as b:
            assert a.read() == b.read()
    # an existing set is left alone unless overwrite=True
    make_toy_yolo(again, num_train=1, num_val=1, size=64, seed=2)
    assert len(os.listdir(osp.join(again, 'images', 'train'))) == 6
    make_toy_yolo(again, num_train=1, num_val=1, size=64, seed=2,
                  overwrite=True)
    assert len(os.listdir(osp.join(again, 'images', 'train'))) == 1


def test_make_toy_data_cli_yolo_and_folder_seg(tmp_path, capsys):
    import sys
    sys.path.insert(0, osp.join(ROOT, 'tools', 'dataset_converters'))
    try:
        import make_toy_data
    finally:
        sys.path.pop(0)
    out = str(tmp_path / 'yolo')
    make_toy_data.main(['yolo', '--out', out, '--num-train', '2',
                        '--num-val', '1', '--size', '64'])
    printed = capsys.readouterr().out
    assert 'Wrote yolo toy data' in printed and '19=magenta egg' in printed
    assert len(os.listdir(osp.join(out, 'labels', 'train'))) == 2
    make_toy_data.main(['yolo', '--out', out])
    assert 'left unchanged' in capsys.readouterr().out
    out = str(tmp_path / 'seg')
    make_toy_data.main(['folder-seg', '--out', out, '--num-train', '2',
                        '--num-val', '1', '--size', '32'])
    assert '4=sand' in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ['classes.txt', 'images', 'masks',
                                       'palette.txt']


# ---------------------------------------------------------- YOLODataset
def test_yolo_dataset_reads_the_toy_set(toy_yolo):
    ds = yolo_dataset(toy_yolo)
    assert ds.metainfo['classes'] == NAMES
    assert len(ds) == 6
    info = ds[0]
    assert (info['width'], info['height']) == (96, 96)
    assert info['img_path'].endswith(osp.join('images', 'train',
                                              '000001.jpg'))
    labels = read_labels(osp.join(toy_yolo, 'labels', 'train', '000001.txt'))
    assert len(info['instances']) == len(labels)
    for inst, fields in zip(info['instances'], labels):
        cx, cy, bw, bh = (float(v) * 96 for v in fields[1:])
        assert inst['bbox_label'] == int(fields[0])
        np.testing.assert_allclose(
            inst['bbox'], [cx - bw / 2, cy - bh / 2, cx + bw / 2,
                           cy + bh / 2], atol=1e-3)
    assert len(yolo_dataset(toy_yolo, 'val', test_mode=True)) == 3
    # the start-up checks read the same class list from the config
    cfg = dict(type='YOLODataset', data_root=toy_yolo, ann_file='data.yaml')
    assert dataset_classes(cfg, 'mmdet') == NAMES


def test_yolo_dataset_class_lists(tmp_path, toy_yolo):
    root = str(tmp_path / 'set')
    shutil.copytree(toy_yolo, root)
    # a darknet-style names file, one name a line, works as well
    with open(osp.join(root, 'obj.names'), 'w') as f:
        f.write('\n'.join(NAMES) + '\n')
    assert yolo_dataset(root, ann_file='obj.names').metainfo['classes'] == \
        NAMES
    # metainfo may repeat the names, but not change them
    assert len(yolo_dataset(root, metainfo=dict(classes=NAMES))) == 6
    with pytest.raises(YOLODataError, match=r'metainfo.classes \(3: .*'
                       r'is not the class list of .*data.yaml \(20: '):
        yolo_dataset(root, metainfo=dict(classes=NAMES[:3]))
    # names as a dict, and nc that disagrees
    with open(osp.join(root, 'dict.yaml'), 'w') as f:
        yaml.safe_dump(dict(names={0: 'a', 1: 'b'}), f)
    assert read_class_names(osp.join(root, 'dict.yaml')) == ('a', 'b')
    with open(osp.join(root, 'bad.yaml'), 'w') as f:
        yaml.safe_dump(dict(nc=3, names=['a', 'b']), f)
    with pytest.raises(YOLODataError, match='bad.yaml: nc is 3 but names '
                       'lists 2 classes'):
        read_class_names(osp.join(root, 'bad.yaml'))
    with pytest.raises(FileNotFoundError, match='missing.yaml'):
        yolo_dataset(root, ann_file='missing.yaml')


def test_yolo_dataset_filter_cfg(tmp_path, toy_yolo):
    root = str(tmp_path / 'set')
    shutil.copytree(toy_yolo, root)
    open(osp.join(root, 'labels', 'train', '000002.txt'), 'w').close()
    ds = yolo_dataset(root)
    assert len(ds) == 6 and ds[1]['instances'] == []  # no objects: kept
    assert len(yolo_dataset(root, filter_cfg=dict(filter_empty_gt=True))) == 5
    with pytest.raises(YOLODataError, match=r"filter_cfg \{'min_size': 100\}"
                       ' leaves none of its 6 images'):
        yolo_dataset(root, filter_cfg=dict(min_size=100))
    for name in os.listdir(osp.join(root, 'images', 'val')):
        os.remove(osp.join(root, 'images', 'val', name))
    with pytest.raises(YOLODataError, match='val: no usable images'):
        yolo_dataset(root, 'val', on_error='skip')


@pytest.fixture
def broken_yolo(tmp_path, toy_yolo):
    """The toy set with one problem of each kind the checks name."""
    root = str(tmp_path / 'broken')
    shutil.copytree(toy_yolo, root)
    labels = osp.join(root, 'labels', 'train')
    images = osp.join(root, 'images', 'train')
    with open(osp.join(labels, '000001.txt'), 'a') as f:
        f.write('25 0.5 0.5 0.1 0.1\n')  # unknown class id
    with open(osp.join(labels, '000002.txt'), 'a') as f:
        f.write('3 0.95 0.5 0.3 0.1\n')  # sticks out of the image
    with open(osp.join(labels, '000003.txt'), 'a') as f:
        f.write('3 0.5 0.5\n')  # malformed
    os.remove(osp.join(labels, '000004.txt'))  # image without labels
    os.remove(osp.join(images, '000005.jpg'))  # labels without image
    with open(osp.join(images, '000006.jpg'), 'wb') as f:
        f.write(b'not an image')
    return root


PROBLEMS = [
    r'000001\.txt:\d+: unknown class id 25 \(the class list has 20: 0\.\.19\)',
    r'000002\.txt:\d+: box \[.*\] \(x1, y1, x2, y2\) lies outside the 96x96 '
    r'image',
    r'000003\.txt:\d+: expected "class cx cy w h"',
    r'000004\.jpg: image without a label file',
    r'000005\.txt: label file without an image',
    r'000006\.jpg: cannot read the image',
]


def test_yolo_checks_refuse_naming_every_file(broken_yolo):
    with pytest.raises(YOLODataError) as info:
        yolo_dataset(broken_yolo)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith(broken_yolo) and 'problem' not in first
    assert '6 problem(s) in the YOLO split' in message
    for problem in PROBLEMS:
        assert re.search(problem, message), problem
    assert "on_error='skip'" in message


def test_yolo_checks_skip_what_is_broken(broken_yolo, log_messages,
                                         toy_yolo):
    ds = yolo_dataset(broken_yolo, on_error='skip')
    skipped = [m for m in log_messages if m.startswith('skipped: ')]
    assert len(skipped) == len(PROBLEMS)
    for problem in PROBLEMS:
        assert any(re.search(problem, m) for m in skipped), problem
    good = yolo_dataset(toy_yolo)
    # images 4 (no labels), 5 (no image) and 6 (unreadable) are left out;
    # 1-3 keep their good lines and lose the bad one
    assert [osp.basename(d['img_path']) for d in ds] == \
        ['000001.jpg', '000002.jpg', '000003.jpg']
    for i in range(3):
        assert ds[i]['instances'] == good[i]['instances']


def test_yolo_boxes_just_outside_are_clipped_polygons_boxed(tmp_path,
                                                            toy_yolo):
    root = str(tmp_path / 'set')
    shutil.copytree(toy_yolo, root)
    with open(osp.join(root, 'labels', 'train', '000001.txt'), 'w') as f:
        f.write('0 0.1 0.5 0.2104 0.2\n')  # 0.2 pixel left of the image
        f.write('1 0.25 0.25 0.75 0.25 0.5 0.75\n')  # a triangle
    objects = scan_yolo_split(osp.join(root, 'images', 'train'),
                              osp.join(root, 'labels', 'train'), 20,
                              tolerance=1.0)[0]['objects']
    assert objects[0] == (0, [0.0, 38.4, 19.699, 57.6])
    assert objects[1] == (1, [24.0, 24.0, 72.0, 72.0])
    with pytest.raises(YOLODataError, match='lies outside'):
        scan_yolo_split(osp.join(root, 'images', 'train'),
                        osp.join(root, 'labels', 'train'), 20, tolerance=0.1)


def test_label_dir_of():
    assert label_dir_of('data/x/images/train/') == 'data/x/labels/train'
    assert label_dir_of('/a/images/b/images/val') == '/a/images/b/labels/val'
    with pytest.raises(YOLODataError, match='no "images" folder'):
        label_dir_of('data/x/train')


# ------------------------------------------------------------ yolo2coco.py
def test_yolo2coco_writes_what_cocodataset_reads(tmp_path, toy_yolo,
                                                capsys):
    root = str(tmp_path / 'set')
    shutil.copytree(toy_yolo, root)
    error = run_main(YOLO2COCO, root)
    out = capsys.readouterr().out
    assert error is None, error
    assert 'train: 6 images' in out and 'val: 3 images' in out
    assert "metainfo=dict(classes=('red disc'," in out
    for split in ('train', 'val'):
        with open(osp.join(root, 'annotations',
                           f'instances_{split}.json')) as f:
            coco = json.load(f)
        assert [c['name'] for c in coco['categories']] == list(NAMES)
    ds = build_dataset(
        'mmdet', type='CocoDataset', data_root=root,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='images/train/'), metainfo=dict(classes=NAMES))
    yolo = yolo_dataset(root)
    assert len(ds) == len(yolo) == 6
    for a, b in zip(ds, yolo):
        assert a['img_path'] == b['img_path']
        assert [i['bbox_label'] for i in a['instances']] == \
            [i['bbox_label'] for i in b['instances']]
        np.testing.assert_allclose([i['bbox'] for i in a['instances']],
                                   [i['bbox'] for i in b['instances']],
                                   atol=1e-3)
    # the converted files are kept
    error = run_main(YOLO2COCO, root)
    assert error.startswith('error: ') and 'instances_train.json exists' \
        in error and '--overwrite' in error


def test_yolo2coco_refuses_or_skips(broken_yolo, capsys, log_messages):
    error = run_main(YOLO2COCO, broken_yolo)
    assert error.startswith('error: ') and re.search(PROBLEMS[0], error)
    assert '--on-error skip' in error
    assert not osp.exists(osp.join(broken_yolo, 'annotations'))
    error = run_main(YOLO2COCO, broken_yolo, '--on-error', 'skip')
    assert error is None, error
    assert 'train: 3 images' in capsys.readouterr().out
    for problem in PROBLEMS:
        assert any(re.search(problem, m) for m in log_messages), problem


def test_to_coco():
    samples = [dict(img_path='/d/images/train/a/1.jpg', width=10, height=8,
                    objects=[(2, [1.0, 2.0, 4.0, 8.0])])]
    coco = to_coco(samples, ('x', 'y', 'z'), '/d/images/train')
    assert coco['images'] == [dict(id=1, width=10, height=8,
                                   file_name='a/1.jpg')]
    assert coco['annotations'] == [dict(id=1, image_id=1, category_id=3,
                                        bbox=[1.0, 2.0, 3.0, 6.0], area=18.0,
                                        iscrowd=0)]


# ----------------------------------------------------- segmentation folder
@pytest.fixture(scope='module')
def toy_seg(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('seg'))
    assert make_toy_folder_seg(root, num_train=4, num_val=2, size=64,
                               seed=1) == root
    return root


def seg_dataset(root, split='train', **kwargs):
    kwargs.setdefault('metainfo', dict(classes=osp.join(root, 'classes.txt'),
                                       palette=osp.join(root, 'palette.txt')))
    return build_dataset(
        'mmseg', type='FolderSegDataset', data_root=root,
        data_prefix=dict(img_path=f'images/{split}',
                         seg_map_path=f'masks/{split}'), **kwargs)


def test_toy_folder_seg(toy_seg):
    with open(osp.join(toy_seg, 'classes.txt')) as f:
        assert f.read().split('\n')[:-1] == [
            name for name, _, _ in FOLDER_SEG_TOY_CLASSES.values()]
    values = set()
    for name in os.listdir(osp.join(toy_seg, 'masks', 'train')):
        mask = cv2.imread(osp.join(toy_seg, 'masks', 'train', name),
                          cv2.IMREAD_UNCHANGED)
        img = cv2.imread(osp.join(toy_seg, 'images', 'train',
                                  name.replace('.png', '.jpg')))
        assert mask.dtype == np.uint8 and mask.shape == img.shape[:2]
        values |= set(np.unique(mask).tolist())
        # the pixels of a class have about its colour (textures vary it)
        for value, (_, colour, _) in FOLDER_SEG_TOY_CLASSES.items():
            inside = cv2.erode((mask == value).astype(np.uint8),
                               np.ones((5, 5), np.uint8)).astype(bool)
            if inside.sum() > 20:
                mean = img[inside].astype(np.float32).mean(0)
                assert np.abs(mean - colour).max() < 40, (name, value)
    assert values <= set(FOLDER_SEG_TOY_CLASSES) | {FOLDER_SEG_IGNORE}
    assert {0, 1, 2, 3, 4} & values and len(values) >= 4


def test_folder_seg_dataset(toy_seg):
    ds = seg_dataset(toy_seg)
    assert len(ds) == 4
    assert ds.metainfo['classes'] == ('background', 'leaf', 'water', 'brick',
                                      'sand')
    assert ds.metainfo['palette'][3] == [190, 60, 50]  # RGB of 'brick'
    assert ds.metainfo['reduce_zero_label'] is False
    assert ds[0]['seg_map_path'].endswith(osp.join('masks', 'train',
                                                   '000001.png'))
    assert len(seg_dataset(toy_seg, 'val')) == 2
    # palette optional; classes as a list
    ds = seg_dataset(toy_seg, metainfo=dict(classes=list('abcde')))
    assert ds.metainfo['classes'] == tuple('abcde')
    assert len(ds.metainfo['palette']) == 5  # mmseg's generated one


def test_folder_seg_dataset_refuses_bad_class_lists(tmp_path, toy_seg):
    missing = str(tmp_path / 'classes.txt')
    with pytest.raises(FileNotFoundError,
                       match=f'classes file {missing} .* does not exist'):
        seg_dataset(toy_seg, metainfo=dict(classes=missing))
    with pytest.raises(ValueError, match='needs its class names'):
        seg_dataset(toy_seg, metainfo=None)
    palette = tmp_path / 'palette.txt'
    palette.write_text('1 2 3\n4 5 6\n')
    with pytest.raises(ValueError, match='has 2 colours for the 5 classes'):
        seg_dataset(toy_seg, metainfo=dict(
            classes=osp.join(toy_seg, 'classes.txt'), palette=str(palette)))
    palette.write_text('1 2\n' * 5)
    with pytest.raises(ValueError, match=r'expected "R G B" \(0..255\)'):
        seg_dataset(toy_seg, metainfo=dict(
            classes=osp.join(toy_seg, 'classes.txt'), palette=str(palette)))
    with pytest.raises(ValueError, match=r"listed twice: \['a'\]"):
        seg_dataset(toy_seg, metainfo=dict(classes=['a', 'b', 'a']))


# ------------------------------------------------------------ toy configs
def test_toy_configs_are_the_real_models_on_own_data():
    toy = Config.fromfile(osp.join(ROOT, YOLO_TOY_CONFIG))
    real = Config.fromfile(osp.join(
        ROOT, 'configs/repvit/rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py'))
    toy_model, real_model = toy.model.to_dict(), real.model.to_dict()
    assert toy_model['bbox_head'].pop('num_classes') == 20
    real_model['bbox_head'].pop('num_classes')
    assert toy_model['backbone'].pop('init_cfg') is None  # from scratch
    real_model['backbone'].pop('init_cfg', None)
    assert toy_model == real_model
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = toy[loader].dataset
        assert (ds.type, ds.data_root, ds.ann_file) == (
            'YOLODataset', 'data/toy/yolo/', 'data.yaml')
        assert toy[loader].num_workers == 0
    assert toy.val_evaluator.ann_file is None
    assert 'instances' in toy.test_dataloader.dataset.pipeline[-1].meta_keys

    seg = Config.fromfile(osp.join(ROOT, SEG_TOY_CONFIG))
    ade = Config.fromfile(osp.join(
        ROOT, 'configs/emo',
        'deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'))
    seg_model, ade_model = seg.model.to_dict(), ade.model.to_dict()
    for head in ('decode_head', 'auxiliary_head'):
        assert seg_model[head].pop('num_classes') == 5
        ade_model[head].pop('num_classes')
    assert seg_model == ade_model
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = seg[loader].dataset
        assert ds.type == 'FolderSegDataset' and not ds.reduce_zero_label
        assert ds.metainfo.classes == 'data/toy/folder_seg/classes.txt'
        assert ds.pipeline == ade[loader].dataset.pipeline


def class_files(root):
    """--cfg-options pointing the folder set's class and palette files of
    every split at ``root``."""
    return [f'{split}_dataloader.dataset.metainfo.{key}={root}/{key}.txt'
            for split in ('train', 'val', 'test')
            for key in ('classes', 'palette')]


def data_options(config, root):
    """--cfg-options pointing every split of a toy config at ``root``."""
    return [f'{split}_dataloader.dataset.data_root={root}/'
            for split in ('train', 'val', 'test')]


def test_num_classes_mismatch_is_refused_with_both_numbers(tmp_path,
                                                           toy_yolo,
                                                           toy_seg):
    """Through tools/train.py, before anything is built: a head whose
    num_classes is not the number of the dataset's classes (data.yaml's
    names for YOLODataset, classes.txt for FolderSegDataset)."""
    error = run_main(
        'tools/train.py', YOLO_TOY_CONFIG, '--work-dir', str(tmp_path / 'd'),
        '--cfg-options', *data_options(YOLO_TOY_CONFIG, toy_yolo),
        'model.bbox_head.num_classes=80')
    assert error is not None and error.startswith('error: ')
    assert re.search(r'bbox_head.num_classes is 80, but .* has 20 classes '
                     r'\(red disc, ', error), error
    error = run_main(
        'tools/train.py', SEG_TOY_CONFIG, '--work-dir', str(tmp_path / 's'),
        '--cfg-options', *data_options(SEG_TOY_CONFIG, toy_seg),
        *class_files(toy_seg), 'model.decode_head.num_classes=150')
    assert error is not None and error.startswith('error: ')
    assert re.search(r'decode_head.num_classes is 150, but .* has 5 classes '
                     r'\(background, leaf', error), error


# ------------------------------------------------ short run on the folder
def constant_predictor_miou(mask_dir, num_classes, ignore=255):
    """mIoU of the best constant prediction (every pixel the most frequent
    class), as mmseg's IoUMetric averages: over the classes present."""
    counts = np.zeros(num_classes)
    for name in os.listdir(mask_dir):
        mask = cv2.imread(osp.join(mask_dir, name), cv2.IMREAD_UNCHANGED)
        counts += np.bincount(mask[mask != ignore].ravel(),
                              minlength=num_classes)[:num_classes]
    return 100 * counts.max() / counts.sum() / (counts > 0).sum()


@pytest.mark.slow
def test_emo_deeplabv3_on_a_segmentation_folder_beats_a_constant(tmp_path):
    """tools/train.py + tools/test.py: DeepLabv3 + EMO-1M from scratch on
    the 5-class toy folder set for 80 iterations; the mIoU of the
    checkpoint is far above the best constant predictor's."""
    root = make_toy_folder_seg(str(tmp_path / 'seg'))  # the default set
    options = [*data_options(SEG_TOY_CONFIG, root), *class_files(root)]
    work = str(tmp_path / 'work')
    code, out = run_tool('tools/train.py', SEG_TOY_CONFIG, '--work-dir', work,
                         '--cfg-options', *options)
    assert code == 0, failure_summary(out)
    code, out = run_tool('tools/test.py', SEG_TOY_CONFIG,
                         osp.join(work, 'iter_80.pth'), '--work-dir', work,
                         '--cfg-options', *options)
    assert code == 0, failure_summary(out)
    miou = float(re.findall(r'mIoU: ([\d.]+)', out)[-1])
    constant = constant_predictor_miou(osp.join(root, 'masks', 'val'), 5)
    print(f'\nEMO-1M DeepLabv3, 80 iterations on the 5-class folder set: '
          f'mIoU {miou:.2f} (constant predictor {constant:.2f})')
    assert miou > 2 * constant
