"""Every config under configs/ loads; every leaf config (whatever its scope:
mmseg, mmdet or mmpretrain) builds its real model, which takes one training
step (finite loss, gradients down to the backbone's first parameters) and one
inference step on a tiny CPU batch. Plus the recipes of the segmentation
configs: EMO's (DeepLabv3/PSPNet, 80k) and RepViT's (Semantic FPN, 40k)."""
import copy
import functools
import glob
import importlib
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

import mmlightvit  # noqa: F401  (registers the backbones in mmengine's MODELS)
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.apis.cli import SCOPES
from helpers import num_params  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO, 'configs')
ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
LEAF_CONFIGS = [p for p in ALL_CONFIGS if not p.startswith('_base_')]
TOY_CONFIG = 'emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'
HEADLINE_CONFIG = 'emo/deeplabv3_emo_ade20k.py'

# EMO README (ADE20K, "#Params"), in millions.
README_PARAMS = {
    'emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py': 5.6,
    'emo/deeplabv3_emo-2m_8xb4-80k_ade20k-512x512.py': 6.9,
    'emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py': 10.3,
    'emo/pspnet_emo-1m_8xb4-80k_ade20k-512x512.py': 4.3,
    'emo/pspnet_emo-2m_8xb4-80k_ade20k-512x512.py': 5.5,
    'emo/pspnet_emo-5m_8xb4-80k_ade20k-512x512.py': 8.5,
}

# Input size (H, W) of the one-step test per scope.
INPUT_SIZE = {'mmseg': (64, 64), 'mmdet': (64, 64), 'mmpretrain': (64, 64)}
BATCH = 2  # BN layers on 1x1 maps (ASPP image pooling) need 2 samples

# The segmentation configs: {algorithm}_{backbone}_{gpus}xb{batch}-{schedule}_
# {dataset}-{H}x{W}.py, mmseg's naming.
SEG_NAME = re.compile(r'^(?P<algo>[a-z0-9]+)_(?P<backbone>[a-z0-9.\-]+)_'
                      r'(?P<gpus>\d+)xb(?P<batch>\d+)-(?P<iters>\d+)'
                      r'(?P<unit>k|iter)_(?P<data>[a-z0-9\-]+)-'
                      r'(?P<h>\d+)x(?P<w>\d+)\.py$')
SEG_HEADS = {'deeplabv3': 'ASPPHead', 'pspnet': 'PSPHead', 'fpn': 'FPNHead'}
SEG_BACKBONES = {'emo': 'EMO', 'repvit': 'RepViT',
                 'mobilevit': 'MobileViTBackbone',
                 'exmobilevit': 'ExMobileViT'}
SEG_CONFIGS = [
    p for p in LEAF_CONFIGS
    if p.split('/')[0] in SEG_BACKBONES and 'ade20k' in p
    and SEG_NAME.match(osp.basename(p))
]


pytestmark = pytest.mark.usefixtures('single_thread')


@functools.lru_cache(maxsize=None)
def _load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


def load(rel):
    return copy.deepcopy(_load(rel))


def build_model(cfg):
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    models = importlib.import_module(f'{scope}.registry').MODELS
    model = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        # as mmengine's Runner (mmpretrain configs keep it at the top level)
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return models.build(sync_bn_to_bn(model))


# -- fake batches -------------------------------------------------------------
def _images(size, gen):
    return [torch.randint(0, 256, (3, *size), dtype=torch.uint8, generator=gen)
            for _ in range(BATCH)]


def _num_classes(model, *heads):
    for path in heads:
        module = model
        for name in path.split('.'):
            module = getattr(module, name, None)
        if isinstance(getattr(module, 'num_classes', None), int):
            return module.num_classes
    return 1


