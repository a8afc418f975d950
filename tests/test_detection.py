"""COCO detection (mmdet 3.x): the toy COCO generator, the RetinaNet and
SSDLite configs of every backbone family, their parameter counts against the
EMO README, a few training iterations of each family through mmdet's real
models, a short CPU run that learns (bbox mAP through mmdet's CocoMetric /
pycocotools) via tools/train.py + tools/test.py, and the missing-dataset
message."""
import functools
import glob
import json
import os
import os.path as osp
import re
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmlightvit  # noqa: F401  (registers the backbones, compat fixes)
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import (COCO_CATEGORIES, COCO_TOY_CLASSES,
                                     make_toy_coco)
from helpers import failure_summary, run_tool  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(ROOT, 'configs')
FAMILIES = ('emo', 'repvit', 'mobilevit', 'exmobilevit')
DET_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR) for family in FAMILIES
    for p in glob.glob(osp.join(CONFIG_DIR, family, '*.py'))
    if re.match(r'(retinanet|ssdlite)_', osp.basename(p)))
TOY_CONFIG = 'mobilevit/ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py'
REAL_CONFIG = 'emo/retinanet_emo-5m_fpn_8xb4-1x_coco.py'

# Every family and size; one real config per (detector, family, size).
SIZES = {
    'emo': ('1m', '2m', '5m', '6m'),
    'repvit': ('m0-9', 'm1-0', 'm1-1', 'm1-5', 'm2-3'),
    'mobilevit': ('xxs', 'xs', 's'),
    'exmobilevit': ('576', '640', '928'),
}


def retinanet(family, size):
    return f'{family}/retinanet_{family}-{size}_fpn_8xb4-1x_coco.py'


def ssdlite(family, size):
    return f'{family}/ssdlite_{family}-{size}_8xb24-120e_coco-320x320.py'


# EMO README (COCO 2017, "#Params"), in millions.
EMO_README_PARAMS = {
    ssdlite('emo', '1m'): 2.3,
    ssdlite('emo', '2m'): 3.3,
    ssdlite('emo', '5m'): 6.0,
    retinanet('emo', '1m'): 10.4,
    retinanet('emo', '2m'): 11.5,
    retinanet('emo', '5m'): 14.4,
}


pytestmark = pytest.mark.usefixtures('single_thread')


def load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


