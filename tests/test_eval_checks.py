"""Evaluation is never silently wrong: a checkpoint that does not fit the
model is refused, and a broken sample is an error, or is left out of the
metrics and counted (never replaced by another sample)."""
import argparse
import json
import logging
import os
import os.path as osp
import shutil
import uuid

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmlightvit  # noqa: F401
from mmlightvit.apis.cli import load_config
from mmlightvit.apis.model_checks import (CheckpointMismatchError,
                                          check_model)
from mmlightvit.datasets.evaluation import DropBadSamplesEvaluator
from mmlightvit.datasets.toy import make_toy_ade20k, make_toy_coco
from mmlightvit.datasets.transforms import BadSampleError
from helpers import ROOT, failure_summary, run_tool

pytestmark = pytest.mark.usefixtures('single_thread')

SEG_CONFIG = osp.join(
    ROOT, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py')
DET_CONFIG = osp.join(
    ROOT, 'configs/mobilevit/'
    'ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py')


def options(data_root, coco=False):
    opts = {f'{split}_dataloader.{key}': value
            for split in ('train', 'val', 'test')
            for key, value in (('dataset.data_root', data_root),
                               ('num_workers', 0),
                               ('persistent_workers', False))}
    if coco:
        ann = osp.join(data_root, 'annotations', 'instances_val2017.json')
        opts.update({'val_evaluator.ann_file': ann,
                     'test_evaluator.ann_file': ann})
    return opts


def build_runner(config, opts, work_dir, checkpoint=None, skip=False,
                 allow_partial=False):
    """tools/test.py in-process: load_config + Runner + check_model."""
    args = argparse.Namespace(config=config, cfg_options=opts,
                              launcher='none', work_dir=str(work_dir),
                              skip_bad_samples=skip)
    cfg = load_config(args, ('test_dataloader', ))
    cfg.load_from = checkpoint
    cfg.experiment_name = uuid.uuid4().hex  # a logger of its own
    runner = Runner.from_cfg(cfg)
    check_model(runner, allow_partial=allow_partial, testing=True)
    return runner


def as_in_training(runner):
    """The checkpoint check of tools/train.py (load_from) instead of
    tools/test.py's."""
    runner._hooks = [h for h in runner.hooks
                     if type(h).__name__ != 'CheckpointFitHook']
    check_model(runner, override='--cfg-options allow_partial_load=True')
    return runner


class Messages(logging.Handler):

    def __init__(self, logger):
        super().__init__(logging.DEBUG)
        self.messages = []
        logger.addHandler(self)

    def emit(self, record):
        self.messages.append(record.getMessage())


# ------------------------------------------------------------ segmentation


@pytest.fixture(scope='module')
def seg(tmp_path_factory):
    """Toy ADE20K (4 validation images) and a checkpoint of a random model
    whose decode head predicts 'wall' (label 0) everywhere: aAcc is the
    share of wall pixels, different from image to image."""
    tmp = tmp_path_factory.mktemp('seg')
    root = make_toy_ade20k(str(tmp / 'ade'), num_train=1, num_val=4, size=32,
                           seed=0)
    runner = build_runner(SEG_CONFIG, options(root), tmp / 'w')
    state_dict = runner.model.state_dict()
    state_dict['decode_head.conv_seg.bias'][0] = 1e4
    checkpoint = str(tmp / 'wall.pth')
    torch.save({'state_dict': state_dict, 'meta': {}}, checkpoint)
    return tmp, root, checkpoint


def seg_metrics(root, checkpoint, work_dir, skip=False):
    runner = build_runner(SEG_CONFIG, options(root), work_dir, checkpoint,
                          skip=skip)
    messages = Messages(runner.logger)
    return runner.test(), messages.messages


def copy_without(root, dst, stem):
    """A copy of the validation set without the sample ``stem``."""
    shutil.copytree(root, dst)
    for folder, ext in (('images', '.jpg'), ('annotations', '.png')):
        os.remove(osp.join(dst, folder, 'validation', stem + ext))
    return dst


def test_broken_test_image_is_an_error_or_dropped_and_counted(seg, tmp_path):
    tmp, root, checkpoint = seg
    all_four, _ = seg_metrics(root, checkpoint, tmp_path / 'w0')
    broken = shutil.copytree(root, str(tmp_path / 'broken'))
    path = osp.join(broken, 'images', 'validation', 'ADE_val_00000002.jpg')
    with open(path, 'wb') as f:
        f.write(b'\xff\xd8 truncated jpeg')

    with pytest.raises(BadSampleError, match='ADE_val_00000002.jpg: cannot '
                       'decode the image'):
        seg_metrics(broken, checkpoint, tmp_path / 'w1')

    dropped, log = seg_metrics(broken, checkpoint, tmp_path / 'w2',
                               skip=True)
    good, _ = seg_metrics(
        copy_without(root, str(tmp_path / 'good'), 'ADE_val_00000002'),
        checkpoint, tmp_path / 'w3', skip=True)
    assert dropped['dropped_samples'] == 1 and good['dropped_samples'] == 0
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert dropped[key] == good[key], (dropped, good)
    assert dropped['aAcc'] != all_four['aAcc']  # the image really is left out
    assert any(path in m and 'left out of the metrics' in m for m in log)


def test_validation_skip_becomes_drop(seg):
    """on_error='skip' in the validation pipeline drops, never redraws."""
    tmp, root, _ = seg
    args = argparse.Namespace(
        config=SEG_CONFIG, launcher='none', work_dir=str(tmp / 'w'),
        cfg_options={**options(root),
                     'val_dataloader.dataset.pipeline.0.on_error': 'skip'})
    cfg = load_config(args, ('train_dataloader', 'val_dataloader'))
    pipeline = cfg.val_dataloader.dataset.pipeline
    assert pipeline[0] == dict(type='CheckedLoadImageFromFile',
                               on_error='drop')
    assert pipeline[3]['num_classes'] == 150  # from ADE20KDataset's classes
    assert 'bad_sample' in pipeline[-1]['meta_keys']
    assert cfg.val_evaluator == dict(
        type='DropBadSamplesEvaluator',
        metrics=dict(type='IoUMetric', iou_metrics=['mIoU']))
    # training keeps 'skip' (another sample is drawn) and is not wrapped
    assert cfg.train_dataloader.dataset.pipeline[0] == dict(
        type='CheckedLoadImageFromFile')


def test_test_pipeline_gets_the_checks(seg):
    tmp, root, _ = seg
    args = argparse.Namespace(config=SEG_CONFIG, cfg_options=options(root),
                              launcher='none', work_dir=str(tmp / 'w'))
    cfg = load_config(args, ('test_dataloader', ))
    assert [s['type'] for s in cfg.test_dataloader.dataset.pipeline] == [
        'CheckedLoadImageFromFile', 'Resize', 'LoadAnnotations',
        'CheckSegLabels', 'PackSegInputs']
    assert cfg.test_evaluator.type == 'IoUMetric'  # nothing to drop
    assert cfg.test_pipeline[0] == dict(type='LoadImageFromFile')


# ---------------------------------------------------------- checkpoint fit


def test_checkpoint_of_another_model_is_refused(seg, tmp_path):
    tmp, root, _ = seg
    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    runner = build_runner(SEG_CONFIG, options(root), tmp_path / 'w', empty)
    with pytest.raises(CheckpointMismatchError) as e:
        runner.test()
    message = str(e.value)
    assert f'checkpoint {empty} does not fit the EncoderDecoder model' in \
        message
    assert 'weights missing, 0 unexpected, 0 of another shape' in message
    assert 'missing: backbone.' in message and '--allow-partial' in message
    assert '\n' not in message

    # a detector's checkpoint: missing, unexpected and mismatched keys
    other = str(tmp_path / 'other.pth')
    state_dict = runner.model.state_dict()
    state_dict['decode_head.conv_seg.weight'] = torch.zeros(3, 512, 1, 1)
    state_dict['bbox_head.cls_convs.0.weight'] = torch.zeros(1)
    del state_dict['backbone.stage0.0.conv.weight']
    torch.save({'state_dict': state_dict}, other)
    runner = build_runner(SEG_CONFIG, options(root), tmp_path / 'w', other)
    with pytest.raises(CheckpointMismatchError,
                       match=r'1 of the model\'s \d+ weights missing, 1 '
                       'unexpected, 1 of another shape.*'
                       r'decode_head.conv_seg.weight \(3, 512, 1, 1\)'):
        runner.test()


def test_load_from_in_training_is_checked(seg, tmp_path):
    tmp, root, _ = seg
    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    runner = as_in_training(
        build_runner(SEG_CONFIG, options(root), tmp_path / 'w', empty))
    with pytest.raises(CheckpointMismatchError, match='does not fit.*'
                       '--cfg-options allow_partial_load=True loads it'):
        runner.load_checkpoint(empty)


def test_allow_partial_evaluates_with_a_warning(seg, tmp_path):
    tmp, root, checkpoint = seg
    partial = str(tmp_path / 'partial.pth')
    state_dict = torch.load(checkpoint)['state_dict']
    state_dict.pop('auxiliary_head.conv_seg.bias')
    torch.save({'state_dict': state_dict}, partial)
    runner = build_runner(SEG_CONFIG, options(root), tmp_path / 'w', partial,
                          allow_partial=True)
    messages = Messages(runner.logger)
    assert 'aAcc' in runner.test()
    assert any('does not fit' in m and 'auxiliary_head.conv_seg.bias' in m
               for m in messages.messages)


REPVIT_CONFIG = osp.join(
    ROOT, 'configs/repvit/fpn_repvit-m0-9_8xb4-40k_ade20k-512x512.py')


@pytest.mark.parametrize('testing', [True, False])
def test_deploy_form_checkpoint(seg, tmp_path, testing):
    """A re-parameterised RepViT checkpoint: the model switches to deploy
    form at test time (logged); elsewhere one line says what to set."""
    tmp, root, _ = seg
    runner = build_runner(REPVIT_CONFIG, options(root), tmp_path / 'w')
    model = runner.model.eval()
    model.backbone.switch_to_deploy()
    deploy = str(tmp_path / 'deploy.pth')
    torch.save({'state_dict': model.state_dict()}, deploy)

    runner = build_runner(REPVIT_CONFIG, options(root), tmp_path / 'w',
                          deploy)
    if not testing:
        as_in_training(runner)
        with pytest.raises(CheckpointMismatchError,
                           match='is in deploy .re-parameterised. form, but '
                           'the model is built in training form: add '
                           '--cfg-options model.backbone.deploy=True'):
            runner.load_checkpoint(deploy)
        return
    messages = Messages(runner.logger)
    runner.load_checkpoint(deploy)
    assert runner.model.backbone.deploy
    assert any('switched backbone of the model to deploy form' in m
               for m in messages.messages)
    loaded = runner.model.state_dict()
    assert all(torch.equal(loaded[k], v)
               for k, v in model.state_dict().items())


@pytest.mark.slow
def test_test_tool_refuses_and_allows(seg, tmp_path):
    tmp, root, _ = seg
    empty = str(tmp_path / 'empty.pth')
    torch.save({'state_dict': {}}, empty)
    opts = [f'{k}={v}' for k, v in options(root).items()]
    rc, out = run_tool('tools/test.py', SEG_CONFIG, empty, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *opts)
    assert rc == 1 and 'Traceback' not in out, out
    assert f'error: checkpoint {empty} does not fit' in out
    rc, out = run_tool('tools/test.py', SEG_CONFIG, empty, '--work-dir',
                       str(tmp_path / 'w'), '--allow-partial',
                       '--cfg-options', *opts)
    assert rc == 0, failure_summary(out)
    assert 'mIoU' in out, out


# --------------------------------------------------------------- detection


@pytest.fixture
def coco(tmp_path):
    root = make_toy_coco(str(tmp_path / 'coco'), num_train=2, num_val=4,
                         size=64, seed=0)
    return root


def edit_val_json(root, change):
    ann_file = osp.join(root, 'annotations', 'instances_val2017.json')
    with open(ann_file) as f:
        data = json.load(f)
    change(data)
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    return data


def box_outside(data):
    ann = data['annotations'][0]
    ann['bbox'] = [50, 5, 40, 20]  # 26 px past the right border of 64
    return ann['image_id']


def test_broken_coco_image_is_refused_or_dropped(coco, tmp_path):
    data = {}
    edit_val_json(coco, lambda d: data.update(
        bad=box_outside(d), images={i['id']: i for i in d['images']}))
    bad_file = data['images'][data['bad']]['file_name']
    with pytest.raises(BadSampleError) as e:
        build_runner(DET_CONFIG, options(coco, True), tmp_path / 'w')
    assert f'val2017/{bad_file}: annotation' in str(e.value)
    assert 'lies outside the 64x64 image' in str(e.value)

    # a missing image file as well
    missing = next(i for i in data['images'] if i != data['bad'])
    os.remove(osp.join(coco, 'val2017', data['images'][missing]['file_name']))
    runner = build_runner(DET_CONFIG, options(coco, True), tmp_path / 'w',
                          skip=True)
    # (the random model detects nothing: CocoMetric gives no AP here; the
    # AP over the other images is test_coco_metric_leaves_dropped_images_out)
    assert runner.test()['dropped_samples'] == 2
    coco_metric = runner.test_evaluator.metrics[0]
    assert coco_metric.img_ids == sorted(set(data['images']) - {
        data['bad'], missing})


def perfect_predictions(data, labels, bad=None):
    """One prediction per image: its ground-truth boxes with score 1; the
    image ``bad`` gets one wrong box and the bad_sample mark."""
    samples = []
    for img in data['images']:
        anns = [a for a in data['annotations'] if a['image_id'] == img['id']]
        boxes = [[x, y, x + w, y + h] for x, y, w, h in
                 (a['bbox'] for a in anns)]
        classes = [labels[a['category_id']] for a in anns]
        sample = dict(img_id=img['id'],
                      ori_shape=(img['height'], img['width']))
        if img['id'] == bad:
            boxes, classes = [[0, 0, 3, 3]], classes[:1]
            sample['bad_sample'] = 'broken'
        sample['pred_instances'] = dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            scores=torch.ones(len(boxes)), labels=torch.tensor(classes))
        samples.append(sample)
    return samples