def fake_batch(scope, model, size, seed=0):
    """``dict(inputs, data_samples)`` as a dataloader gives it, with fake
    labels: a segmentation map (some pixels ignored), two boxes per image
    (with masks for mask heads), or a class label."""
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    meta = dict(img_shape=size, ori_shape=size, scale_factor=(1., 1.))
    samples = []
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample
        num_classes = model.decode_head.num_classes
        for _ in range(BATCH):
            seg = torch.randint(0, num_classes, (1, h, w), generator=gen)
            seg[:, :h // 8] = 255  # ignore_index
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=seg)
            samples.append(sample)
    elif scope == 'mmdet':
        from mmdet.structures import DetDataSample
        from mmdet.structures.mask import BitmapMasks
        num_classes = _num_classes(model, 'bbox_head', 'roi_head.bbox_head')
        roi_head = getattr(model, 'roi_head', None)
        with_mask = bool(getattr(roi_head, 'with_mask', False))
        for _ in range(BATCH):
            boxes = torch.tensor([[0.1 * w, 0.1 * h, 0.6 * w, 0.7 * h],
                                  [0.4 * w, 0.3 * h, 0.9 * w, 0.9 * h]])
            gt = InstanceData(
                bboxes=boxes,
                labels=torch.randint(0, num_classes, (2, ), generator=gen))
            if with_mask:
                masks = np.zeros((2, h, w), dtype=np.uint8)
                for mask, (x1, y1, x2, y2) in zip(masks, boxes.int().tolist()):
                    mask[y1:y2, x1:x2] = 1
                gt.masks = BitmapMasks(masks, h, w)
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = gt
            samples.append(sample)
    elif scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        num_classes = _num_classes(model, 'head')
        for _ in range(BATCH):
            label = int(torch.randint(0, num_classes, (1, ), generator=gen))
            samples.append(DataSample(metainfo=meta).set_gt_label(label))
    else:
        raise AssertionError(f'unknown scope {scope}')
    return dict(inputs=_images(size, gen), data_samples=samples)


def shrink_inputs(cfg, scope, size):
    """Let the tiny batch through as it is: segmentation preprocessors pad
    every training image to the crop size (512x512) otherwise."""
    preprocessor = cfg.model.get('data_preprocessor')
    if scope == 'mmseg' and preprocessor and preprocessor.get('size'):
        preprocessor.size = size


# -- the one-step test of every config ----------------------------------------
@pytest.mark.parametrize('rel', ALL_CONFIGS)
def test_config(rel, tmp_path):
    cfg = load(rel)
    if rel.startswith('_base_') or '/_base_/' in rel:
        return  # partial configs: loading is all they can do alone
    if cfg.model.type == 'SamEncoderDistiller':
        check_sam_distill_step(cfg)
        return
    if cfg.model.get('teacher'):
        # distillation recipes: a tiny random timm teacher stands in for the
        # one they name by URL (tests do not download)
        import timm
        path = str(tmp_path / 'teacher.pth')
        torch.save(timm.create_model('regnety_002').state_dict(), path)
        cfg.model.teacher.update(model='regnety_002', checkpoint=path)
    check_one_step(cfg)


def check_sam_distill_step(cfg):
    """A SAM distillation config: the student builds (offline) and takes one
    MSE step against a teacher embedding of its output's shape (stride 16,
    256 channels) on a tiny input."""
    import mmlightvit.sam  # noqa: F401  (the config's custom import)
    cfg.model.encoder.trunk.init_cfg = None
    model = build_model(cfg)
    inputs = torch.randn(1, 3, 64, 64)
    assert model(inputs).shape == (1, 256, 4, 4)
    losses = model(inputs, torch.randn(1, 256, 4, 4), mode='loss')
    losses['loss_mse'].backward()
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)