def build_detector(cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return MODELS.build(sync_bn_to_bn(cfg.model))


@functools.lru_cache(maxsize=None)
def num_params(rel):
    model = build_detector(load(rel))
    return sum(p.numel() for p in model.parameters())


def data_options(data_root):
    """--cfg-options that point every split (and the evaluators) at
    data_root, in-process."""
    opts = [f'{split}_dataloader.{key}'
            for split in ('train', 'val', 'test')
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]
    ann = osp.join(data_root, 'annotations', 'instances_val2017.json')
    return opts + [f'val_evaluator.ann_file={ann}',
                   f'test_evaluator.ann_file={ann}']


# ------------------------------------------------------------------ toy COCO


@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco'))
    assert make_toy_coco(root, num_train=6, num_val=3, size=96, seed=1) == root
    return root


def test_toy_coco_layout_and_format(tiny_coco):
    assert sorted(os.listdir(tiny_coco)) == [
        'annotations', 'train2017', 'val2017']
    assert sorted(os.listdir(osp.join(tiny_coco, 'annotations'))) == [
        'instances_train2017.json', 'instances_val2017.json']
    ann_ids = set()
    for split, num in (('train2017', 6), ('val2017', 3)):
        with open(osp.join(tiny_coco, 'annotations',
                           f'instances_{split}.json')) as f:
            data = json.load(f)
        assert set(data) >= {'info', 'licenses', 'images', 'annotations',
                             'categories'}
        # all 80 categories, real ids, mmdet's names in mmdet's order
        from mmdet.datasets import CocoDataset
        assert [c['id'] for c in data['categories']] == [
            c[0] for c in COCO_CATEGORIES]
        assert tuple(c['name'] for c in data['categories']) == (
            CocoDataset.METAINFO['classes'])
        assert len(data['categories']) == 80
        assert data['categories'][-1] == dict(
            supercategory='indoor', id=90, name='toothbrush')
        images = {im['id']: im for im in data['images']}
        assert len(images) == num
        assert sorted(os.listdir(osp.join(tiny_coco, split))) == sorted(
            im['file_name'] for im in images.values())
        for im in images.values():
            assert re.fullmatch(r'\d{12}\.jpg', im['file_name'])
            assert (im['height'], im['width']) == (96, 96)
        per_image = {i: 0 for i in images}
        for ann in data['annotations']:
            assert ann['id'] not in ann_ids  # unique over both splits
            ann_ids.add(ann['id'])
            assert ann['category_id'] in COCO_TOY_CLASSES
            assert ann['iscrowd'] == 0
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and x + w <= 96 and y + h <= 96
            assert 0 < ann['area'] <= w * h
            assert len(ann['segmentation'][0]) >= 6
            per_image[ann['image_id']] += 1
        assert all(n >= 1 for n in per_image.values())


def test_toy_coco_boxes_are_exact(tiny_coco):
    """The object's colour reaches all four sides of its box, and just
    outside the box there is background (objects keep a gap between them)."""
    import cv2
    with open(osp.join(tiny_coco, 'annotations',
                       'instances_train2017.json')) as f:
        data = json.load(f)
    names = {im['id']: im['file_name'] for im in data['images']}
    for ann in data['annotations']:
        img = cv2.imread(osp.join(tiny_coco, 'train2017',
                                  names[ann['image_id']])).astype(np.float32)
        colour = np.asarray(COCO_TOY_CLASSES[ann['category_id']][1])
        dist = np.abs(img - colour).max(-1)
        x, y, w, h = (int(v) for v in ann['bbox'])
        # within a pixel of each side (the blur and JPEG soften the edges and
        # the sharp corners of the triangles)
        inside = dist[y:y + h, x:x + w] < 90
        assert inside[:2].any() and inside[-2:].any()
        assert inside[:, :2].any() and inside[:, -2:].any()
        close = dist < 60
        ring = np.zeros_like(close)
        ring[max(y - 2, 0):y + h + 2, max(x - 2, 0):x + w + 2] = True
        ring[y:y + h, x:x + w] = False
        assert close[ring].mean() < 0.2


def test_toy_coco_is_deterministic_and_idempotent(tmp_path, tiny_coco):
    other = make_toy_coco(str(tmp_path / 'again'), num_train=6, num_val=3,
                          size=96, seed=1)
    for sub in ('annotations/instances_train2017.json',
                'annotations/instances_val2017.json',
                'train2017/000000000002.jpg', 'val2017/000000100003.jpg'):
        with open(osp.join(tiny_coco, sub), 'rb') as a, \
                open(osp.join(other, sub), 'rb') as b:
            assert a.read() == b.read(), sub
    # image i does not depend on how many are written
    fewer = make_toy_coco(str(tmp_path / 'fewer'), num_train=2, num_val=0,
                          size=96, seed=1)
    with open(osp.join(tiny_coco, 'train2017/000000000002.jpg'), 'rb') as a, \
            open(osp.join(fewer, 'train2017/000000000002.jpg'), 'rb') as b:
        assert a.read() == b.read()
    # an existing set is left alone, unless overwrite
    stamp = osp.join(other, 'annotations', 'instances_val2017.json')
    os.utime(stamp, (0, 0))
    make_toy_coco(other, num_train=1, num_val=1, size=64, seed=2)
    assert os.stat(stamp).st_mtime == 0
    assert len(os.listdir(osp.join(other, 'train2017'))) == 6
    make_toy_coco(other, num_train=1, num_val=1, size=64, seed=2,
                  overwrite=True)
    assert len(os.listdir(osp.join(other, 'train2017'))) == 1
    assert len(os.listdir(osp.join(other, 'val2017'))) == 1


def test_make_toy_data_cli_coco(tmp_path, capsys):
    sys.path.insert(0, osp.join(ROOT, 'tools', 'dataset_converters'))
    try:
        import make_toy_data
    finally:
        sys.path.pop(0)
    out = str(tmp_path / 'toy' / 'coco')
    make_toy_data.main(['coco', '--out', out, '--num-train', '2',
                        '--num-val', '1', '--size', '64'])
    assert 'Wrote toy COCO' in capsys.readouterr().out
    assert len(os.listdir(osp.join(out, 'train2017'))) == 2
    assert osp.isfile(osp.join(out, 'annotations', 'instances_val2017.json'))
    make_toy_data.main(['coco', '--out', out])
    assert 'left unchanged' in capsys.readouterr().out


def test_mmdet_coco_dataset_reads_toy(tiny_coco):
    from mmdet.registry import DATASETS
    init_default_scope('mmdet')
    cfg = load(REAL_CONFIG).train_dataloader.dataset
    cfg.data_root = tiny_coco
    dataset = DATASETS.build(cfg)
    assert len(dataset) == 6
    with open(osp.join(tiny_coco, 'annotations',
                       'instances_train2017.json')) as f:
        anns = json.load(f)['annotations']
    classes = dataset.metainfo['classes']
    seen = 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        expected = [a for a in anns if a['image_id'] == info['img_id']]
        assert len(info['instances']) == len(expected)
        for inst, ann in zip(info['instances'], expected):
            x, y, w, h = ann['bbox']
            assert inst['bbox'] == [x, y, x + w, y + h]
            assert classes[inst['bbox_label']] == (
                COCO_TOY_CLASSES[ann['category_id']][0])
            seen += 1
    assert seen == len(anns)
    sample = dataset[0]  # the real pipeline (1333x800 resize)
    assert sample['inputs'].shape[0] == 3


# ------------------------------------------------------------------ configs


def test_every_family_and_size_has_both_detectors():
    expected = {f(fam, size) for fam, sizes in SIZES.items()
                for size in sizes for f in (retinanet, ssdlite)}
    assert expected <= set(DET_CONFIGS)
    assert TOY_CONFIG in DET_CONFIGS


@pytest.mark.parametrize('rel', DET_CONFIGS)
def test_det_config(rel):
    """Loads, mmdet scope, recipe-wide settings, and the neck takes the
    channels its backbone gives (the backbone alone is built)."""
    from mmengine.registry import MODELS
    with open(osp.join(CONFIG_DIR, rel)) as f:
        assert f.readline().startswith('# Recipe: ')  # whose recipe it is
    cfg = load(rel)
    assert cfg.default_scope == 'mmdet'
    assert 'mmlightvit' in cfg.custom_imports.imports
    assert dict(type='RandomStateHook') in cfg.custom_hooks
    assert cfg.visualizer.type == 'DetLocalVisualizer'
    assert cfg.model.bbox_head.num_classes == 80
    assert cfg.train_dataloader.dataset.get(
        'dataset', cfg.train_dataloader.dataset).type == 'CocoDataset'
    assert cfg.val_evaluator.type == 'CocoMetric'
    assert cfg.val_evaluator.metric == 'bbox'
    backbone = MODELS.build(sync_bn_to_bn(cfg.model.backbone))
    widths = [backbone.out_channels[i] for i in backbone.out_indices]
    neck = cfg.model.neck
    assert list(neck.in_channels) == widths
    if 'toy' in rel:
        return
    opt = cfg.optim_wrapper
    assert opt.optimizer.type == 'AdamW'
    assert opt.optimizer.weight_decay == 0.05
    # EMO's name-matched exemption (tests/test_recipes.py checks its effect)
    assert opt.paramwise_cfg == dict(custom_keys={
        'norm': dict(decay_mult=0.), 'conv_local.bn': dict(decay_mult=0.)})
    assert cfg.model.backbone.norm_eval is True
    if rel.split('/')[1].startswith('retinanet'):
        assert neck.type == 'FPN' and neck.start_level == 0
        assert len(widths) == 3  # the last three stages: strides 8/16/32
        assert (neck.add_extra_convs, neck.num_outs) == ('on_input', 5)
        assert cfg.model.backbone.frozen_stages == 1
        assert opt.optimizer.lr == 2e-4
        assert cfg.train_dataloader.batch_size == 4
        assert cfg.auto_scale_lr.base_batch_size == 32
        assert cfg.train_cfg.max_epochs == 12
        assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    else:
        assert neck.type == 'SSDNeck' and neck.use_depthwise
        assert len(widths) == 2
        assert tuple(neck.out_channels) == (*widths, 512, 256, 256, 128)
        head = cfg.model.bbox_head
        assert tuple(head.in_channels) == tuple(neck.out_channels)
        assert head.use_depthwise and head.act_cfg == dict(type='ReLU6')
        assert head.norm_cfg == dict(type='BN', eps=0.001, momentum=0.03)
        assert head.anchor_generator.strides == [16, 32, 64, 107, 160, 320]
        assert cfg.model.backbone.frozen_stages == -1
        assert opt.optimizer.lr == 1.2e-3
        assert cfg.train_dataloader.batch_size == 24
        assert cfg.auto_scale_lr.base_batch_size == 192
        assert cfg.train_cfg.max_epochs == 120
        assert cfg.train_dataloader.dataset.type == 'RepeatDataset'
        assert cfg.train_dataloader.dataset.dataset.data_root == 'data/coco/'
        assert cfg.test_pipeline[1] == dict(
            type='Resize', scale=(320, 320), keep_ratio=False)


@pytest.mark.parametrize('size,window,drop_path', [
    ('1m', 7, 0.04036), ('2m', 7, 0.05), ('5m', 10, 0.05), ('6m', 10, 0.05)])
def test_emo_recipe(size, window, drop_path):
    for rel in (retinanet('emo', size), ssdlite('emo', size)):
        backbone = load(rel).model.backbone
        assert backbone.type == 'EMO' and backbone.arch == size.upper()
        assert backbone.window_size == window
        assert backbone.drop_path_rate == drop_path
        assert backbone.norm_cfg == dict(type='SyncBN', eps=1e-6)
        # the authors' ImageNet weights, as every official EMO recipe
        assert backbone.init_cfg == dict(
            type='Pretrained', checkpoint='https://github.com/zhangzjn/EMO/'
            'raw/main/resources/EMO_{arch}/net.pth')
        assert backbone.out_indices == (
            (2, 3, 4) if 'retinanet' in rel else (3, 4))


@pytest.mark.parametrize('rel', sorted(EMO_README_PARAMS))
def test_param_count_matches_emo_readme(rel):
    measured = num_params(rel) / 1e6
    expected = EMO_README_PARAMS[rel]
    assert abs(measured - expected) / expected <= 0.03, (
        f'{rel}: {measured:.3f}M parameters, EMO README says {expected}M')


def test_retinanet_fpn_on_last_three_stages_is_the_official_network():
    """EMO's official RetinaNet (out_indices 1-4, FPN start_level=1) and the
    FPN on the last three stages here build the same parameters."""
    cfg = load(retinanet('emo', '1m'))
    ours = build_detector(cfg)
    cfg.model.backbone.out_indices = (1, 2, 3, 4)
    cfg.model.neck.in_channels = [32, 48, 80, 168]
    cfg.model.neck.start_level = 1
    official = build_detector(cfg)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in official.state_dict().items()}


