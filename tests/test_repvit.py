"""RepViT backbone: equivalence with timm / official checkpoints, parameter
counts, structural re-parameterisation, freezing, argument checks."""
import functools
import importlib.util
import math
import os.path as osp
import re
import subprocess
import sys

import pytest
import timm
import torch
import torch.nn as nn
from mmengine.registry import MODELS
from mmengine.runner.checkpoint import _load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit.models.backbones.repvit import (RepViT, convert_repvit,
                                                infer_arch)
from mmlightvit.models.checkpoint import load_pretrained_weights
from helpers import ROOT, num_params

CONVERTER = osp.join(ROOT, 'tools', 'model_converters',
                     'repvit2mmlightvit.py')
ARCHS = ('m0_9', 'm1_0', 'm1_1', 'm1_5', 'm2_3')
# Official parameter counts without the distillation head (backbone + BN1d +
# Linear 1000-class classifier), from the RepViT README / timm.
OFFICIAL_PARAMS = {'m0_9': 5103560, 'm1_0': 6852900, 'm1_1': 8288888,
                   'm1_5': 14130408, 'm2_3': 23046512}
# The official ``cfgs`` of THU-MIG/RepViT model/repvit.py, one string per
# resolution: 'S' = stride-2 block, '1' = stride-1 block with SE, '0' =
# stride-1 block without SE.
OFFICIAL_CFGS = {
    'm0_9': ('100', 'S100', 'S' + '10' * 7 + '0', 'S10'),
    'm1_0': ('100', 'S100', 'S' + '10' * 7 + '0', 'S10'),
    'm1_1': ('100', 'S100', 'S' + '10' * 6 + '0', 'S10'),
    'm1_5': ('10100', 'S10100', 'S' + '10' * 12 + '0', 'S1010'),
    'm2_3': ('1010100', 'S1010100', 'S' + '10' * 17 + '0', 'S10'),
}
# ``out_indices`` (into ``features``) of THU-MIG/RepViT detection/configs
DETECTION_OUT_INDICES = {'m1_1': [2, 6, 20, 24], 'm1_5': [4, 10, 36, 42],
                         'm2_3': [6, 14, 50, 54]}
SIZES = [(64, 64), (65, 97)]


def num_modules(module):
    return sum(1 for _ in module.modules())