def check_one_step(cfg):
    """A leaf config: its model builds and takes one training and one
    inference step on a tiny fake batch."""
    scope = cfg.get('default_scope')
    assert scope in SCOPES, f'default_scope {scope!r} is not one of {SCOPES}'
    assert 'mmlightvit' in cfg.custom_imports.imports
    for key in ('model', 'train_dataloader', 'val_dataloader',
                'optim_wrapper', 'train_cfg'):
        assert key in cfg, f'the config has no {key}'

    size = INPUT_SIZE[scope]
    shrink_inputs(cfg, scope, size)
    torch.manual_seed(0)
    model = build_model(cfg)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in model.modules())
    if scope == 'mmseg':
        # ADE20K's 150 classes; PASCAL VOC's 21 (MobileViT's own recipe);
        # a folder dataset: the number its config declares for its class list
        voc = 'PascalVOC' in str(cfg.get('dataset_type'))
        expected = cfg.get('num_classes', 21 if voc else 150)
        assert model.decode_head.num_classes == expected

    # one training step (as in a Runner's first iteration: batch augments
    # such as YOLOX's BatchSyncRandomResize read the iteration)
    MessageHub.get_current_instance().update_info('iter', 0)
    model.train()
    data = model.data_preprocessor(fake_batch(scope, model, size), True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), f'loss {loss}: {losses}'
    loss.backward()
    trainable = [(n, p) for n, p in model.backbone.named_parameters()
                 if p.requires_grad]
    assert trainable, 'the backbone has no trainable parameters'
    name, first = trainable[0]
    assert first.grad is not None and first.grad.abs().sum() > 0, (
        f'no gradient reaches backbone.{name}')
    no_grad = [n for n, p in trainable if p.grad is None]
    assert not no_grad, f'backbone parameters without gradient: {no_grad}'
    for n, p in model.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), n
    if scope == 'mmseg':  # DDP needs every parameter used
        unused = [n for n, p in model.named_parameters()
                  if p.requires_grad and p.grad is None]
        assert not unused, f'parameters without gradient: {unused}'

    # one inference step
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            fake_batch(scope, model, size, seed=1), False)
        results = model(**data, mode='predict')
    assert len(results) == BATCH
    for result in results:
        if scope == 'mmseg':
            assert result.pred_sem_seg.data.shape == (1, *size)
        elif scope == 'mmdet':
            assert result.pred_instances.bboxes.shape[-1] == 4
            assert len(result.pred_instances.scores) == len(
                result.pred_instances.bboxes)
        else:
            assert result.pred_score.shape == (_num_classes(model, 'head'), )
            assert torch.isfinite(result.pred_score).all()


# -- segmentation recipes -----------------------------------------------------
def test_configs_found():
    assert TOY_CONFIG in ALL_CONFIGS and HEADLINE_CONFIG in ALL_CONFIGS
    assert set(README_PARAMS) <= set(SEG_CONFIGS)
    # every family x head x arch of the segmentation configs
    archs = {'emo': ('1m', '2m', '5m', '6m'),
             'repvit': ('m0-9', 'm1-0', 'm1-1', 'm1-5', 'm2-3'),
             'mobilevit': ('xxs', 'xs', 's'),
             'exmobilevit': ('576', '640', '928')}
    for family, arches in archs.items():
        for head in SEG_HEADS:
            iters = '40k' if head == 'fpn' else '80k'
            for arch in arches:
                rel = (f'{family}/{head}_{family}-{arch}_8xb4-{iters}_'
                       'ade20k-512x512.py')
                assert rel in SEG_CONFIGS, rel


@pytest.mark.parametrize('rel', sorted(README_PARAMS))
def test_param_count_matches_emo_readme(rel):
    measured = num_params(build_model(load(rel))) / 1e6
    expected = README_PARAMS[rel]
    assert abs(measured - expected) / expected <= 0.03, (
        f'{rel}: {measured:.3f}M parameters, EMO README says {expected}M')


def _first_line(rel):
    with open(osp.join(CONFIG_DIR, rel)) as f:
        return f.readline()