# ------------------------------------------------- training through mmdet


@pytest.fixture(scope='module')
def toy_batches(tmp_path_factory):
    """Two batches of two 128x128 toy COCO images, through the toy config's
    training pipeline and mmdet's CocoDataset."""
    from mmdet.registry import DATASETS
    root = str(tmp_path_factory.mktemp('coco_train'))
    make_toy_coco(root, num_train=4, num_val=0, size=128, seed=3)
    init_default_scope('mmdet')
    cfg = load(TOY_CONFIG).train_dataloader.dataset
    cfg.data_root = root
    dataset = DATASETS.build(cfg)
    return [pseudo_collate([dataset[i], dataset[i + 1]]) for i in (0, 2)]


SMALL = {'emo': '1m', 'repvit': 'm0-9', 'mobilevit': 'xxs',
         'exmobilevit': '576'}


@pytest.mark.parametrize('detector', [retinanet, ssdlite])
@pytest.mark.parametrize('family', FAMILIES)
def test_trains_a_few_iterations(family, detector, toy_batches):
    """The real (80-class) detector with the config's optimizer: two
    training iterations on toy COCO change the trainable weights, leave the
    frozen ones, and give finite losses; then it predicts."""
    from mmengine.optim import build_optim_wrapper
    cfg = load(detector(family, SMALL[family]))
    cfg.model.backbone.init_cfg = None  # offline: no ImageNet weights
    torch.manual_seed(0)
    model = build_detector(cfg)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    for batch in toy_batches:
        losses = model.train_step(batch, optim_wrapper)
        assert {'loss_cls', 'loss_bbox'} <= set(losses)
        assert all(torch.isfinite(v).all() for v in losses.values())
    changed = {k for k, v in model.named_parameters()
               if not torch.equal(v, before[k])}
    frozen = {k for k, v in model.named_parameters() if not v.requires_grad}
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('neck.') for k in changed)
    assert any(k.startswith('bbox_head.') for k in changed)
    assert not changed & frozen
    if detector is retinanet:  # stem + first stage frozen (EMO's recipe)
        assert frozen and all(k.startswith('backbone.') for k in frozen)
    else:
        assert not frozen
    model.eval()
    with torch.no_grad():
        results = model.val_step(toy_batches[0])
    assert len(results) == 2
    assert results[0].pred_instances.bboxes.shape[1] == 4


