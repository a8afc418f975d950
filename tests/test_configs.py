"""Every config under configs/ loads and builds its (real) model on CPU."""
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlightvit  # noqa: F401  (registers EMO in mmengine's root MODELS)
from mmlightvit.compat import sync_bn_to_bn

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO, 'configs')
ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
MODEL_CONFIGS = [
    p for p in ALL_CONFIGS
    if 'model' in Config.fromfile(osp.join(CONFIG_DIR, p),
                                  import_custom_modules=False)
]
TOY_CONFIG = 'emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'

# EMO README (ADE20K, "#Params"), in millions.
README_PARAMS = {
    'emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py': 5.6,
    'emo/deeplabv3_emo-2m_8xb4-80k_ade20k-512x512.py': 6.9,
    'emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py': 10.3,
    'emo/pspnet_emo-1m_8xb4-80k_ade20k-512x512.py': 4.3,
    'emo/pspnet_emo-2m_8xb4-80k_ade20k-512x512.py': 5.5,
    'emo/pspnet_emo-5m_8xb4-80k_ade20k-512x512.py': 8.5,
}


def load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


@functools.lru_cache(maxsize=None)  # each config's model is built once
def build_model(rel):
    from mmseg.registry import MODELS
    cfg = load(rel)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return MODELS.build(sync_bn_to_bn(cfg.model))


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_configs_found():
    assert TOY_CONFIG in ALL_CONFIGS
    assert set(README_PARAMS) <= set(MODEL_CONFIGS)


@pytest.mark.parametrize('rel', ALL_CONFIGS)
def test_config_loads(rel):
    cfg = load(rel)
    if not rel.startswith('_base_'):
        assert cfg.default_scope == 'mmseg'
        assert 'mmlightvit' in cfg.custom_imports.imports
        for key in ('model', 'train_dataloader', 'val_dataloader',
                    'optim_wrapper', 'train_cfg'):
            assert key in cfg, f'{rel} has no {key}'


@pytest.mark.parametrize('rel', MODEL_CONFIGS)
def test_config_builds_model(rel):
    from mmseg.models import EncoderDecoder
    model = build_model(rel).eval()
    assert isinstance(model, EncoderDecoder)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in model.modules())
    assert model.decode_head.num_classes == 150
    # One small forward: the heads' in_channels match the backbone's widths
    # and the decode head sees the stride-32 features.
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 150, 2, 2)


@pytest.mark.parametrize('rel', sorted(README_PARAMS))
def test_param_count_matches_emo_readme(rel):
    measured = num_params(build_model(rel)) / 1e6
    expected = README_PARAMS[rel]
    assert abs(measured - expected) / expected <= 0.03, (
        f'{rel}: {measured:.3f}M parameters, EMO README says {expected}M')


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
    assert 'init_cfg' not in backbone  # no pretrained weights by default
    assert (cfg.model.auxiliary_head.in_channels,
            cfg.model.decode_head.in_channels) == in_channels
    assert cfg.model.data_preprocessor.size == (512, 512)
    assert cfg.train_dataloader.batch_size == 4
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(type='AdamW', lr=1.2e-4, betas=(0.9, 0.999),
                                 weight_decay=0.01)
    assert opt.paramwise_cfg.custom_keys == {'norm': dict(decay_mult=0.)}
    assert cfg.param_scheduler[0].type == 'PolyLR'
    assert cfg.param_scheduler[0].eta_min == 0
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_cfg.val_interval == 8000
    assert cfg.default_hooks.checkpoint.interval == 8000


def test_headline_config_is_deeplabv3_emo_5m():
    headline = load('emo/deeplabv3_emo_ade20k.py')
    five_m = load('emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py')
    assert headline.to_dict() == five_m.to_dict()


def test_pretrained_cfg_option_from_config_comment():
    # The configs' first comment says how to start from ImageNet weights.
    cfg = load('emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py')
    cfg.merge_from_dict({
        'model.backbone.init_cfg.type': 'Pretrained',
        'model.backbone.init_cfg.checkpoint': 'checkpoints/EMO_5M/net.pth',
    })
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/EMO_5M/net.pth')


def test_toy_config_is_the_real_model_on_toy_data():
    toy = load(TOY_CONFIG)
    real = load('emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')
    toy_model, real_model = toy.model.to_dict(), real.model.to_dict()
    assert toy_model['data_preprocessor'].pop('size') == (128, 128)
    real_model['data_preprocessor'].pop('size')
    assert toy_model == real_model
    assert toy.train_dataloader.dataset.type == 'ADE20KDataset'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert toy[loader].dataset.data_root == (
            'data/toy/ade/ADEChallengeData2016')
    assert toy.train_dataloader.batch_size == 8
    assert toy.train_cfg.max_iters == 300
    assert toy.train_cfg.val_interval == toy.train_cfg.max_iters
    assert toy.default_hooks.checkpoint.interval == 100
