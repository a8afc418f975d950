"""YOLO-style detectors on every backbone: mmdet's RTMDet-tiny/-s and YOLOX-s
with RepViT, EMO and MobileViT. Every family and size has its three configs;
they are mmdet's recipes value by value (model around the backbone,
pipelines, schedule, hooks; the differences are the sample checks and what
the configs say); each family's backbone is declared in one file; params and
FLOPs are counted (run this file to print the table of every config); and a
short run through tools/train.py + tools/test.py on a dataset in the YOLO
layout learns, with RepViT-M0.9 and with mmdet's own CSPNeXt-tiny.

    python tests/test_yolo_detectors.py [--shape H W]  # params/FLOPs table
"""
import copy
import functools
import glob
import os
import os.path as osp
import re
import shutil

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlightvit  # noqa: F401  (registers the backbones)
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import make_toy_yolo
from helpers import ROOT, failure_summary, num_params, run_tool

CONFIG_DIR = osp.join(ROOT, 'configs')
MMDET_CONFIGS = osp.join(osp.dirname(__import__('mmdet').__file__), '.mim',
                         'configs')
SIZES = {
    'repvit': ('m0-9', 'm1-0', 'm1-1', 'm1-5', 'm2-3'),
    'emo': ('1m', '2m', '5m', '6m'),
    'mobilevit': ('xxs', 'xs', 's'),
}
DETECTORS = {'rtmdet_tiny': '8xb32-300e', 'rtmdet_s': '8xb32-300e',
             'yolox_s': '8xb8-300e'}
MMDET_RECIPES = {'rtmdet_tiny': 'rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
                 'rtmdet_s': 'rtmdet/rtmdet_s_8xb32-300e_coco.py',
                 'yolox_s': 'yolox/yolox_s_8xb8-300e_coco.py'}
TOY_CONFIG = 'repvit/rtmdet_tiny_repvit-m0-9_1xb16-8e_toy-yolo-128x128.py'


def rel(detector, family, size):
    return (f'{family}/{detector}_{family}-{size}_{DETECTORS[detector]}'
            '_coco.py')


ALL = [rel(d, f, s) for f, sizes in SIZES.items() for s in sizes
       for d in DETECTORS]


@functools.lru_cache(maxsize=None)
def _load(path):
    return Config.fromfile(path)


def load(rel_path):
    return copy.deepcopy(_load(osp.join(CONFIG_DIR, rel_path)))


def mmdet_recipe(detector):
    return copy.deepcopy(_load(osp.join(MMDET_CONFIGS,
                                        MMDET_RECIPES[detector])))


