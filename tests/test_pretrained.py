"""Pretrained by default: every dense config (ADE20K, COCO, VOC) of EMO,
RepViT, MobileViT and ExMobileViT starts its backbone from the authors'
ImageNet-1k checkpoint by its public URL, through torch hub's cache. Offline:
files in the official layouts (synthetic weights) are placed in a temporary
hub cache under the names the URLs give; EMO's published git blob SHA-1 is
checked; without the file, training stops with one line."""
import os
import os.path as osp
import socket
import subprocess
import types

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit import compat
from mmlightvit.apis.model_zoo import backbone_name, load_model_index
from mmlightvit.compat import (CheckpointError, git_blob_sha1,
                               hub_cache_path, load_checkpoint_file,
                               sync_bn_to_bn)
from mmlightvit.datasets.toy import make_toy_ade20k
from mmlightvit.models.backbones.base import BaseBackbone
from mmlightvit.models.backbones.emo import convert_official_emo
from mmlightvit.models.backbones.mobilevit import convert_mobilevit
from mmlightvit.models.backbones.repvit import convert_repvit
from helpers import ROOT, failure_summary, run_tool
from official_data import (assert_close_relative, cases, official_input,
                           official_outputs, official_state_dict)
from test_checkpoints import no_proxy, serve  # noqa: F401  (a fixture)
from test_mobilevit import randomised_timm, timm_levels, to_cvnets_layout
from test_repvit import official_state_dict as repvit_official
from test_repvit import assert_features_match, timm_reference

pytestmark = pytest.mark.usefixtures('single_thread')

CONFIG_DIR = osp.join(ROOT, 'configs')
FAMILIES = ('emo', 'repvit', 'mobilevit', 'exmobilevit')
DENSE_CONFIGS = sorted(
    f'{family}/{name}' for family in FAMILIES
    for name in os.listdir(osp.join(CONFIG_DIR, family))
    if name.endswith('.py') and 'toy' not in name
    and any(d in name for d in ('ade20k', 'coco', 'voc')))
TOY_CONFIGS = sorted(
    f'{family}/{name}' for family in FAMILIES
    for name in os.listdir(osp.join(CONFIG_DIR, family)) if 'toy' in name)
# REFERENCE.md: the official downstream configs start RepViT-M2.3 from the
# 450-epoch file (the zoo's ImageNet row is the 300-epoch one)
DOWNSTREAM_FILE = {'RepViT-M2.3': ('_distill_300e.pth', '_distill_450e.pth')}
EMO_1M = compat.EMO_URL.format('1M')


def load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


def resolved_checkpoint(backbone_cfg):
    """The checkpoint the backbone of ``backbone_cfg`` would load (its
    ``{arch}`` filled in), without building it."""
    arch = MODELS.get(backbone_cfg.type).resolve_arch(backbone_cfg.arch)
    backbone = types.SimpleNamespace(init_cfg=backbone_cfg.init_cfg,
                                     arch=arch)
    return BaseBackbone.pretrained_checkpoint.fget(backbone)


def imagenet_weights(name):
    """The ``Weights`` URL of the zoo's ImageNet-1k model ``name`` (one row
    of the backbone carries them; a recipe variant may list none)."""
    url, = {e['weights'] for e in load_model_index()
            if e['task'] == 'cls' and e['backbone'] == name and e['weights']}
    return url


@pytest.mark.parametrize('rel', DENSE_CONFIGS)
def test_dense_config_starts_from_the_authors_imagenet_weights(rel):
    """The URL a dense config loads is the one the zoo's metafile gives for
    the ImageNet-1k model of the same arch (ExMobileViT: MobileViT-S's, no
    ExMobileViT weights are published)."""
    backbone = load(rel).model.backbone
    assert backbone.init_cfg.type == 'Pretrained'
    name = backbone_name(backbone)
    source = 'MobileViT-S' if name.startswith('ExMobileViT') else name
    expected = imagenet_weights(source)
    if name in DOWNSTREAM_FILE:
        expected = expected.replace(*DOWNSTREAM_FILE[name])
    assert resolved_checkpoint(backbone) == expected
    assert expected.startswith('https://')