def test_coco_metric_leaves_dropped_images_out(coco):
    from mmdet.datasets import CocoDataset
    ann_file = osp.join(coco, 'annotations', 'instances_val2017.json')
    with open(ann_file) as f:
        data = json.load(f)
    labels = {c['id']: i for i, c in enumerate(data['categories'])}
    bad = data['images'][1]['id']
    results = {}
    with DefaultScope.overwrite_default_scope('mmdet'):
        for name, cls in (('plain', Evaluator),
                          ('drop', DropBadSamplesEvaluator)):
            evaluator = cls(dict(type='CocoMetric', ann_file=ann_file))
            evaluator.dataset_meta = CocoDataset.METAINFO
            evaluator.process(perfect_predictions(data, labels, bad))
            results[name] = evaluator.evaluate(len(data['images']))
    assert results['drop']['coco/bbox_mAP'] == 1.0
    assert results['drop']['dropped_samples'] == 1
    assert results['plain']['coco/bbox_mAP'] < 1.0  # the wrong box counted


@pytest.mark.parametrize('change, words', [
    (lambda d: d['annotations'][0].update(bbox=[5, 5, 0, 10]),
     'box [5, 5, 0, 10] (x, y, w, h) has no area'),
    (lambda d: d['annotations'][0].update(bbox=[-40, 5, 20, 10]),
     'lies outside the 64x64 image'),
    (lambda d: d['annotations'][0].update(category_id=999),
     "category_id 999 is not one of the file's categories"),
    (lambda d: d['images'][0].update(file_name='nowhere.jpg'),
     'nowhere.jpg: image file not found'),
])
def test_coco_annotation_problems_named_per_file(coco, tmp_path, change,
                                                 words):
    edit_val_json(coco, change)
    with pytest.raises(BadSampleError, match=r'1 image\(s\) with a missing '
                       'file or annotations mmdet would drop') as e:
        build_runner(DET_CONFIG, options(coco, True), tmp_path / 'w')
    assert words in str(e.value)
    assert "on_error='skip' on the CheckBoxes step" in str(e.value)


