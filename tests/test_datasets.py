"""Toy data (layout, values, determinism), mmseg reading it, and the
dataset-folder check."""
import hashlib
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmlightvit.datasets import (ADE20K_TOY_CLASSES, check_dataset_folders,
                                 make_toy_ade20k)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(
    REPO, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py')
REAL_CONFIG = osp.join(
    REPO, 'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')
SPLITS = {'training': 'ADE_train', 'validation': 'ADE_val'}
NUM = {'training': 6, 'validation': 3}


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy') / 'ade'
    data_root = make_toy_ade20k(str(root), num_train=NUM['training'],
                                num_val=NUM['validation'], size=64, seed=0)
    return data_root


def digests(data_root):
    out = {}
    for dirpath, _, files in os.walk(data_root):
        for f in files:
            p = osp.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, data_root)] = hashlib.md5(
                    fh.read()).hexdigest()
    return out


def set_data_root(cfg, data_root):
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    return cfg


# ---------------------------------------------------------------- toy data


def test_toy_returns_data_root(toy):
    assert osp.basename(toy) == 'ADEChallengeData2016'
    assert sorted(os.listdir(toy)) == ['annotations', 'images']


@pytest.mark.parametrize('split', sorted(SPLITS))
def test_toy_layout_and_values(toy, split):
    prefix = SPLITS[split]
    imgs = sorted(os.listdir(osp.join(toy, 'images', split)))
    anns = sorted(os.listdir(osp.join(toy, 'annotations', split)))
    stems = [f'{prefix}_{i:08d}' for i in range(1, NUM[split] + 1)]
    assert imgs == [s + '.jpg' for s in stems]
    assert anns == [s + '.png' for s in stems]
    allowed = {0} | set(ADE20K_TOY_CLASSES)
    seen = set()
    for stem in stems:
        with open(osp.join(toy, 'images', split, stem + '.jpg'), 'rb') as f:
            assert f.read(3) == b'\xff\xd8\xff'  # JPEG
        img = cv2.imread(osp.join(toy, 'images', split, stem + '.jpg'),
                         cv2.IMREAD_UNCHANGED)
        ann = cv2.imread(osp.join(toy, 'annotations', split, stem + '.png'),
                         cv2.IMREAD_UNCHANGED)
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8
        assert ann.shape == (64, 64) and ann.dtype == np.uint8
        values = set(np.unique(ann).tolist())
        assert values <= allowed
        assert len(values - {0}) >= 2  # a background and at least one shape
        seen |= values
    assert 0 in seen or split == 'validation'


def test_toy_has_ignore_pixels_and_several_classes():
    # Over a default-sized set every class and some ignore (0) pixels occur.
    anns = []
    for i in range(1, 17):
        from mmlightvit.datasets.toy import _toy_ade20k_sample
        _, ann = _toy_ade20k_sample(np.random.default_rng([0, 0, i]), 64, 64)
        anns.append(ann)
    values, counts = np.unique(np.stack(anns), return_counts=True)
    assert set(values.tolist()) == {0} | set(ADE20K_TOY_CLASSES)
    assert 0.005 < counts[0] / counts.sum() < 0.25


def test_toy_classes_are_learnable_from_pixels(toy):
    # A nearest-mean-colour classifier (fit on train, scored on val) is far
    # better than chance: the class is in the pixels, not only the shape.
    def pixels(split):
        xs, ys = [], []
        for f in sorted(os.listdir(osp.join(toy, 'images', split))):
            img = cv2.imread(osp.join(toy, 'images', split, f))
            ann = cv2.imread(
                osp.join(toy, 'annotations', split, f[:-4] + '.png'),
                cv2.IMREAD_UNCHANGED)
            img = cv2.blur(img, (5, 5)).reshape(-1, 3).astype(np.float32)
            keep = ann.reshape(-1) > 0
            xs.append(img[keep])
            ys.append(ann.reshape(-1)[keep])
        return np.concatenate(xs), np.concatenate(ys)

    x, y = pixels('training')
    classes = np.unique(y)
    means = np.stack([x[y == c].mean(0) for c in classes])
    xv, yv = pixels('validation')
    pred = classes[np.argmin(((xv[:, None] - means[None]) ** 2).sum(-1), 1)]
    assert (pred == yv).mean() > 0.7