@pytest.mark.parametrize('rel', SEG_CONFIGS)
def test_seg_config_matches_its_name(rel):
    """gpus x batch, schedule, crop, head and backbone are what the name
    says, and --auto-scale-lr has the recipe's total batch to scale from."""
    cfg = load(rel)
    name = SEG_NAME.match(osp.basename(rel)).groupdict()
    family = rel.split('/')[0]
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.decode_head.type == SEG_HEADS[name['algo']]
    assert name['backbone'].split('-')[0] == family
    assert model.backbone.type == SEG_BACKBONES[family]
    if name['algo'] == 'fpn':
        assert model.neck.type == 'FPN' and 'auxiliary_head' not in model
    else:
        assert model.auxiliary_head.type == 'FCNHead'
    batch = int(name['batch'])
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr.base_batch_size == int(name['gpus']) * batch
    iters = int(name['iters']) * (1000 if name['unit'] == 'k' else 1)
    assert cfg.train_cfg.type == 'ResumableIterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == iters
    assert cfg.param_scheduler[-1].end == iters
    assert cfg.train_dataloader.sampler.type == 'ResumableInfiniteSampler'
    crop = (int(name['h']), int(name['w']))
    assert model.data_preprocessor.size == crop
    assert cfg.crop_size == crop
    assert model.decode_head.num_classes == 150
    if rel != TOY_CONFIG:
        assert name['data'] == 'ade20k' and crop == (512, 512)
        assert cfg.train_dataloader.dataset.data_root == (
            'data/ade/ADEChallengeData2016')
        # the authors' ImageNet-1k weights by default
        assert model.backbone.init_cfg.type == 'Pretrained'
    if family != 'emo' or name['algo'] == 'fpn':  # the new configs
        assert _first_line(rel).startswith('# Recipe: ')


@pytest.mark.parametrize('head', ['deeplabv3', 'pspnet'])
@pytest.mark.parametrize('arch,window,drop_path,in_channels', [
    ('1m', 7, 0.04036, (80, 168)),
    ('2m', 7, 0.05, (120, 200)),
    ('5m', 16, 0.05, (160, 288)),
    ('6m', 16, 0.05, (160, 320)),
])
def test_emo_recipe(head, arch, window, drop_path, in_channels):
    cfg = load(f'emo/{head}_emo-{arch}_8xb4-80k_ade20k-512x512.py')
    backbone = cfg.model.backbone
    assert backbone.type == 'EMO' and backbone.arch == arch.upper()
    assert backbone.window_size == window
    assert backbone.drop_path_rate == drop_path
    assert backbone.out_indices == (1, 2, 3, 4)
    assert backbone.norm_cfg == dict(type='SyncBN', eps=1e-6)
    assert backbone.init_cfg == dict(  # the authors' ImageNet-1k weights
        type='Pretrained', checkpoint='https://github.com/zhangzjn/EMO/raw/'
        'main/resources/EMO_{arch}/net.pth')
    assert (cfg.model.auxiliary_head.in_channels,
            cfg.model.decode_head.in_channels) == in_channels
    assert cfg.model.data_preprocessor.size == (512, 512)
    assert cfg.train_dataloader.batch_size == 4
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(type='AdamW', lr=1.2e-4, betas=(0.9, 0.999),
                                 weight_decay=0.01)
    # EMO's name-matched exemption (tests/test_recipes.py checks its effect)
    assert opt.paramwise_cfg == dict(custom_keys={
        'norm': dict(decay_mult=0.), 'conv_local.bn': dict(decay_mult=0.)})
    assert cfg.param_scheduler[0].type == 'PolyLR'
    assert cfg.param_scheduler[0].eta_min == 0
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_cfg.val_interval == 8000
    assert cfg.default_hooks.checkpoint.interval == 8000
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=32)


def _seg_configs(algo, family=None):
    return [p for p in SEG_CONFIGS if osp.basename(p).startswith(algo + '_')
            and (family is None or p.startswith(family + '/'))]


@pytest.mark.parametrize('rel', _seg_configs('fpn'))
def test_semantic_fpn_recipe(rel):
    """RepViT's official ADE20K Semantic FPN (THU-MIG/RepViT segmentation/,
    on mmseg's fpn_r50), for every family."""
    cfg = load(rel)
    model = cfg.model
    assert model.neck == dict(type='FPN', in_channels=model.neck.in_channels,
                              out_channels=256, num_outs=4)
    head = model.decode_head
    assert head.in_channels == [256] * 4 and head.in_index == [0, 1, 2, 3]
    assert head.feature_strides == [4, 8, 16, 32] and head.channels == 128
    assert head.dropout_ratio == 0.1 and head.norm_cfg.type == 'SyncBN'
    assert cfg.train_dataloader.batch_size == 4
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                                 weight_decay=1e-4)
    assert 'paramwise_cfg' not in opt  # the recipe decays norms too
    assert len(cfg.param_scheduler) == 1
    assert cfg.param_scheduler[0] == dict(
        type='PolyLR', eta_min=1e-6, power=0.9, begin=0, end=40000,
        by_epoch=False)
    assert cfg.train_cfg.max_iters == 40000
    assert cfg.train_cfg.val_interval == 4000
    assert cfg.default_hooks.checkpoint.interval == 4000
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=32)
    # RepViT's official backbone keeps BN statistics frozen; the other
    # families train BN as in their own dense recipes.
    assert model.backbone.norm_eval == rel.startswith('repvit/')