def build(model_cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return MODELS.build(sync_bn_to_bn(copy.deepcopy(model_cfg)))


def plain(cfg):
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg


def without(d, *keys):
    d = copy.deepcopy(plain(d))
    for key in keys:
        d.pop(key, None)
    return d


def unchecked(pipeline):
    """A pipeline as mmdet's recipe writes it: the sample checks are the
    configs' addition (CheckedLoadImageFromFile is LoadImageFromFile that
    names the file it cannot decode; CheckBoxes refuses broken boxes), as
    is 'instances' in the packed meta keys (CocoMetric without a json)."""
    steps = []
    for step in copy.deepcopy(plain(pipeline)):
        step.pop('backend_args', None)
        if step['type'] == 'CheckBoxes':
            continue
        if step['type'] == 'CheckedLoadImageFromFile':
            step['type'] = 'LoadImageFromFile'
        if 'meta_keys' in step:
            step['meta_keys'] = tuple(k for k in step['meta_keys']
                                      if k != 'instances')
        steps.append(step)
    return steps


def hook(cfg, kind):
    hooks = [h for h in cfg.custom_hooks if h['type'] == kind]
    assert len(hooks) == 1, (kind, cfg.custom_hooks)
    return plain(hooks[0])


# ------------------------------------------------------------- the configs
def test_every_family_size_and_detector_has_its_config():
    found = {osp.relpath(p, CONFIG_DIR) for p in glob.glob(
        osp.join(CONFIG_DIR, '*', '*.py'))
        if re.match(r'(rtmdet|yolox)_', osp.basename(p))}
    assert set(ALL) <= found
    assert len(ALL) == 36
    for path in ALL:  # the first line says the recipe
        with open(osp.join(CONFIG_DIR, path)) as f:
            assert f.readline().startswith("# Recipe: mmdet's ")


@pytest.mark.parametrize('detector', sorted(DETECTORS))
def test_recipe_is_mmdets(detector):
    """Everything but the backbone (and its input normalisation) is mmdet's
    recipe of the same name."""
    ours, theirs = load(rel(detector, 'repvit', 'm1-1')), \
        mmdet_recipe(detector)
    skip = ('backbone', 'data_preprocessor', 'neck')
    assert without(ours.model, *skip) == without(theirs.model, *skip)
    assert without(ours.model.neck, 'in_channels') == \
        without(theirs.model.neck, 'in_channels')
    assert ours.model.data_preprocessor.get('batch_augments') == \
        theirs.model.data_preprocessor.get('batch_augments')
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert plain(ours[key]) == plain(theirs[key]), key
    assert ours.default_hooks.checkpoint == theirs.default_hooks.checkpoint
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for key in ('batch_size', 'num_workers'):
            assert ours[loader][key] == theirs[loader][key], (loader, key)
    train, their_train = ours.train_dataloader.dataset, \
        theirs.train_dataloader.dataset
    assert unchecked(train.pipeline) == unchecked(their_train.pipeline)
    assert unchecked(ours.test_dataloader.dataset.pipeline) == \
        unchecked(theirs.test_dataloader.dataset.pipeline)
    assert unchecked(ours.val_dataloader.dataset.pipeline) == \
        unchecked(theirs.val_dataloader.dataset.pipeline)
    assert hook(ours, 'EMAHook') == hook(theirs, 'EMAHook')
    if detector.startswith('rtmdet'):
        ours_switch, theirs_switch = hook(ours, 'PipelineSwitchHook'), \
            hook(theirs, 'PipelineSwitchHook')
        assert ours_switch['switch_epoch'] == theirs_switch['switch_epoch']
        assert unchecked(ours_switch['switch_pipeline']) == \
            unchecked(theirs_switch['switch_pipeline'])
        assert ours.auto_scale_lr.base_batch_size == 8 * 32  # the recipe's
    else:
        assert unchecked(train.dataset.pipeline) == \
            unchecked(their_train.dataset.pipeline)
        assert train.dataset.filter_cfg == their_train.dataset.filter_cfg
        for kind in ('YOLOXModeSwitchHook', 'SyncNormHook'):
            assert hook(ours, kind) == hook(theirs, kind)
        assert ours.auto_scale_lr == theirs.auto_scale_lr
    # the project's runtime: RNG states saved, num_classes checked
    assert [h['type'] for h in ours.custom_hooks][:2] == [
        'RandomStateHook', 'NumClassCheckHook']


def test_stock_rtmdet_tiny_base_is_mmdets():
    stock = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'models',
                                     'rtmdet_tiny.py')).model
    theirs = mmdet_recipe('rtmdet_tiny').model
    theirs.backbone.pop('init_cfg')  # mmdet's ImageNet CSPNeXt (a URL)
    assert plain(stock) == plain(theirs)


def backbone_of(path):
    return plain(load(path).model.backbone)


@pytest.mark.parametrize('family', sorted(SIZES))
def test_backbone_declared_once_per_family(family, tmp_path):
    """The three detectors of an arch share one backbone and its input
    normalisation, and a change in _base_/models/rtmdet_<family>.py (e.g.
    the ImageNet init) reaches every config of the family."""
    for size in SIZES[family]:
        configs = [load(rel(d, family, size)) for d in DETECTORS]
        for cfg in configs[1:]:
            assert plain(cfg.model.backbone) == \
                plain(configs[0].model.backbone)
            for key in ('mean', 'std', 'bgr_to_rgb'):
                assert cfg.model.data_preprocessor[key] == \
                    configs[0].model.data_preprocessor[key]
    copied = str(tmp_path / 'configs')
    shutil.copytree(CONFIG_DIR, copied)
    with open(osp.join(copied, '_base_', 'models', f'rtmdet_{family}.py'),
              'a') as f:
        f.write("model['backbone']['init_cfg'] = dict(type='Pretrained', "
                "checkpoint='imagenet.pth', marker='base')\n")
    for detector in DETECTORS:
        for size in SIZES[family]:
            cfg = Config.fromfile(osp.join(copied,
                                           rel(detector, family, size)))
            # (a leaf may name its arch's own file, e.g. RepViT-M2.3's)
            assert cfg.model.backbone.init_cfg.marker == 'base'


_WIDTHS = {}


def backbone_widths(backbone):
    """out_channels of the built backbone at its out_indices (cached per
    type and arch)."""
    key = (backbone['type'], backbone['arch'])
    if key not in _WIDTHS:
        from mmdet.registry import MODELS
        init_default_scope('mmdet')
        module = MODELS.build(sync_bn_to_bn(without(backbone, 'init_cfg')))
        _WIDTHS[key] = [module.out_channels[i] for i in module.out_indices]
    return _WIDTHS[key]


@pytest.mark.parametrize('path', [rel('rtmdet_tiny', f, s)
                                  for f, sizes in SIZES.items()
                                  for s in sizes])