def test_coco_classes_must_match_the_dataset(coco, tmp_path):
    """A 3-class set without metainfo: one line saying what to set."""
    for split in ('train', 'val'):
        ann_file = osp.join(coco, 'annotations', f'instances_{split}2017.json')
        with open(ann_file) as f:
            data = json.load(f)
        data['categories'] = [dict(id=i, name=n) for i, n in
                              enumerate(('gnome', 'lamp', 'drum'), 1)]
        for ann in data['annotations']:
            ann['category_id'] = 1
        with open(ann_file, 'w') as f:
            json.dump(data, f)
    with pytest.raises(ValueError) as e:
        build_runner(DET_CONFIG, options(coco, True), tmp_path / 'w')
    assert ("none of its 3 categories ['gnome', 'lamp', 'drum'] is a class "
            'of test_dataloader.dataset (80 classes') in str(e.value)
    assert "metainfo=dict(classes=('gnome', 'lamp', 'drum'))" in str(e.value)
    assert 'num_classes=3' in str(e.value)


def test_training_skips_a_broken_coco_image(coco, tmp_path):
    """In training, on_error='skip' draws another sample."""
    ann_file = osp.join(coco, 'annotations', 'instances_train2017.json')
    with open(ann_file) as f:
        data = json.load(f)
    bad = box_outside(data)
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    args = argparse.Namespace(
        config=DET_CONFIG, launcher='none', work_dir=str(tmp_path / 'w'),
        cfg_options={**options(coco, True),
                     'train_dataloader.dataset.pipeline.2.on_error': 'skip'})
    cfg = load_config(args, ('train_dataloader', ))
    check_boxes = cfg.train_dataloader.dataset.pipeline[2]
    assert [i for i, _ in check_boxes.bad_images] == [bad]
    from mmdet.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    idx = next(i for i in range(len(dataset))
               if dataset.get_data_info(i)['img_id'] == bad)
    assert dataset[idx]['data_samples'].img_id != bad
    assert np.all([dataset[i] is not None for i in range(len(dataset))])
