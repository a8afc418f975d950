"""Bad input gets a clear message before the run: necks and heads that do
not fit the backbone (channels) or the dataset (classes), config typos (keys,
hook arguments), options that cannot work together."""
import argparse
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS as SEG_MODELS

import mmlightvit  # noqa: F401
from mmlightvit.apis.checks import (KNOWN_KEYS, ConfigError, check_hook_args,
                                    check_num_classes, check_top_level_keys,
                                    fix_dataloaders, warn_untrained_backbone)
from mmlightvit.apis.cli import enable_amp, load_config
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import make_toy_ade20k
from mmlightvit.models.checks import ChannelMismatchError, check_channels
from helpers import ROOT, run_tool

CONFIG = osp.join(ROOT, 'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')


def build(**model_changes):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(model_changes)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_MODELS.build(sync_bn_to_bn(cfg.model))


def test_matching_channels_pass():
    check_channels(build())


@pytest.mark.parametrize('change, message', [
    ({'model.decode_head.in_channels': 100},
     'decode_head.in_channels is 100, but level 3 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 168 channels'),
    ({'model.auxiliary_head.in_channels': 64},
     'auxiliary_head.in_channels is 64, but level 2 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 80 channels'),
    ({'model.backbone.arch': '5M'},
     'decode_head.in_channels is 168, but level 3 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 288 channels'),
    ({'model.backbone.out_indices': (1, 2, 3)},
     'decode_head takes level 3 (in_index), but the EMO backbone outputs '
     '(out_indices (1, 2, 3)) has only 3 levels'),
])
def test_mismatch_names_module_level_and_numbers(change, message):
    with pytest.raises(ChannelMismatchError) as e:
        check_channels(build(**change))
    assert message in str(e.value)


def test_train_tool_stops_with_the_message(tmp_path):
    root = make_toy_ade20k(str(tmp_path / 'toy'), num_train=2, num_val=1,
                           size=32, seed=0)
    opts = [f'{s}_dataloader.dataset.data_root={root}' for s in ('train', 'val')]
    rc, out = run_tool('tools/train.py', CONFIG, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *opts,
                       'model.decode_head.in_channels=100')
    assert rc == 1
    assert 'error: decode_head.in_channels is 100, but level 3' in out
    assert 'Traceback' not in out


# ------------------------------------------- channels: SSDLite neck, cls head

SSDLITE = osp.join(ROOT, 'configs/mobilevit/ssdlite_mobilevit-xxs_8xb24-120e_'
                   'coco-320x320.py')
CLS = osp.join(ROOT, 'configs/mobilevit/mobilevit-xxs_8xb128_in1k.py')
EX_CLS = osp.join(ROOT, 'configs/exmobilevit/exmobilevit-576_8xb128_in1k.py')


def build_from(config, scope, **changes):
    from mmengine.registry import MODELS
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(changes)
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(sync_bn_to_bn(cfg.model))


@pytest.mark.parametrize('config, scope', [
    (SSDLITE, 'mmdet'), (CLS, 'mmpretrain'), (EX_CLS, 'mmpretrain')])
def test_matching_channels_pass_for_ssdlite_and_classifiers(config, scope):
    check_channels(build_from(config, scope))


@pytest.mark.parametrize('config, scope, change, message', [
    (SSDLITE, 'mmdet', {'model.backbone.arch': 's'},
     'neck.in_channels[-1] (the input of its first extra layer) is 80, but '
     'level 1 of the MobileViT backbone outputs (out_indices (3, 4)) has '
     '160 channels'),
    (SSDLITE, 'mmdet',
     {'model.bbox_head.in_channels': (64, 80, 512, 256, 256, 64)},
     'bbox_head.in_channels[5] is 64, but level 5 of the SSDNeck neck '
     'outputs has 128 channels'),
    (CLS, 'mmpretrain', {'model.head.in_channels': 640},
     'head.in_channels is 640, but level 0 of the MobileViT backbone '
     'outputs (out_indices (4,)) has 320 channels'),
    (EX_CLS, 'mmpretrain', {'model.backbone.out_indices': (3, 4)},
     'head.in_channels has 3 entries, but it takes 2 levels of the '
     'ExMobileViT backbone outputs (out_indices (3, 4))'),
    (EX_CLS, 'mmpretrain', {'model.backbone.arch': '928'},
     'head.in_channels[2] is 480, but level 2 of the ExMobileViT backbone '
     'outputs (out_indices (2, 3, 4)) has 640 channels'),
])
def test_ssdlite_neck_and_cls_head_mismatch(config, scope, change, message):
    with pytest.raises(ChannelMismatchError) as e:
        check_channels(build_from(config, scope, **change))
    assert message in str(e.value)


# ------------------------------------------------------------ config checks

TOY = osp.join(ROOT, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-'
               '128x128.py')


def toy_cfg(**changes):
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict(changes)
    return cfg


def test_top_level_typo_is_reported_with_the_closest_key(log_messages):
    cfg = toy_cfg(trian_cfg=dict(max_iters=2), my_crop=(64, 64),
                  val_pipeline=[], train_pipeline_stage2=[])
    assert check_top_level_keys(cfg) == [('trian_cfg', 'train_cfg')]
    assert "config key 'trian_cfg' is not read by anything: did you mean " \
        "'train_cfg'?" in log_messages