# ---------------------------------------------------- the tools, end to end


def test_toy_config_is_the_real_model_on_toy_data():
    toy, real = load(TOY_CONFIG), load(
        ssdlite('mobilevit', 'xxs'))
    toy_model, real_model = toy.model.to_dict(), real.model.to_dict()
    # from scratch: BN statistics trained; anchors of the 128x128 input
    assert toy_model['backbone'].pop('norm_eval') is False
    real_model['backbone'].pop('norm_eval')
    assert toy_model['backbone'].pop('init_cfg') is None  # offline toy run
    assert real_model['backbone'].pop('init_cfg')['type'] == 'Pretrained'
    toy_anchors = toy_model['bbox_head'].pop('anchor_generator')
    real_anchors = real_model['bbox_head'].pop('anchor_generator')
    assert toy_model == real_model
    scale = 128 / 320
    assert toy_anchors['min_sizes'] == [
        round(s * scale) for s in real_anchors['min_sizes']]
    assert toy.train_dataloader.dataset.data_root == 'data/toy/coco/'
    assert toy.val_evaluator.ann_file == (
        'data/toy/coco/annotations/instances_val2017.json')


MAP = re.compile(r'coco/bbox_mAP: ([\d.]+)\s+coco/bbox_mAP_50: ([\d.]+)')