def randomise_(model, seed=0):
    """Random 1-D parameters (biases, norm affines; BN weights around 1, so
    the zero-initialised ones are live) and BN running statistics."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:
                base = 1. if name.endswith('weight') else 0.
                p.copy_(base + 0.2 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.)
                m.num_batches_tracked.fill_(7)
    return model.eval()


@functools.lru_cache(maxsize=None)
def timm_reference(arch):
    """timm ``repvit_<arch>`` (with its distillation head) with random
    weights, eval mode; cached (never modified by the tests)."""
    return randomise_(timm.create_model(f'repvit_{arch}', pretrained=False))


def timm_features(ref, x):
    with torch.no_grad():
        return ref.forward_intermediates(x, intermediates_only=True)


def assert_features_match(model, ref, sizes=SIZES, seed=1):
    torch.manual_seed(seed)
    for h, w in sizes:
        x = torch.randn(1, 3, h, w)
        expected = timm_features(ref, x)
        with torch.no_grad():
            got = model(x)
        assert len(got) == 4
        for i, (g, e) in enumerate(zip(got, expected)):
            assert g.shape == e.shape, (i, h, w)
            diff = (g - e).abs().max().item()
            assert diff < 1e-4, f'stage {i} at {h}x{w}: max abs diff {diff}'


def pretrained_repvit(arch, checkpoint, **kwargs):
    model = RepViT(arch, init_cfg=dict(type='Pretrained',
                                       checkpoint=checkpoint), **kwargs)
    model.init_weights()
    return model.eval()


def load_converter():
    spec = importlib.util.spec_from_file_location('repvit2mmlightvit',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def no_key_warnings(messages):
    return not [m for m in messages if 'missing' in m or 'unexpected' in m]


# official layout, written from timm's keys (independently of the backbone's
# converter): timm moves the last stride-1 block of each resolution into the
# next stage as ``downsample.pre_block``; the official ``features`` is flat.
_TIMM_TO_OFFICIAL_BLOCK = (
    ('token_mixer.conv.', 'token_mixer.0.conv.'),
    ('token_mixer.conv1.', 'token_mixer.0.conv1.'),
    ('token_mixer.bn.', 'token_mixer.0.bn.'),
    ('se.', 'token_mixer.1.'),
    ('channel_mixer.conv1.', 'channel_mixer.m.0.'),
    ('channel_mixer.conv2.', 'channel_mixer.m.2.'),
)
_TIMM_TO_OFFICIAL_DOWNSAMPLE = (
    ('spatial_downsample.', 'token_mixer.0.'),
    ('channel_downsample.', 'token_mixer.2.'),
    ('ffn.conv1.', 'channel_mixer.m.0.'),
    ('ffn.conv2.', 'channel_mixer.m.2.'),
)


def _replace_prefix(key, renames):
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old):]
    raise KeyError(key)


def official_state_dict(timm_state_dict):
    """timm RepViT state_dict -> THU-MIG/RepViT keys (``features.*``,
    ``classifier.classifier(_dist).*``)."""
    # flat block order: stage i = [pre_block, downsample] (i > 0) + blocks
    order = []
    for key in timm_state_dict:
        m = re.match(r'stages\.(\d+)\.(blocks\.\d+|downsample\.pre_block|'
                     r'downsample)\.', key)
        if m and m.group(0) not in order:
            order.append(m.group(0))
    order.sort(key=lambda p: (int(p.split('.')[1]), 'blocks' in p,
                              'pre_block' not in p,
                              int(p.split('.')[3]) if 'blocks' in p else 0))
    index = {prefix: i + 1 for i, prefix in enumerate(order)}
    official = {}
    for key, value in timm_state_dict.items():
        if key.startswith('stem.'):
            key = _replace_prefix(key, (('stem.conv1.', 'features.0.0.'),
                                        ('stem.conv2.', 'features.0.2.')))
        elif key.startswith('head.'):
            key = _replace_prefix(
                key, (('head.head.', 'classifier.classifier.'),
                      ('head.head_dist.', 'classifier.classifier_dist.')))
        else:
            prefix = next(p for p in order if key.startswith(p))
            rest = key[len(prefix):]
            renames = _TIMM_TO_OFFICIAL_BLOCK if 'blocks' in prefix or \
                'pre_block' in prefix else _TIMM_TO_OFFICIAL_DOWNSAMPLE
            key = f'features.{index[prefix]}.' + _replace_prefix(rest, renames)
        official[key] = value
    return official


# (a) equivalence with timm, through the converter and init_cfg --------------
@pytest.mark.parametrize('arch', ARCHS)
def test_matches_timm(arch, tmp_path):
    ref = timm_reference(arch)
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'repvit.pth')
    torch.save(ref.state_dict(), src)
    state_dict = load_converter().convert(src, dst, log=lambda msg: None)
    assert not any(k.startswith(('head.', 'classifier.')) for k in state_dict)
    model = RepViT(arch)
    model.load_state_dict(state_dict, strict=True)
    assert_features_match(pretrained_repvit(arch, dst), ref)


@pytest.mark.parametrize('arch', ['m0_9', 'm1_5'])
def test_timm_checkpoint_through_init_cfg(arch, tmp_path, log_messages):
    ref = timm_reference(arch)
    path = str(tmp_path / 'timm.pth')
    torch.save(ref.state_dict(), path)  # as published: plain, with heads
    model = pretrained_repvit(arch, path)
    assert no_key_warnings(log_messages)
    assert_features_match(model, ref, [(72, 88)])


# (b) parameter counts --------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_param_count(arch):
    ref = timm.create_model(f'repvit_{arch}', pretrained=False,
                            distillation=False)
    assert num_params(ref) == OFFICIAL_PARAMS[arch]
    head = num_params(ref) - num_params(ref.stem) - num_params(ref.stages)
    width = RepViT.arch_settings[arch]['widths'][-1]
    assert head == 2 * width + width * 1000 + 1000  # BN1d + Linear
    assert num_params(RepViT(arch)) + head == OFFICIAL_PARAMS[arch]


# shapes ----------------------------------------------------------------------
# channels of out_indices 1-4 (strides 4-32)
OUT_CHANNELS = {'m0_9': [48, 96, 192, 384], 'm1_0': [56, 112, 224, 448],
                'm1_1': [64, 128, 256, 512], 'm1_5': [64, 128, 256, 512],
                'm2_3': [80, 160, 320, 640]}


@pytest.mark.parametrize('arch', ARCHS)
def test_output_shapes(arch):
    model = RepViT(arch).eval()
    assert model.out_channels == dict(zip((1, 2, 3, 4), OUT_CHANNELS[arch]))
    for size in [(64, 64), (65, 97), (33, 31)]:
        with torch.no_grad():
            outs = model(torch.randn(1, 3, *size))
        assert len(outs) == 4
        for i, out in enumerate(outs):
            stride = 2**(i + 2)  # out index i + 1
            assert out.shape == (1, OUT_CHANNELS[arch][i],
                                 math.ceil(size[0] / stride),
                                 math.ceil(size[1] / stride))


def test_out_indices_subset_and_registry():
    model = MODELS.build(dict(type='RepViT', arch='m0_9', out_indices=(2, 4)))
    with torch.no_grad():
        outs = model.eval()(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 96, 8, 8), (2, 384, 2, 2)]
    assert RepViT('m0_9', out_indices=2).out_indices == (2, )


def test_official_hyperparameters():
    model = RepViT('m1_1')
    ses = [blk.se for stage in model.stages for blk in stage]
    se_widths = [se.conv1.conv.out_channels for se in ses
                 if not isinstance(se, nn.Identity)]
    # make_divisible(C / 4, 8), e.g. 64 -> 16, 128 -> 32
    assert se_widths == [16, 32] + [64] * 6 + [128]
    m0_9 = RepViT('m0_9')
    assert m0_9.stages[0][0].se.conv1.conv.out_channels == 16  # 48 / 4 = 12
    assert RepViT('m2_3').stages[0][0].se.conv1.conv.out_channels == 24
    # timm's SqueezeExcite: biased convs, ReLU, sigmoid gate
    se = m0_9.stages[0][0].se
    assert se.conv1.conv.bias is not None and se.conv2.conv.bias is not None
    assert isinstance(se.conv1.activate, nn.ReLU)
    assert isinstance(se.conv2.activate, nn.Sigmoid)
    # the last BN of each FFN starts at zero, also after init_weights()
    model.init_weights()
    for stage in model.stages:
        for blk in stage:
            assert not blk.channel_mixer[1].bn.weight.any()
            assert blk.channel_mixer[0].bn.weight.eq(1).all()
    sync = RepViT('m1_1', norm_cfg=dict(type='SyncBN'))
    assert sync.state_dict().keys() == model.state_dict().keys()


# (c) structural re-parameterisation ------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_switch_to_deploy(arch, tmp_path):
    ref = timm_reference(arch)
    model = RepViT(arch)
    model.load_state_dict(convert_repvit(ref.state_dict()), strict=True)
    model.eval()
    torch.manual_seed(2)
    x = torch.randn(1, 3, 65, 97)
    with torch.no_grad():
        before = model(x)
    params, modules = num_params(model), num_modules(model)
    model.switch_to_deploy()
    model.switch_to_deploy()  # idempotent
    assert model.deploy
    assert num_params(model) < params and num_modules(model) < modules
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    dw = [m for m in model.modules()
          if isinstance(m, nn.Conv2d) and m.groups > 1 and m.stride == (1, 1)]
    assert dw and all(m.kernel_size == (3, 3) for m in dw)
    with torch.no_grad():
        after = model(x)
    for i, (a, b) in enumerate(zip(after, before)):
        diff = (a - b).abs().max().item()
        assert diff < 1e-4, f'stage {i}: max abs diff {diff}'

    # deploy=True builds the same form; the fused weights load strictly
    deployed = RepViT(arch, deploy=True).eval()
    assert num_params(deployed) == num_params(model)
    assert num_modules(deployed) == num_modules(model)
    deployed.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        again = deployed(x)
    assert all(torch.equal(a, b) for a, b in zip(again, after))
    # ... and through init_cfg
    path = str(tmp_path / 'deploy.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    loaded = pretrained_repvit(arch, path, deploy=True)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(loaded(x), after))


def test_deploy_model_from_training_checkpoint(tmp_path, log_messages):
    """``deploy=True`` with an official (training-form) checkpoint: folded
    on load."""
    ref = timm_reference('m0_9')
    path = str(tmp_path / 'official.pth')
    torch.save(dict(model=official_state_dict(ref.state_dict())), path)
    model = pretrained_repvit('m0_9', path, deploy=True)
    assert no_key_warnings(log_messages)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert_features_match(model, ref, [(64, 64)])


def test_deploy_training_and_frozen():
    model = RepViT('m0_9', frozen_stages=2)
    model.switch_to_deploy()
    assert model.training  # mode kept
    assert not any(m.training for m in (*model.stem, model.stages[1]))
    assert model.stages[2].training
    for i, stage in enumerate([model.stem, *model.stages]):
        assert all(p.requires_grad == (i > 2) for p in stage.parameters())
    loss = sum(o.sum() for o in model(torch.randn(2, 3, 64, 64)))
    loss.backward()  # the fused form trains


# (d) official checkpoints ----------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_official_layout(arch):
    """The renamed timm weights have the official structure, and the stages
    end where the official detection configs take their features."""
    official = official_state_dict(timm_reference(arch).state_dict())
    cfg = ''.join(OFFICIAL_CFGS[arch])
    blocks = sorted({int(k.split('.')[1]) for k in official
                     if k.startswith('features.')})
    assert blocks == list(range(len(cfg) + 1))
    stride2 = [i for i in blocks if f'features.{i}.token_mixer.0.c.weight'
               in official]
    se = [i for i in blocks if f'features.{i}.token_mixer.1.fc1.weight'
          in official]
    assert stride2 == [i + 1 for i, c in enumerate(cfg) if c == 'S']
    assert se == [i + 1 for i, c in enumerate(cfg) if c == '1']
    assert {k.rsplit('.', 1)[0] for k in official if 'classifier' in k} == {
        'classifier.classifier.bn', 'classifier.classifier.l',
        'classifier.classifier_dist.bn', 'classifier.classifier_dist.l'}

    # converted: stage i ends at the official ``features`` index taps[i]
    converted = convert_repvit(official)
    assert infer_arch(converted) == arch
    ends, total = [], 0
    for i in range(4):
        total += len({k.split('.')[2] for k in converted
                      if k.startswith(f'stages.{i}.')})
        ends.append(total)
    assert ends == DETECTION_OUT_INDICES.get(arch, ends)
    lengths = [len(group) for group in OFFICIAL_CFGS[arch]]
    assert ends == [lengths[0] - 1, sum(lengths[:2]) - 1,
                    sum(lengths[:3]) - 1, sum(lengths)]


LAYOUTS = {
    'model': lambda sd: dict(model=sd),
    'model_no_head': lambda sd: dict(model={
        k: v for k, v in sd.items() if not k.startswith('classifier.')}),
    'plain': lambda sd: sd,
    'module_prefix': lambda sd: dict(model={f'module.{k}': v
                                            for k, v in sd.items()}),
    'state_dict': lambda sd: dict(state_dict=sd, meta=dict()),
}


@pytest.mark.parametrize('arch', ARCHS)
def test_official_checkpoint(arch, tmp_path, log_messages):
    ref = timm_reference(arch)
    path = str(tmp_path / f'repvit_{arch}_distill_300e.pth')
    official = official_state_dict(ref.state_dict())
    torch.save(dict(model=official, epoch=299), path)
    model = pretrained_repvit(arch, path)
    assert no_key_warnings(log_messages)
    assert_features_match(model, ref, [(64, 64)])


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_official_checkpoint_layouts(layout, tmp_path, log_messages):
    ref = timm_reference('m1_1')
    path = str(tmp_path / 'repvit.pth')
    torch.save(LAYOUTS[layout](official_state_dict(ref.state_dict())), path)
    model = pretrained_repvit('m1_1', path)
    assert no_key_warnings(log_messages)
    assert_features_match(model, ref, [(65, 97)])


@pytest.mark.parametrize('source', ['official', 'timm'])
def test_offline_converter(source, tmp_path):
    ref = timm_reference('m1_0')
    weights = ref.state_dict()
    if source == 'official':
        weights = dict(model=official_state_dict(weights))
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'out' / 'mm.pth')
    torch.save(weights, src)
    messages = []
    converted = load_converter().convert(src, dst, log=messages.append)
    assert f'{source} layout' in messages[0]
    assert 'dropped 14 classifier tensor(s)' in messages[0]  # 2 x (BN1d + l)
    assert 'arch m1_0 (training form)' in messages[1]
    assert not [m for m in messages if 'WARNING' in m]
    checkpoint = _load_checkpoint(dst, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['arch'] == 'm1_0'
    assert list(checkpoint['state_dict']) == list(converted)
    # conversion is idempotent: the converted file loads through init_cfg
    assert convert_repvit(converted) == converted
    assert_features_match(pretrained_repvit('m1_0', dst), ref, [(64, 64)])


def test_converter_cli(tmp_path):
    state_dict = timm_reference('m0_9').state_dict()
    state_dict = dict(model=official_state_dict(state_dict))
    state_dict['model']['features.5.bogus.weight'] = torch.zeros(2)
    del state_dict['model']['features.7.channel_mixer.m.0.bn.bias']
    src, dst = str(tmp_path / 'src.pth'), str(tmp_path / 'dst.pth')
    torch.save(state_dict, src)
    result = subprocess.run([sys.executable, CONVERTER, src, dst], check=True,
                            cwd=ROOT, capture_output=True, text=True)
    assert 'official layout' in result.stdout
    assert 'arch m0_9' in result.stdout
    assert re.search(r'1 missing key\(s\): stages\.2\.0\.channel_mixer\.0\.bn'
                     r'\.bias', result.stdout)
    assert re.search(r'1 unexpected key\(s\): stages\.1\.2\.bogus\.weight',
                     result.stdout)
    # a deploy-form checkpoint is recognised as such
    model = RepViT('m0_9')
    model.switch_to_deploy()
    torch.save(model.state_dict(), src)
    messages = []
    load_converter().convert(src, dst, log=messages.append)
    assert 'arch m0_9 (deploy form)' in messages[1]
    assert not [m for m in messages if 'WARNING' in m]


def test_wrong_keys_reported(tmp_path, log_messages):
    state_dict = official_state_dict(timm_reference('m0_9').state_dict())
    state_dict['features.1.bogus.weight'] = torch.zeros(3)
    del state_dict['features.4.token_mixer.2.c.weight']
    path = str(tmp_path / 'net.pth')
    torch.save(dict(model=state_dict), path)
    result = load_pretrained_weights(RepViT('m0_9'), path,
                                     convert=convert_repvit)
    assert result.unexpected_keys == ['stages.0.0.bogus.weight']
    assert result.missing_keys == ['stages.1.1.channel_downsample.conv.weight']
    log_messages.clear()
    pretrained_repvit('m0_9', path)
    text = '\n'.join(log_messages)
    assert 'stages.0.0.bogus.weight' in text and 'unexpected' in text
    assert 'channel_downsample.conv.weight' in text and 'missing' in text


def test_wrong_arch_checkpoint_raises(tmp_path):
    path = str(tmp_path / 'net.pth')
    torch.save(timm_reference('m1_0').state_dict(), path)
    with pytest.raises(RuntimeError, match='size mismatch'):
        pretrained_repvit('m0_9', path)


# (e) freezing, drop path (norm_eval, bad arguments: test_backbone_contract) -
def _snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def _level(key):
    """The output index whose level computes ``key``: 0 for the stem's
    first (stride-2) conv, 1 for its second conv and stages.0, i + 1 for
    stages.i."""
    if key.startswith('stem.'):
        return int(key.split('.')[1])
    return int(key.split('.')[1]) + 1


@pytest.mark.parametrize('frozen_stages', [0, 1, 3, 4])
def test_frozen_stages(frozen_stages):
    torch.manual_seed(0)
    model = RepViT('m0_9', frozen_stages=frozen_stages)
    model.train()
    model.train()  # a second call must not unfreeze
    parts = [(0, model.stem[0]), (1, model.stem[1])] + [
        (i + 1, stage) for i, stage in enumerate(model.stages)]
    for level, part in parts:
        frozen = level <= frozen_stages
        assert all(p.requires_grad != frozen for p in part.parameters())
        assert all(m.training != frozen for m in part.modules())

    before = _snapshot(model)
    params = [p for p in model.parameters() if p.requires_grad]
    outs = model(torch.randn(2, 3, 64, 64))
    if params:
        optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9,
                                    weight_decay=0.1)
        sum(o.square().mean() for o in outs).backward()
        optimizer.step()
    after = model.state_dict()
    for key, value in before.items():  # parameters and BN statistics
        if _level(key) <= frozen_stages:
            assert torch.equal(after[key], value), key
    trainable = [k for k in before if _level(k) > frozen_stages]
    assert bool(trainable) == (frozen_stages < 4)
    if trainable:
        assert all(not torch.equal(after[k], before[k]) for k in trainable
                   if k.endswith('running_mean'))
        assert any(not torch.equal(after[k], before[k]) for k in trainable
                   if k.endswith('conv.weight'))


def test_drop_path():
    model = RepViT('m0_9', drop_path_rate=0.1)
    last = model.stages[-1][-1].drop_path
    assert last.drop_prob == pytest.approx(0.1)
    assert isinstance(model.stages[0][0].drop_path, nn.Identity)
    model.train()(torch.randn(2, 3, 64, 64))


pytestmark = pytest.mark.usefixtures('single_thread')
