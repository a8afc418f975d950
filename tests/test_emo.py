"""EMO backbone: architecture, equivalence with the official model (its
checkpoint layout and outputs, stored as data in tests/data/emo_official/),
freezing."""
import math
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint
from mmpretrain.models.utils import LayerNorm2d
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit.models.backbones.emo import EMO, convert_official_emo
from mmlightvit.models.checkpoint import (load_pretrained_weights,
                                          unwrap_state_dict)
from helpers import ROOT, num_params
from official_data import (assert_close_relative, case_id, cases,
                           official_input, official_num_params,
                           official_outputs, official_state_dict)

CONVERTER = osp.join(ROOT, 'tools', 'model_converters', 'emo2mmlightvit.py')
ARCHS = ('1M', '2M', '5M', '6M')
# Official parameter totals (with final norm and 1000-class head): the EMO
# README's 1.3M / 2.3M / 5.1M / 6.1M.
OFFICIAL_TOTALS = {'1M': 1361168, '2M': 2377472, '5M': 5108848, '6M': 6168496}
ALL_OUTS = (0, 1, 2, 3, 4)
CASES = cases()
FIRST_CASE = CASES[0]  # EMO-1M, window 7, 200x264


def pretrained_emo(arch, checkpoint, **kwargs):
    model = EMO(arch, out_indices=ALL_OUTS,
                init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
                **kwargs)
    model.init_weights()
    return model.eval()


def assert_matches_official(model, case):
    """Stage outputs (and the stem, where stored) equal the official model's
    for the case's input, within 1e-5 of their scale."""
    expected = official_outputs(case)
    with torch.no_grad():
        got = model(official_input(case))
    assert len(got) == 5
    for i, name in enumerate(('stem', 'stage1', 'stage2', 'stage3',
                              'stage4')):
        if name in expected:
            assert_close_relative(got[i], expected[name], name)


def save_official(tmp_path, arch, wrap=lambda sd: sd, name='net.pth'):
    path = str(tmp_path / name)
    torch.save(wrap(official_state_dict(arch)), path)
    return path


# (a) parameter counts --------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_param_count(arch):
    assert official_num_params(arch) == OFFICIAL_TOTALS[arch]
    width = EMO.arch_settings[arch]['widths'][-1]
    classifier = 2 * width + width * 1000 + 1000  # final LN + Linear head
    assert num_params(EMO(arch)) == OFFICIAL_TOTALS[arch] - classifier
    # every official key but the classifier's is one of ours, same shape
    official = convert_official_emo(official_state_dict(arch))
    ours = EMO(arch).state_dict()
    assert {k: v.shape for k, v in official.items()} == {
        k: v.shape for k, v in ours.items()}


# (b) shapes ------------------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('size', [(64, 64), (97, 131)])
def test_output_shapes(arch, size):
    model = EMO(arch, out_indices=ALL_OUTS).eval()
    widths = EMO.arch_settings[arch]['widths']
    assert model.out_channels == dict(enumerate((24, *widths)))
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert len(outs) == 5
    for i, out in enumerate(outs):
        stride = 2**(i + 1)
        assert out.shape == (1, model.out_channels[i],
                             math.ceil(size[0] / stride),
                             math.ceil(size[1] / stride))