@pytest.mark.parametrize('rel', TOY_CONFIGS)
def test_toy_configs_train_from_scratch(rel):
    """The CPU demos never download: their backbones start from scratch,
    and the first line of the demo config says so."""
    assert load(rel).model.backbone.init_cfg is None


def test_make_demo_config_says_it_trains_from_scratch():
    with open(osp.join(CONFIG_DIR, 'emo', 'deeplabv3_emo-1m_1xb8-300iter_'
                       'toy-ade20k-128x128.py')) as f:
        assert 'from scratch' in f.readline()


# -------------------------------------------- the official files, offline
@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """A temporary torch hub dir: URLs are looked up in
    ``hub_dir/checkpoints/``."""
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    return tmp_path / 'hub'


def place(url, checkpoint):
    """Save ``checkpoint`` where torch hub keeps the download of ``url``."""
    path = hub_cache_path(url)
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(checkpoint, path)
    return path


def official_emo(arch):  # EMO's net.pth: a flat state_dict
    weights = official_state_dict(arch)
    return weights, convert_official_emo(weights)


def official_repvit(arch):  # THU-MIG/RepViT: {'model': features.N...}
    weights = repvit_official(timm_reference(arch).state_dict())
    return dict(model=weights), convert_repvit(weights)


def official_mobilevit(arch):  # ml-cvnets: a flat state_dict
    weights = to_cvnets_layout(randomised_timm(arch, seed=3).state_dict())
    return weights, convert_mobilevit(weights)


def build_backbone(rel):
    """The backbone of config ``rel``, built as tools/train.py would (one
    process: BN for SyncBN)."""
    return MODELS.build(sync_bn_to_bn(load(rel).model.backbone))


def assert_loaded_exactly(backbone, expected, unloaded=()):
    """Every tensor of ``backbone`` equals the converted official one; the
    keys starting with ``unloaded`` are the only ones the file lacks."""
    state = backbone.state_dict()
    missing = sorted(k for k in state if k not in expected)
    assert all(k.startswith(unloaded) for k in missing) if unloaded \
        else not missing, missing
    for key, value in state.items():
        if key in expected:
            assert torch.equal(value, expected[key]), key
    return missing


@pytest.mark.parametrize('rel,official,arch', [
    ('emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py', official_emo, '1M'),
    ('emo/retinanet_emo-2m_fpn_8xb4-1x_coco.py', official_emo, '2M'),
    ('repvit/deeplabv3_repvit-m0-9_8xb4-80k_ade20k-512x512.py',
     official_repvit, 'm0_9'),
    ('mobilevit/ssdlite_mobilevit-xxs_8xb24-120e_coco-320x320.py',
     official_mobilevit, 'xxs'),
])
def test_config_loads_exactly_the_official_file(rel, official, arch, hub_dir,
                                                monkeypatch, log_messages):
    """The config's backbone takes every weight of the official file in the
    hub cache under the URL's name (EMO: with the file's own git blob
    SHA-1 standing in for the published one), nothing else."""
    backbone = build_backbone(rel)
    url = backbone.pretrained_checkpoint
    checkpoint, expected = official(arch)
    path = place(url, checkpoint)
    if url in compat.PUBLISHED_FILES:
        monkeypatch.setitem(compat.PUBLISHED_FILES, url, (
            git_blob_sha1(path), compat.PUBLISHED_FILES[url][1]))
    backbone.init_weights()
    assert_loaded_exactly(backbone, expected)
    assert f'loaded all weights from {url}' in '\n'.join(log_messages)
    backbone.eval()
    if official is official_emo:  # the official model's own outputs
        case = next(c for c in cases()
                    if c['arch'] == arch and c['window_size'] == 7)
        with torch.no_grad():
            got = backbone(official_input(case))
        for out, level in zip(got, backbone.out_indices):  # i = stage i
            assert_close_relative(out, official_outputs(case)[f'stage{level}'],
                                  f'stage{level}')
    elif official is official_repvit:  # timm with the same weights
        assert_features_match(backbone, timm_reference(arch), [(64, 64)])
    else:
        ref = randomised_timm(arch, seed=3)
        x = torch.randn(1, 3, 64, 96)
        with torch.no_grad():
            got, expected_levels = backbone(x), timm_levels(ref, x)
        for out, level in zip(got, backbone.out_indices):
            torch.testing.assert_close(out, expected_levels[level],
                                       rtol=0, atol=1e-4)