def test_toy_is_deterministic(tmp_path, toy):
    again = make_toy_ade20k(str(tmp_path / 'a'), num_train=NUM['training'],
                            num_val=NUM['validation'], size=64, seed=0)
    assert digests(again) == digests(toy)
    # Image i does not depend on how many images are written.
    fewer = make_toy_ade20k(str(tmp_path / 'b'), num_train=2, num_val=1,
                            size=64, seed=0)
    few = digests(fewer)
    assert len(few) == 6 and all(digests(toy)[k] == v for k, v in few.items())
    other = make_toy_ade20k(str(tmp_path / 'c'), num_train=2, num_val=1,
                            size=64, seed=1)
    assert digests(other) != few


def test_toy_does_not_overwrite_unless_asked(tmp_path):
    root = str(tmp_path / 'ade')
    data_root = make_toy_ade20k(root, num_train=2, num_val=1, size=32)
    marker = osp.join(data_root, 'images', 'training', 'ADE_train_00000001.jpg')
    with open(marker, 'wb') as f:
        f.write(b'user data')
    assert make_toy_ade20k(root, num_train=3, num_val=1, size=32) == data_root
    with open(marker, 'rb') as f:
        assert f.read() == b'user data'
    assert len(os.listdir(osp.join(data_root, 'images', 'training'))) == 2
    make_toy_ade20k(root, num_train=3, num_val=1, size=32, overwrite=True)
    assert len(os.listdir(osp.join(data_root, 'images', 'training'))) == 3
    assert cv2.imread(marker).shape == (32, 32, 3)