@pytest.mark.slow
def test_short_run_learns_through_tools(tmp_path):
    """tools/train.py trains the toy SSDLite + MobileViT-XXS (the real
    80-class model, from scratch) on a toy COCO for 160 iterations and
    evaluates it with mmdet's CocoMetric (pycocotools); tools/test.py gets
    the same mAP from the checkpoint. Measured: mAP 0.234, AP50 0.530 (toy
    seeds 0-2: 0.22-0.26); the untrained model detects nothing."""
    root = make_toy_coco(str(tmp_path / 'coco'), num_train=64, num_val=16,
                         size=128, seed=0)
    work_dir = str(tmp_path / 'work')
    opts = data_options(root)
    rc, out = run_tool('tools/train.py', osp.join('configs', TOY_CONFIG),
                       '--work-dir', work_dir, '--cfg-options', *opts)
    assert rc == 0, failure_summary(out)
    trained = MAP.findall(out)
    assert len(trained) == 1, out[-3000:]
    mean_ap, ap50 = (float(v) for v in trained[0])
    assert mean_ap > 0.1 and ap50 > 0.3, out[-3000:]

    ckpt = osp.join(work_dir, 'epoch_20.pth')
    rc, out = run_tool('tools/test.py', osp.join('configs', TOY_CONFIG), ckpt,
                       '--work-dir', work_dir, '--cfg-options', *opts)
    assert rc == 0, failure_summary(out)
    assert MAP.findall(out) == trained


def test_missing_coco_stops_with_clear_message(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'coco')
    rc, out = run_tool('tools/train.py', osp.join('configs', REAL_CONFIG),
                       '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                       *data_options(missing))
    assert rc != 0
    assert f'Dataset folder not found: {missing}' in out
    assert 'CocoDataset expects this layout' in out
    for item in ('annotations/instances_train2017.json',
                 'annotations/instances_val2017.json', 'train2017/',
                 'val2017/', 'https://cocodataset.org'):
        assert item in out
    assert ('python tools/dataset_converters/make_toy_data.py coco '
            f'--out {missing}') in out
    assert 'Traceback' not in out