@pytest.mark.parametrize('arch', ['576', '640', '928'])
def test_exmobilevit_starts_from_mobilevit_s(arch, hub_dir, log_messages):
    """No ExMobileViT weights are published: the dense ExMobileViT takes
    every MobileViT-S weight of ml-cvnets' file; only its ExShortcuts (this
    project's dense extension) start from scratch, and the log names
    them."""
    backbone = build_backbone(
        f'exmobilevit/deeplabv3_exmobilevit-{arch}_8xb4-80k_ade20k-512x512.py')
    url = backbone.pretrained_checkpoint
    assert url == imagenet_weights('MobileViT-S')
    checkpoint, expected = official_mobilevit('s')
    place(url, checkpoint)
    backbone.init_weights()
    missing = assert_loaded_exactly(backbone, expected, ('ex_shortcuts.', ))
    assert missing == sorted(backbone.ex_shortcuts.state_dict(
        prefix='ex_shortcuts.'))
    loaded = [k for k in backbone.state_dict() if k in expected]
    assert len(loaded) == len(MODELS.build(dict(
        type='MobileViTBackbone', arch='s')).state_dict())
    warning, = [m for m in log_messages if 'missing key' in m]
    assert f'missing key(s) when loading {url}: ' in warning
    # (torch does not count a BN's num_batches_tracked as missing)
    assert sorted(warning.split(f'{url}: ')[1].split(', ')) == [
        k for k in missing if not k.endswith('num_batches_tracked')]