def test_pafpn_takes_the_backbone_strides_8_16_32(path):
    """out_indices (2, 3, 4) (strides 8/16/32) for every family, and the
    PAFPN inputs are the backbone's out_channels there (also for RTMDet-s
    and YOLOX-s, which take the same lines)."""
    family, size = path.split('/')[0], re.search(
        r'_[a-z]+-([a-z0-9-]+)_8xb', path).group(1)
    backbone = backbone_of(path)
    assert tuple(backbone['out_indices']) == (2, 3, 4)
    widths = backbone_widths(backbone)
    for detector in DETECTORS:
        assert list(load(rel(detector, family, size)).model.neck.
                    in_channels) == widths


# ------------------------------------------------------- params and FLOPs
def complexity_rows(paths, shape=None):
    """``[(config, params, FLOPs, input)]`` through mmlightvit's counter
    (the one get_flops.py uses), mmdet's stock RTMDet-tiny first."""
    from mmlightvit.apis.flops import model_complexity
    stock = osp.join(MMDET_CONFIGS, MMDET_RECIPES['rtmdet_tiny'])
    rows = []
    for name, path in [('mmdet rtmdet_tiny_8xb32-300e_coco (CSPNeXt)',
                        stock)] + [(p, osp.join(CONFIG_DIR, p))
                                   for p in paths]:
        res = model_complexity(path, shape)
        rows.append((name, res['params'], res['flops'], res['shape'],
                     res['unsupported']))
    return rows


def test_params_and_flops_are_counted():
    """RTMDet-tiny with the lightest backbone of each family beside mmdet's
    stock RTMDet-tiny, at 320x320: the head is the same (same parameter
    count), every op is counted, and the whole is backbone + PAFPN + head."""
    paths = [rel('rtmdet_tiny', f, sizes[0]) for f, sizes in SIZES.items()]
    rows = complexity_rows(paths, shape=(320, 320))
    stock_cfg = mmdet_recipe('rtmdet_tiny')
    stock_cfg.model.backbone.pop('init_cfg')
    stock = build(stock_cfg.model)
    print()
    for (name, params, flops, shape, unsupported), path in zip(
            rows, [None] + paths):
        print(f'{name}: {params / 1e6:.2f}M params, {flops / 1e9:.2f} '
              f'GFLOPs at {shape[0]}x{shape[1]}')
        assert not unsupported and flops > 0
        model = stock if path is None else build(load(path).model)
        assert params == num_params(model) == sum(
            num_params(getattr(model, part))
            for part in ('backbone', 'neck', 'bbox_head'))
        assert num_params(model.bbox_head) == num_params(stock.bbox_head)


# ------------------------------------------------ a short run on YOLO data
@pytest.fixture(scope='module')
def toy_yolo(tmp_path_factory):
    return make_toy_yolo(str(tmp_path_factory.mktemp('yolo')))  # default


def train_and_test(config, root, work):
    """bbox mAP of the toy config after tools/train.py, from the checkpoint
    through tools/test.py (and the same from the last validation); the
    checkpoint is left in ``work``."""
    options = ['--cfg-options'] + [
        f'{split}_dataloader.dataset.data_root={root}/'
        for split in ('train', 'val', 'test')]
    code, out = run_tool('tools/train.py', config, '--work-dir', work,
                         *options)
    assert code == 0, failure_summary(out)
    val_map = float(re.findall(r'coco/bbox_mAP: ([\d.]+)', out)[-1])
    checkpoints = sorted(glob.glob(osp.join(work, 'epoch_*.pth')))
    code, out = run_tool('tools/test.py', config, checkpoints[-1],
                         '--work-dir', work, *options)
    assert code == 0, failure_summary(out)
    test_map = float(re.findall(r'coco/bbox_mAP: ([\d.]+)', out)[-1])
    assert test_map == pytest.approx(val_map, abs=1e-3)  # EMA weights saved
    return test_map


RESULTS = {}


