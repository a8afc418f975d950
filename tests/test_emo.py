"""EMO backbone: architecture, official-checkpoint equivalence, freezing."""
import math
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit.models.backbones.emo import EMO, convert_official_emo
from mmlightvit.models.bricks import LayerNorm2d
from mmlightvit.models.checkpoint import load_pretrained_weights, unwrap_state_dict

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from reference.emo_official import forward_stages, official_emo  # noqa: E402
from helpers import num_params  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONVERTER = osp.join(ROOT, 'tools', 'model_converters', 'emo2mmlightvit.py')
ARCHS = ('1M', '2M', '5M', '6M')
# Official parameter totals (with final norm and 1000-class head).
OFFICIAL_TOTALS = {'1M': 1361168, '2M': 2377472, '5M': 5108848, '6M': 6168496}
ALL_OUTS = (0, 1, 2, 3, 4)


def randomised_reference(arch, window_size=7, seed=0):
    """Official model with random weights, biases, norm affines and BN
    running statistics (kept O(1) so features stay well-scaled)."""
    torch.manual_seed(seed)
    ref = official_emo(arch, window_size)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if p.ndim == 1:  # biases and norm affines
                base = 1. if name.endswith('weight') else 0.
                p.copy_(base + 0.2 * torch.randn_like(p))
        for m in ref.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.)
                m.num_batches_tracked.fill_(7)
    return ref.eval()


def pretrained_emo(arch, checkpoint, **kwargs):
    model = EMO(arch, out_indices=ALL_OUTS,
                init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
                **kwargs)
    model.init_weights()
    return model.eval()


def assert_matches(model, ref, sizes, seed=1):
    torch.manual_seed(seed)
    for h, w in sizes:
        x = torch.randn(1, 3, h, w)
        with torch.no_grad():
            expected = forward_stages(ref, x)
            got = model(x)
        assert len(got) == 5
        for i, (g, e) in enumerate(zip(got, expected)):
            assert g.shape == e.shape, (i, h, w)
            diff = (g - e).abs().max().item()
            assert diff < 1e-4, f'stage {i} at {h}x{w}: max abs diff {diff}'


# (a) parameter counts --------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_param_count(arch):
    ref = official_emo(arch)
    assert num_params(ref) == OFFICIAL_TOTALS[arch]
    width = EMO.arch_settings[arch]['widths'][-1]
    classifier = 2 * width + width * 1000 + 1000  # final LN + Linear head
    assert num_params(EMO(arch)) == OFFICIAL_TOTALS[arch] - classifier


# (b) shapes ------------------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('size', [(64, 64), (97, 131)])  # 224: see below
def test_output_shapes(arch, size):
    model = EMO(arch, out_indices=ALL_OUTS).eval()
    widths = EMO.arch_settings[arch]['widths']
    assert model.out_channels == [24, *widths]
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
    ref = official_emo('1M')
    norms = [m for m in model.modules()
             if isinstance(m, (_BatchNorm, nn.LayerNorm))]
    assert norms and all(m.eps == 1e-6 for m in norms)
    assert sum(isinstance(m, LayerNorm2d) for m in model.modules()) == 8 + 3

    def drop_probs(net):
        return [getattr(blk.drop_path, 'drop_prob', 0.) for i in range(1, 5)
                for blk in getattr(net, f'stage{i}')]

    drop = drop_probs(model)
    assert drop == pytest.approx(drop_probs(ref))
    assert drop[-1] == pytest.approx(0.04036)
    assert EMO('5M', drop_path_rate=0.1).stage4[-1].drop_path.drop_prob == \
        pytest.approx(0.1)
    # SyncBN (as in configs) keeps the key names and the official eps
    sync = EMO('1M', norm_cfg=dict(type='SyncBN'))
    assert sync.state_dict().keys() == model.state_dict().keys()
    assert all(m.eps == 1e-6 for m in sync.modules()
               if isinstance(m, nn.SyncBatchNorm))


# (c) official checkpoints ----------------------------------------------------
def _with_classifier_and(state_dict, wrap):
    assert any(k.startswith('head.') for k in state_dict)
    return wrap(state_dict)


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
    ref = randomised_reference('1M')
    path = str(tmp_path / 'net.pth')
    torch.save(_with_classifier_and(ref.state_dict(), LAYOUTS[layout]), path)
    model = pretrained_emo('1M', path)
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert_matches(model, ref, [(97, 131)])


@pytest.mark.parametrize('arch,window_size,sizes', [
    pytest.param(arch, window, sizes, id=f'{arch}-window{window}')
    for arch, window, sizes in [
        ('1M', 7, [(224, 224), (97, 131)]),  # 1M: odd dim_head 21 (stage 4)
        ('1M', 16, [(224, 224), (97, 131)]),
        ('5M', 7, [(224, 224), (97, 131)]),
        ('5M', 16, [(224, 224), (97, 131)]),
        ('1M', 0, [(97, 131)]),  # window = whole feature map
        ('2M', 7, [(97, 131)]),
        ('6M', 7, [(97, 131)]),
    ]
])
def test_matches_official(arch, window_size, sizes, tmp_path):
    """Stage outputs equal the official model's (shapes included)."""
    ref = randomised_reference(arch, window_size)
    path = str(tmp_path / 'net.pth')
    torch.save(ref.state_dict(), path)
    model = pretrained_emo(arch, path, window_size=window_size)
    assert_matches(model, ref, sizes)


def test_offline_converter(tmp_path, monkeypatch):
    ref = randomised_reference('1M')
    src, dst = str(tmp_path / 'net.pth'), str(tmp_path / 'out' / 'emo.pth')
    torch.save(dict(net=ref.state_dict()), src)
    monkeypatch.setattr(sys, 'argv', [CONVERTER, src, dst])
    runpy.run_path(CONVERTER, run_name='__main__')  # the command line tool
    checkpoint = _load_checkpoint(dst, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    model = EMO('1M', out_indices=ALL_OUTS)
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert_matches(model.eval(), ref, [(97, 131)])
    # ... and through init_cfg (conversion is idempotent)
    assert_matches(pretrained_emo('1M', dst), ref, [(97, 131)])


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
        'stage1.1.norm.weight': w})
    assert list(converted) == [
        'stage0.0.conv.weight', 'stage0.0.bn.running_var',
        'stage3.1.norm.weight', 'stage3.1.conv_local.bn.bias',
        'stage1.1.norm.weight']
    assert convert_official_emo(converted) == converted


# (d) wrong keys are reported -------------------------------------------------
def test_wrong_keys_reported(tmp_path, log_messages):
    state_dict = randomised_reference('1M').state_dict()
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
    path = str(tmp_path / 'net.pth')
    torch.save(official_emo('2M').state_dict(), path)
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


def test_norm_eval():
    model = EMO('1M', norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(m.training for m in bns)
    assert model.training and model.stage3[1].norm.training
    stats = {k: v.clone() for k, v in model.state_dict().items()
             if 'running' in k or 'num_batches' in k}
    model(torch.randn(2, 3, 64, 64))
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in stats.items())
    assert all(p.requires_grad for p in model.parameters())


# (f) argument validation -----------------------------------------------------
@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='3M'), r"Unknown EMO arch '3M'; valid archs: 1M, 2M, 5M, 6M"),
    (dict(out_indices=(1, 5)), r'out_indices must be in range 0\.\.4'),
    (dict(out_indices=(-1, )), r'out_indices must be in range 0\.\.4'),
    (dict(frozen_stages=5), r'frozen_stages must be in range -1\.\.4'),
    (dict(frozen_stages=-2), r'frozen_stages must be in range -1\.\.4'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EMO(**kwargs)