@pytest.mark.parametrize('rel', [
    p for p in _seg_configs('deeplabv3') + _seg_configs('pspnet')
    if p != TOY_CONFIG
])
def test_deeplabv3_pspnet_follow_emo_recipe(rel):
    """DeepLabv3/PSPNet of every family: EMO's heads and schedule."""
    cfg = load(rel)
    algo = osp.basename(rel).split('_')[0]
    emo = load(f'emo/{algo}_emo-5m_8xb4-80k_ade20k-512x512.py')
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'default_hooks', 'auto_scale_lr', 'train_dataloader'):
        assert cfg[key] == emo[key], key
    for head in ('decode_head', 'auxiliary_head'):
        ours, theirs = cfg.model[head].copy(), emo.model[head].copy()
        ours.pop('in_channels'), theirs.pop('in_channels')
        assert ours == theirs, head
    assert cfg.model.decode_head.in_index == 3
    assert cfg.model.auxiliary_head.in_index == 2


def test_exmobilevit_uses_its_exshortcuts():
    """Without ex_context the dense ExMobileViT is MobileViT-S itself."""
    for rel in SEG_CONFIGS:
        if rel.startswith('exmobilevit/'):
            backbone = load(rel).model.backbone
            assert backbone.ex_context is True
            assert backbone.out_indices == (1, 2, 3, 4)


@pytest.mark.parametrize('rel', [
    'repvit/fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py',
    'mobilevit/deeplabv3_mobilevit-s_8xb4-80k_ade20k-512x512.py',
    'exmobilevit/fpn_exmobilevit-576_8xb4-40k_ade20k-512x512.py',
])
def test_head_inputs_match_backbone(rel):
    """in_channels of the neck / heads are the backbone's out_channels."""
    model = build_model(load(rel))
    widths = [model.backbone.out_channels[i]
              for i in model.backbone.out_indices]
    if model.with_neck:
        assert model.neck.in_channels == widths
    else:
        assert model.decode_head.in_channels == widths[3]
        assert model.auxiliary_head.in_channels == widths[2]


def test_headline_config_is_deeplabv3_emo_5m():
    headline = load(HEADLINE_CONFIG)
    five_m = load('emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py')
    assert headline.to_dict() == five_m.to_dict()


def test_pretrained_cfg_option_from_config_comment():
    # The configs' first comment says how to pass a local copy of the
    # ImageNet weights, and how to train from scratch.
    cfg = load('emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py')
    cfg.merge_from_dict({
        'model.backbone.init_cfg.checkpoint': 'checkpoints/EMO_5M/net.pth',
    })
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/EMO_5M/net.pth')
    cfg.merge_from_dict({'model.backbone.init_cfg': None})
    assert cfg.model.backbone.init_cfg is None


def test_toy_config_is_the_real_model_on_toy_data():
    toy = load(TOY_CONFIG)
    real = load('emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')
    toy_model, real_model = toy.model.to_dict(), real.model.to_dict()
    assert toy_model['data_preprocessor'].pop('size') == (128, 128)
    real_model['data_preprocessor'].pop('size')
    assert toy_model['backbone'].pop('init_cfg') is None  # from scratch
    assert real_model['backbone'].pop('init_cfg')['type'] == 'Pretrained'
    assert toy_model == real_model
    assert toy.train_dataloader.dataset.type == 'ADE20KDataset'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert toy[loader].dataset.data_root == (
            'data/toy/ade/ADEChallengeData2016')
    assert toy.train_dataloader.batch_size == 8
    assert toy.train_cfg.max_iters == 300
    assert toy.train_cfg.val_interval == toy.train_cfg.max_iters
    assert toy.default_hooks.checkpoint.interval == 100