def test_out_indices_subset():
    model = EMO('1M', out_indices=(2, 4)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [48, 168]


def test_official_hyperparameters():
    model = EMO('1M')
    norms = [m for m in model.modules()
             if isinstance(m, (_BatchNorm, nn.LayerNorm))]
    assert norms and all(m.eps == 1e-6 for m in norms)
    # mmpretrain's LayerNorm2d (its registered 'LN2d'): the pre-norms of the
    # 8 + 3 blocks of stages 3-4
    assert sum(isinstance(m, LayerNorm2d) for m in model.modules()) == 8 + 3

    def drop_probs(net):
        return [getattr(blk.drop_path, 'drop_prob', 0.) for i in range(1, 5)
                for blk in getattr(net, f'stage{i}')]

    # the official stochastic depth: linear from 0 over the 15 stage blocks
    drop = drop_probs(model)
    assert drop == pytest.approx(torch.linspace(0, 0.04036, 15).tolist())
    assert EMO('5M', drop_path_rate=0.1).stage4[-1].drop_path.drop_prob == \
        pytest.approx(0.1)
    # SyncBN (as in configs) keeps the key names and the official eps
    sync = EMO('1M', norm_cfg=dict(type='SyncBN'))
    assert sync.state_dict().keys() == model.state_dict().keys()
    assert all(m.eps == 1e-6 for m in sync.modules()
               if isinstance(m, nn.SyncBatchNorm))


# (c) official checkpoints ----------------------------------------------------
LAYOUTS = {
    'plain': lambda sd: sd,
    'net': lambda sd: dict(net=sd, epoch=300),
    'net_E': lambda sd: dict(net_E=sd),
    'state_dict': lambda sd: dict(state_dict=sd, meta=dict()),
    'model': lambda sd: dict(model=sd),
    'module_prefix': lambda sd: dict(net={f'module.{k}': v
                                          for k, v in sd.items()}),
}


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_official_checkpoint_layouts(layout, tmp_path, log_messages):
    path = save_official(tmp_path, FIRST_CASE['arch'], LAYOUTS[layout])
    model = pretrained_emo(FIRST_CASE['arch'], path)
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert_matches_official(model, FIRST_CASE)


@pytest.mark.parametrize('case', CASES, ids=case_id)
def test_matches_official(case, tmp_path, log_messages):
    """Stage outputs (and the stem) equal the official model's, loaded from
    an official checkpoint through init_cfg: every stored case (archs,
    window sizes 7 / 16 / whole map, padded windows)."""
    path = save_official(tmp_path, case['arch'])
    model = pretrained_emo(case['arch'], path,
                           window_size=case['window_size'])
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert_matches_official(model, case)


@pytest.mark.parametrize('case', CASES, ids=case_id)
def test_offline_converter(case, tmp_path, monkeypatch):
    arch = case['arch']
    src = save_official(tmp_path, arch, lambda sd: dict(net=sd))
    dst = str(tmp_path / 'out' / 'emo.pth')
    monkeypatch.setattr(sys, 'argv', [CONVERTER, src, dst])
    runpy.run_path(CONVERTER, run_name='__main__')  # the command line tool
    checkpoint = _load_checkpoint(dst, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    model = EMO(arch, out_indices=ALL_OUTS, window_size=case['window_size'])
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert_matches_official(model.eval(), case)
    # ... and through init_cfg (conversion is idempotent)
    assert_matches_official(
        pretrained_emo(arch, dst, window_size=case['window_size']), case)


def test_unwrap_state_dict():
    w = torch.zeros(1)
    assert unwrap_state_dict({'a.b': w}) == {'a.b': w}
    assert unwrap_state_dict({'state_dict': {'module.a': w}}) == {'a': w}
    assert unwrap_state_dict({'net': {'x': w}, 'net_E': {'y': w}}) == {'x': w}
    assert unwrap_state_dict({'state_dict': {'model': {'m': w}}}) == {'m': w}
    converted = convert_official_emo({
        'head.weight': w, 'norm.weight': w, 'pre_head.0.bias': w,
        'stage0.0.convs.0.0.weight': w, 'stage0.0.convs.0.1.running_var': w,
        'stage3.1.norm.norm.weight': w, 'stage3.1.conv_local.norm.bias': w,
        'stage0.1.se.conv_reduce.weight': w, 'stage1.1.norm.weight': w})
    assert list(converted) == [
        'stage0.0.conv.weight', 'stage0.0.bn.running_var',
        'stage3.1.norm.weight', 'stage3.1.conv_local.bn.bias',
        'stage0.1.se.conv1.conv.weight', 'stage1.1.norm.weight']
    assert convert_official_emo(converted) == converted


# (d) wrong keys are reported -------------------------------------------------
def test_wrong_keys_reported(tmp_path, log_messages):
    state_dict = official_state_dict('1M')
    state_dict['stage1.0.bogus.weight'] = torch.zeros(3)
    del state_dict['stage2.1.v.conv.weight']
    path = str(tmp_path / 'net.pth')
    torch.save(dict(net=state_dict), path)

    result = load_pretrained_weights(
        EMO('1M'), path, convert=convert_official_emo)
    assert result.unexpected_keys == ['stage1.0.bogus.weight']
    assert result.missing_keys == ['stage2.1.v.conv.weight']

    log_messages.clear()
    pretrained_emo('1M', path)
    text = '\n'.join(log_messages)
    assert 'stage1.0.bogus.weight' in text and 'unexpected' in text
    assert 'stage2.1.v.conv.weight' in text and 'missing' in text


def test_wrong_arch_checkpoint_raises(tmp_path):
    path = save_official(tmp_path, '2M')
    with pytest.raises(RuntimeError, match='size mismatch'):
        pretrained_emo('1M', path)


# (e) freezing ----------------------------------------------------------------
def _snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('frozen_stages', [0, 2, 3])
def test_frozen_stages(frozen_stages):
    torch.manual_seed(0)
    model = EMO('1M', out_indices=ALL_OUTS, frozen_stages=frozen_stages)
    model.train()
    model.train()  # a second call must not unfreeze
    for i in range(5):
        stage = getattr(model, f'stage{i}')
        frozen = i <= frozen_stages
        assert all(p.requires_grad != frozen for p in stage.parameters())
        assert all(m.training != frozen for m in stage.modules())

    before = _snapshot(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                weight_decay=0.1)
    loss = sum(o.square().mean() for o in model(torch.randn(2, 3, 64, 64)))
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    for key, value in before.items():  # parameters and BN statistics
        if int(key[len('stage')]) <= frozen_stages:
            assert torch.equal(after[key], value), key
    trainable = [k for k in before if int(k[len('stage')]) > frozen_stages]
    assert any(not torch.equal(after[k], before[k]) for k in trainable)


pytestmark = pytest.mark.usefixtures('single_thread')