def onnx_matches_pytorch(config, checkpoint, root, out_dir,
                         min_score=0.05):
    """Export the trained toy detector (RepViT in deploy form, boxes and
    scores before NMS) with tools/deployment/pytorch2onnx.py; onnxruntime
    + the numpy post-processing then give on every toy validation image
    the detections of the PyTorch model (mmdet's predict), those scoring
    over ``min_score`` compared. Returns how many were compared."""
    import importlib.util

    import cv2
    import numpy as np
    import onnxruntime as ort
    import torch
    from mmdet.structures import DetDataSample

    from mmlightvit.apis.export import (postprocess_detections,
                                        postprocess_metadata)
    from mmlightvit.apis.model import build_model, load_model_config
    from mmlightvit.apis.reparam import switch_to_deploy
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx', osp.join(ROOT, 'tools/deployment/pytorch2onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    onnx_file = osp.join(out_dir, 'toy_rtmdet.onnx')
    tool.main([config, checkpoint, '--out', onnx_file, '--shape', '128',
               '128', '--deploy', '--det-output', 'boxes', '--exporter',
               'legacy'])
    model = build_model(load_model_config(config), checkpoint=checkpoint)
    switch_to_deploy(model)
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    meta = postprocess_metadata(session)
    compared = 0
    img_dir = osp.join(root, 'images', 'val')
    for name in sorted(os.listdir(img_dir)):
        img = cv2.imread(osp.join(img_dir, name))
        sample = DetDataSample(metainfo=dict(
            img_shape=img.shape[:2], ori_shape=img.shape[:2],
            scale_factor=(1., 1.), pad_shape=img.shape[:2],
            batch_input_shape=img.shape[:2]))
        data = model.data_preprocessor(dict(
            inputs=[torch.from_numpy(img).permute(2, 0, 1).contiguous()],
            data_samples=[sample]), False)
        with torch.no_grad():
            pred = model(**data, mode='predict')[0].pred_instances
        boxes, scores = session.run(None,
                                    {'input': data['inputs'].numpy()})
        ours = postprocess_detections(boxes[0], scores[0], **meta)
        keep = ours[1] > min_score
        theirs = pred[pred.scores > min_score]
        assert keep.sum() == len(theirs), name
        np.testing.assert_array_equal(ours[2][keep], theirs.labels.numpy())
        np.testing.assert_allclose(ours[0][keep], theirs.bboxes.numpy(),
                                   atol=0.05)
        np.testing.assert_allclose(ours[1][keep], theirs.scores.numpy(),
                                   atol=1e-4)
        compared += len(theirs)
    return compared


@pytest.mark.slow
def test_rtmdet_repvit_learns_yolo_layout_data(toy_yolo, tmp_path):
    """RTMDet-tiny + RepViT-M0.9 (the real model, from scratch) on the
    20-class toy set in the YOLO layout, through the tools."""
    work = str(tmp_path / 'work')
    RESULTS['RepViT-M0.9'] = train_and_test(
        osp.join('configs', TOY_CONFIG), toy_yolo, work)
    print(f"\nRTMDet-tiny + RepViT-M0.9 on the toy YOLO set: bbox mAP "
          f"{RESULTS['RepViT-M0.9']:.3f}")
    assert RESULTS['RepViT-M0.9'] > 0.05
    # deployed: re-parameterised, exported, run by onnxruntime
    compared = onnx_matches_pytorch(
        osp.join(ROOT, 'configs', TOY_CONFIG),
        sorted(glob.glob(osp.join(work, 'epoch_*.pth')))[-1], toy_yolo,
        str(tmp_path))
    print(f'onnxruntime (deploy form) = PyTorch on the {compared} toy '
          'detections scoring over 0.05')
    assert compared > 0


@pytest.mark.slow
def test_rtmdet_cspnext_same_run(toy_yolo, tmp_path):
    """The same run with mmdet's own backbone (CSPNeXt-tiny, its input
    normalisation), for comparison: printed beside RepViT-M0.9's."""
    stock = mmdet_recipe('rtmdet_tiny').model
    config = tmp_path / 'rtmdet_tiny_cspnext_toy-yolo.py'
    backbone = without(stock.backbone, 'init_cfg')
    config.write_text(
        f"_base_ = '{osp.join(CONFIG_DIR, TOY_CONFIG)}'\n"
        f"model = dict(data_preprocessor={plain(stock.data_preprocessor)!r},"
        f"\n    backbone=dict(_delete_=True, **{backbone!r}),\n"
        f"    neck=dict(in_channels={list(stock.neck.in_channels)!r}))\n")
    cspnext = train_and_test(str(config), toy_yolo, str(tmp_path / 'work'))
    ours = RESULTS.get('RepViT-M0.9')
    print(f'\nRTMDet-tiny on the toy YOLO set, bbox mAP: CSPNeXt-tiny '
          f'{cspnext:.3f}, RepViT-M0.9 '
          + (f'{ours:.3f}' if ours is not None else '(not run)'))
    assert cspnext >= 0


if __name__ == '__main__':
    import argparse
    import torch
    parser = argparse.ArgumentParser(description='params and FLOPs of the '
                                     'RTMDet / YOLOX configs')
    parser.add_argument('--shape', type=int, nargs=2, default=None)
    args = parser.parse_args()
    torch.set_num_threads(min(torch.get_num_threads(), 4))
    print('| config | params | FLOPs | input |\n|---|---|---|---|')
    for name, params, flops, shape, _ in complexity_rows(ALL, args.shape):
        print(f'| {name} | {params / 1e6:.2f}M | {flops / 1e9:.2f}G | '
              f'{shape[0]}x{shape[1]} |', flush=True)