# --------------------------------------------------------- EMO's SHA-1
def test_git_blob_sha1_is_git_hash_object(tmp_path):
    path = tmp_path / 'net.pth'
    torch.save({'w': torch.arange(5.)}, path)
    git = subprocess.run(['git', 'hash-object', str(path)], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert git_blob_sha1(str(path)) == git


def test_emo_files_have_their_own_cache_names(hub_dir):
    """All four EMO files are called net.pth: each gets its own name in the
    cache, and its published git blob SHA-1."""
    names = {osp.basename(hub_cache_path(compat.EMO_URL.format(arch)))
             for arch in ('1M', '2M', '5M', '6M')}
    assert names == {'EMO_1M_net.pth', 'EMO_2M_net.pth', 'EMO_5M_net.pth',
                     'EMO_6M_net.pth'}
    assert compat.PUBLISHED_FILES[EMO_1M][0] == \
        '76c4282de548fa76eca6011720b29d8f80ffa784'


def test_wrong_emo_file_in_the_cache_is_refused(hub_dir):
    """A cached EMO file that is not the published one (here: synthetic
    weights) is refused before loading, with one line; the file stays."""
    backbone = build_backbone(
        'emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')
    path = place(EMO_1M, official_emo('1M')[0])
    with pytest.raises(CheckpointError) as e:
        backbone.init_weights()
    message = str(e.value)
    assert '\n' not in message
    assert message.startswith(f'{path} (from {EMO_1M}) is not the published '
                              f'file: git blob SHA-1 {git_blob_sha1(path)}, '
                              'expected 76c4282de548fa76eca6011720b29d8f80ffa'
                              '784 (delete it to download it again')
    assert '--cfg-options model.backbone.init_cfg.checkpoint=PATH' in message
    assert osp.isfile(path)


def test_download_with_a_wrong_sha1_is_deleted(hub_dir, tmp_path, no_proxy,
                                               monkeypatch):
    """Downloaded, then checked: a wrong git blob SHA-1 deletes the download
    and stops; the right one loads it, under its cache name."""
    served = tmp_path / 'served'
    served.mkdir()
    torch.save({'w': torch.arange(3.)}, served / 'net.pth')
    with serve(served) as base:
        url = f'{base}/net.pth'
        monkeypatch.setitem(compat.PUBLISHED_FILES, url,
                            ('0' * 40, 'EMO_test_net.pth'))
        with pytest.raises(CheckpointError, match='expected 0{40} .the '
                           'download was deleted; try again'):
            load_checkpoint_file(url)
        assert not (hub_dir / 'checkpoints' / 'EMO_test_net.pth').exists()
        monkeypatch.setitem(compat.PUBLISHED_FILES, url, (
            git_blob_sha1(str(served / 'net.pth')), 'EMO_test_net.pth'))
        assert torch.equal(load_checkpoint_file(url)['w'], torch.arange(3.))
        assert (hub_dir / 'checkpoints' / 'EMO_test_net.pth').is_file()


# ---------------------------------------------------- through tools/train.py
@pytest.fixture(scope='module')
def toy_ade(tmp_path_factory):
    return make_toy_ade20k(str(tmp_path_factory.mktemp('ade')), num_train=2,
                           num_val=1, size=64, seed=5)


def offline_env(torch_home):
    """A subprocess environment whose torch hub is under ``torch_home`` and
    whose downloads fail at once (a proxy on a port nobody listens on)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        dead = f'http://127.0.0.1:{s.getsockname()[1]}'
    return dict(os.environ, TORCH_HOME=str(torch_home), http_proxy=dead,
                https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead,
                no_proxy='', NO_PROXY='')


def toy_options(data_root, *extra):
    return ['--cfg-options', *[
        f'{split}_dataloader.{key}' for split in ('train', 'val')
        for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                    'persistent_workers=False', 'batch_size=2')], *extra]


@pytest.mark.slow
def test_train_without_the_file_stops_with_one_line(toy_ade, tmp_path):
    """Offline, the real EMO-1M config stops before its first iteration
    with one line: the URL, where the file is expected, how to pass a local
    copy."""
    work = tmp_path / 'work'
    rc, out = run_tool(
        'tools/train.py',
        'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py',
        '--work-dir', str(work), *toy_options(toy_ade),
        env=offline_env(tmp_path / 'torch'))
    assert rc == 1, out[-3000:]
    last = out.strip().splitlines()[-1]
    assert [line for line in out.splitlines()
            if line.startswith('error:')] == [last]
    cached = tmp_path / 'torch' / 'hub' / 'checkpoints' / 'EMO_1M_net.pth'
    assert last.startswith(f'error: could not download {EMO_1M} (')
    assert last.endswith(f'): put the file at {cached} (or pass a local '
                         'copy, e.g. --cfg-options '
                         'model.backbone.init_cfg.checkpoint=PATH)')
    assert 'Iter(train)' not in out
    assert not list(work.glob('*.pth'))


@pytest.mark.slow
def test_train_starts_from_the_file_in_the_hub_cache(toy_ade, tmp_path):
    """With ml-cvnets' MobileViT-XXS file in TORCH_HOME's hub cache (and no
    network), tools/train.py trains the real config from exactly those
    weights: the backbone, frozen whole for the test, ends its iteration
    with them."""
    rel = 'mobilevit/deeplabv3_mobilevit-xxs_8xb4-80k_ade20k-512x512.py'
    url = build_backbone(rel).pretrained_checkpoint
    checkpoint, expected = official_mobilevit('xxs')
    name = osp.basename(url)
    path = tmp_path / 'torch' / 'hub' / 'checkpoints' / name
    path.parent.mkdir(parents=True)
    torch.save(checkpoint, path)
    work = tmp_path / 'work'
    rc, out = run_tool(
        'tools/train.py', osp.join('configs', rel), '--work-dir', str(work),
        *toy_options(toy_ade, 'train_cfg.max_iters=1',
                     'train_cfg.val_interval=1000',
                     'default_hooks.checkpoint.interval=1',
                     'model.backbone.frozen_stages=4'),
        env=offline_env(tmp_path / 'torch'))
    assert rc == 0, failure_summary(out)
    assert f'loaded all weights from {url}' in out
    state = torch.load(work / 'iter_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    backbone = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    assert backbone and all(torch.equal(v, expected[k])
                            for k, v in backbone.items())