def test_make_toy_data_cli(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'make_toy_data',
        osp.join(REPO, 'tools/dataset_converters/make_toy_data.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'ade')
    cli.main(['ade20k', '--out', out, '--num-train', '3', '--num-val', '2',
              '--size', '32', '--seed', '1'])
    printed = capsys.readouterr().out
    data_root = osp.join(out, 'ADEChallengeData2016')
    assert data_root in printed
    assert 'images/training/: 3 files' in printed
    assert 'annotations/validation/: 2 files' in printed
    assert len(os.listdir(osp.join(data_root, 'images', 'validation'))) == 2
    cli.main(['ade20k', '--out', out])
    assert 'left unchanged' in capsys.readouterr().out
    # the default output folder is mmseg's default ADE20K data_root's parent
    assert cli.parse_args(['ade20k']).out == 'data/ade'


# ------------------------------------------------- mmseg reads the toy data


@pytest.mark.parametrize('loader', ['train_dataloader', 'val_dataloader'])
def test_mmseg_ade20k_dataset_reads_toy(toy, loader):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = set_data_root(Config.fromfile(TOY_CONFIG), toy)
    ds_cfg = cfg[loader].dataset
    assert ds_cfg.type == 'ADE20KDataset'
    dataset = DATASETS.build(ds_cfg)
    split = 'training' if loader == 'train_dataloader' else 'validation'
    assert len(dataset) == NUM[split]
    # reduce_zero_label: value v is class v - 1 and 0 becomes 255 (ignore).
    allowed = {v - 1 for v in ADE20K_TOY_CLASSES} | {255}
    for i in range(len(dataset)):
        sample = dataset[i]
        inputs = sample['inputs']
        seg = sample['data_samples'].gt_sem_seg.data
        assert inputs.shape[0] == 3 and seg.shape[0] == 1
        if split == 'training':
            assert inputs.shape[1:] == seg.shape[1:]
            assert max(inputs.shape[1:]) <= 128  # RandomCrop to 128x128
        else:
            # Resize to the 128 test scale; labels stay at full resolution
            # (loaded after Resize), as mmseg evaluates them.
            assert tuple(inputs.shape[1:]) == (128, 128)
            assert tuple(seg.shape[1:]) == (64, 64)
        assert set(seg.unique().tolist()) <= allowed
    names = dataset.metainfo['classes']
    assert [names[v - 1] for v in ADE20K_TOY_CLASSES] == [
        name for name, _, _ in ADE20K_TOY_CLASSES.values()]


# ------------------------------------------------------ check_dataset_folders


@pytest.mark.parametrize('config', [TOY_CONFIG, REAL_CONFIG])
def test_check_dataset_folders_missing_root(tmp_path, config):
    missing = str(tmp_path / 'nowhere' / 'ade' / 'ADEChallengeData2016')
    cfg = set_data_root(Config.fromfile(config), missing)
    with pytest.raises(FileNotFoundError) as e:
        check_dataset_folders(cfg)
    msg = str(e.value)
    assert f'not found: {missing}' in msg
    assert 'ADE20KDataset' in msg
    for sub in ('images/training', 'images/validation',
                'annotations/training', 'annotations/validation'):
        assert sub in msg
    parent = osp.dirname(missing)
    assert (f'python tools/dataset_converters/make_toy_data.py ade20k '
            f'--out {parent}') in msg
    assert msg.count('not found') == 1  # one message, not one per loader


def test_check_dataset_folders_default_roots():
    # What a new user sees for the shipped configs (when data/ is empty).
    for config, out in [(TOY_CONFIG, 'data/toy/ade'), (REAL_CONFIG, 'data/ade')]:
        cfg = Config.fromfile(config)
        root = cfg.train_dataloader.dataset.data_root
        assert root == f'{out}/ADEChallengeData2016'
        cfg = set_data_root(cfg, '/nonexistent/' + root)
        with pytest.raises(FileNotFoundError, match=f'--out /nonexistent/{out}'):
            check_dataset_folders(cfg)


def test_check_dataset_folders_ok_and_missing_subfolder(tmp_path):
    data_root = make_toy_ade20k(str(tmp_path / 'ade'), num_train=1, num_val=1,
                                size=32)
    cfg = set_data_root(Config.fromfile(TOY_CONFIG), data_root)
    check_dataset_folders(cfg)  # all there: no error
    os.rename(osp.join(data_root, 'annotations', 'validation'),
              osp.join(data_root, 'annotations', 'val'))
    with pytest.raises(FileNotFoundError) as e:
        check_dataset_folders(cfg)
    msg = str(e.value)
    assert 'not found: ' + osp.join(data_root, 'annotations',
                                    'validation') in msg
    assert 'data_prefix.seg_map_path of val_dataloader.dataset' in msg
    # only the val/test loaders are affected
    check_dataset_folders(cfg, dataloaders=('train_dataloader', ))


@pytest.mark.parametrize('wrapper', ['RepeatDataset', 'ConcatDataset'])
def test_check_dataset_folders_coco_through_wrappers(tmp_path, wrapper):
    coco = dict(
        type='CocoDataset',
        data_root=str(tmp_path / 'coco'),
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'))
    if wrapper == 'RepeatDataset':
        dataset = dict(type='RepeatDataset', times=3, dataset=coco)
    else:
        dataset = dict(type='ConcatDataset', datasets=[coco])
    cfg = Config(dict(default_scope='mmdet',
                      train_dataloader=dict(batch_size=2, dataset=dataset)))
    with pytest.raises(FileNotFoundError) as e:
        check_dataset_folders(cfg)
    msg = str(e.value)
    assert f'not found: {tmp_path / "coco"}' in msg
    assert 'CocoDataset' in msg
    for item in ('annotations/instances_train2017.json',
                 'annotations/instances_val2017.json', 'train2017/',
                 'val2017/'):
        assert item in msg
    # data_root there, annotation file missing: the file is named.
    os.makedirs(tmp_path / 'coco' / 'train2017')
    with pytest.raises(FileNotFoundError) as e:
        check_dataset_folders(cfg)
    assert 'Dataset file not found: ' + str(
        tmp_path / 'coco' / 'annotations' / 'instances_train2017.json') in str(
            e.value)


def test_check_dataset_folders_empty_folder(toy, tmp_path):
    """An empty image folder: one clear line instead of mmengine's
    'need at least one array to concatenate'."""
    import shutil
    data_root = shutil.copytree(toy, str(tmp_path / 'ADEChallengeData2016'))
    folder = osp.join(data_root, 'images', 'training')
    shutil.rmtree(folder)
    os.makedirs(folder)
    cfg = set_data_root(Config.fromfile(TOY_CONFIG), data_root)
    with pytest.raises(FileNotFoundError) as e:
        check_dataset_folders(cfg, ('train_dataloader', ))
    msg = str(e.value)
    assert msg.splitlines()[0] == f'Dataset folder is empty: {folder}'
    assert 'data_prefix.img_path of train_dataloader.dataset' in msg
    assert 'make_toy_data.py ade20k' in msg