@pytest.mark.parametrize('rel', [
    'emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py',
    'repvit/fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py',
    'mobilevit/pspnet_mobilevit-s_8xb4-80k_ade20k-512x512.py',
    'emo/retinanet_emo-1m_fpn_8xb4-1x_coco.py',
    'mobilevit/ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py',
    'exmobilevit/exmobilevit-576_8xb128_in1k.py',
    'repvit/repvit-m1-1_8xb256_in1k.py',
    'repvit/rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py',
])
def test_project_configs_pass_the_config_checks(rel):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    assert check_top_level_keys(cfg) == []
    check_hook_args(cfg)
    check_num_classes(cfg, ('train_dataloader', 'val_dataloader',
                            'test_dataloader'))
    assert 'trian_cfg' not in KNOWN_KEYS


@pytest.mark.parametrize('change, message', [
    ({'default_hooks.checkpoint.intreval': 5},
     "default_hooks.checkpoint: CheckpointHook has no argument 'intreval'; "
     "did you mean 'interval'?"),
    ({'default_hooks.logger.intervall': 5},
     "default_hooks.logger: LoggerHook has no argument 'intervall'; did you "
     "mean 'interval'?"),
    ({'custom_hooks': [dict(type='RandomStateHook', seed=1)]},
     "custom_hooks[0]: RandomStateHook has no argument 'seed'; it takes"),
])
def test_unknown_hook_argument_is_an_error(change, message):
    with pytest.raises(ConfigError) as e:
        check_hook_args(toy_cfg(**change))
    assert message in str(e.value)


def test_hook_kwargs_passed_on_are_accepted():
    # CheckpointHook passes unknown arguments on to the file backend
    check_hook_args(toy_cfg(**{'default_hooks.checkpoint.bucket': 'b'}))


def seg_options(root, **more):
    opts = {f'{s}_dataloader.{k}': v for s in ('train', 'val', 'test')
            for k, v in (('dataset.data_root', root), ('num_workers', 0),
                         ('persistent_workers', False))}
    return dict(opts, **more)


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return make_toy_ade20k(str(tmp_path_factory.mktemp('ade')), num_train=2,
                           num_val=1, size=32, seed=0)


def args_for(config, opts, **kw):
    return argparse.Namespace(config=config, cfg_options=opts,
                              launcher='none', work_dir=None, **kw)


def test_heads_num_classes_against_the_dataset(toy_root):
    five = ('a', 'b', 'c', 'd', 'e')
    opts = seg_options(toy_root, **{
        f'{s}_dataloader.dataset.metainfo': dict(classes=five)
        for s in ('train', 'val', 'test')})
    with pytest.raises(ConfigError) as e:
        load_config(args_for(TOY, opts), ('train_dataloader', ))
    assert str(e.value) == (
        'model.decode_head.num_classes is 150, but train_dataloader.dataset '
        'has 5 classes (a, b, c, d, e): set '
        'model.decode_head.num_classes=5 (or the dataset\'s '
        'metainfo.classes)')
    opts.update({'model.decode_head.num_classes': 5,
                 'model.auxiliary_head.num_classes': 5})
    cfg = load_config(args_for(TOY, opts), ('train_dataloader',
                                            'val_dataloader'))
    # CheckSegLabels checks the labels against the dataset's 5 classes
    for loader in ('train_dataloader', 'val_dataloader'):
        step = cfg[loader].dataset.pipeline[2 if loader[0] == 't' else 3]
        assert step.type == 'CheckSegLabels' and step.num_classes == 5


@pytest.mark.parametrize('config, head', [
    (SSDLITE, 'bbox_head'), (CLS, 'head'),
    (osp.join(ROOT, 'configs/emo/retinanet_emo-1m_fpn_8xb4-1x_coco.py'),
     'bbox_head')])
def test_det_and_cls_heads_num_classes(config, head):
    cfg = Config.fromfile(config)
    cfg.model[head].num_classes = 7
    with pytest.raises(ConfigError, match=f'model.{head}.num_classes is 7, '
                       r'but train_dataloader.dataset(.dataset)? has '
                       r'(80|1000) classes'):
        check_num_classes(cfg, ('train_dataloader', ))


def test_persistent_workers_without_workers(log_messages):
    cfg = toy_cfg(**{'train_dataloader.num_workers': 0,
                     'train_dataloader.persistent_workers': True})
    fix_dataloaders(cfg)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True  # 1 worker there
    assert any('train_dataloader: persistent_workers=True needs worker '
               'processes' in m for m in log_messages)


def test_frozen_parts_of_a_random_backbone_are_warned(log_messages):
    cfg = toy_cfg(**{'model.backbone.norm_eval': True,
                     'model.backbone.frozen_stages': 1})
    assert warn_untrained_backbone(cfg)
    assert any('model.backbone starts from random weights' in m and
               'norm_eval=True' in m and 'frozen_stages=1' in m
               for m in log_messages)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint='x.pth')
    assert not warn_untrained_backbone(cfg)
    assert not warn_untrained_backbone(toy_cfg())


def test_amp_without_cuda_is_one_line(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr('mmlightvit.apis.cli.cpu_bf16_support',
                        lambda: (False, 'this CPU has no bf16'))
    with pytest.raises(ConfigError, match='--amp needs a CUDA GPU'):
        enable_amp(toy_cfg())


def test_train_tool_stops_on_a_hook_typo(tmp_path, toy_root):
    opts = [f'{k}={v}' for k, v in seg_options(toy_root).items()]
    rc, out = run_tool('tools/train.py', TOY, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *opts,
                       'default_hooks.checkpoint.intreval=5')
    assert rc == 1
    assert out.strip().splitlines()[-1] == (
        "error: default_hooks.checkpoint: CheckpointHook has no argument "
        "'intreval'; did you mean 'interval'?")
    assert 'Traceback' not in out
