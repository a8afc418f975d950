"""MobileViT backbone: equivalence with timm (Apple's weights converted), the
ml-cvnets and mmpretrain layouts, parameter counts, odd sizes, freezing,
arguments."""
import importlib
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

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit.models.backbones.mobilevit import MobileViT, convert_mobilevit
from mmlightvit.models.checkpoint import load_pretrained_weights
from helpers import ROOT, num_params

CONVERTER = osp.join(ROOT, 'tools', 'model_converters',
                     'mobilevit2mmlightvit.py')
ARCHS = ('xxs', 'xs', 's')
# timm / ml-cvnets parameter totals with the 1000-class head
OFFICIAL_TOTALS = {'xxs': 1272024, 'xs': 2317848, 's': 5578632}
# channels of layer1..layer5 (out_indices 0-4) and of the final conv
OUT_CHANNELS = {
    'xxs': [16, 24, 48, 64, 80, 320],
    'xs': [32, 48, 64, 80, 96, 384],
    's': [32, 64, 96, 128, 160, 640],
}
ALL_OUTS = (0, 1, 2, 3, 4)
TRANSFORMER_DEPTHS = (2, 4, 3)


def randomised(model):
    """``model`` with random biases, norm affines and BN running statistics
    (O(1), so features stay well-scaled), in eval mode."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:  # biases and norm affines
                base = 1. if name.endswith('weight') else 0.
                p.copy_(base + 0.2 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.)
                m.num_batches_tracked.fill_(7)
    model.eval()  # (mmpretrain's MobileViT.train returns None)
    return model


def randomised_timm(arch, seed=0):
    """timm ``mobilevit_<arch>`` with random weights (see randomised)."""
    torch.manual_seed(seed)
    return randomised(timm.create_model(f'mobilevit_{arch}',
                                        pretrained=False))


def timm_levels(ref, x):
    """layer1..layer5 and final conv outputs of a timm MobileViT."""
    x = ref.stem(x)
    outs = []
    for stage in ref.stages:
        x = stage(x)
        outs.append(x)
    outs.append(ref.final_conv(x))
    return outs


# Independent timm -> ml-cvnets renaming (module names of ml-cvnets
# MobileViT, InvertedResidual, MobileViTBlock, TransformerEncoder, ConvLayer).
_TO_CVNETS = (
    (r'^stem\.', 'conv_1.'),
    (r'^final_conv\.', 'conv_1x1_exp.'),
    (r'^head\.fc\.', 'classifier.fc.'),
    (r'^stages\.(\d+)\.', lambda m: f'layer_{int(m.group(1)) + 1}.'),
    (r'\.conv1_1x1\.', '.block.exp_1x1.'),
    (r'\.conv2_kxk\.', '.block.conv_3x3.'),
    (r'\.conv3_1x1\.', '.block.red_1x1.'),
    (r'\.conv_kxk\.', '.local_rep.conv_3x3.'),
    (r'\.conv_1x1\.weight$', '.local_rep.conv_1x1.conv.weight'),
    (r'\.conv_fusion\.', '.fusion.'),
    (r'\.transformer\.(\d+)\.norm1\.', r'.global_rep.\1.pre_norm_mha.0.'),
    (r'\.transformer\.(\d+)\.attn\.qkv\.',
     r'.global_rep.\1.pre_norm_mha.1.qkv_proj.'),
    (r'\.transformer\.(\d+)\.attn\.proj\.',
     r'.global_rep.\1.pre_norm_mha.1.out_proj.'),
    (r'\.transformer\.(\d+)\.norm2\.', r'.global_rep.\1.pre_norm_ffn.0.'),
    (r'\.transformer\.(\d+)\.mlp\.fc1\.', r'.global_rep.\1.pre_norm_ffn.1.'),
    (r'\.transformer\.(\d+)\.mlp\.fc2\.', r'.global_rep.\1.pre_norm_ffn.4.'),
    (r'^layer_(\d+)\.1\.norm\.', lambda m: (
        f'layer_{m.group(1)}.1.global_rep.'
        f'{TRANSFORMER_DEPTHS[int(m.group(1)) - 3]}.')),
    (r'\.conv\.weight$', '.block.conv.weight'),  # ConvNormAct -> ConvLayer
    (r'\.bn\.', '.block.norm.'),
)


def to_cvnets_layout(state_dict):
    converted = {}
    for key, value in state_dict.items():
        for pattern, repl in _TO_CVNETS:
            key = re.sub(pattern, repl, key)
        converted[key] = value
    return converted


def load_converter():
    spec = importlib.util.spec_from_file_location('mobilevit2mmlightvit',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pretrained(arch, checkpoint, final_conv=True, **kwargs):
    model = MobileViT(arch, out_indices=ALL_OUTS, final_conv=final_conv,
                      init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
                      **kwargs)
    model.init_weights()
    return model.eval()


def assert_matches(model, ref, sizes, seed=1, logits=True):
    """``model`` (final_conv=True, out_indices 0-4): layer1..layer4, the
    final conv on index 4, layer5 itself and the classifier's logits equal
    timm's."""
    torch.manual_seed(seed)
    for h, w in sizes:
        x = torch.randn(2, 3, h, w)
        with torch.no_grad():
            expected = timm_levels(ref, x)
            got = model(x)
            assert len(got) == 5
            got = [*got[:4], model.layer5(got[3]), got[4]]
            for i, (g, e) in enumerate(zip(got, expected)):
                assert g.shape == e.shape, (i, h, w)
                diff = (g - e).abs().max().item()
                assert diff < 1e-4, f'level {i} at {h}x{w}: max diff {diff}'
            if logits:  # classification: pool + timm's own head weights
                diff = (ref.head.fc(got[5].mean((2, 3))) - ref(x)).abs().max()
                assert diff.item() < 1e-4, f'logits at {h}x{w}: {diff}'


# (a) parameter counts --------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_param_count(arch):
    total = OFFICIAL_TOTALS[arch]
    assert num_params(timm.create_model(f'mobilevit_{arch}')) == total
    final = OUT_CHANNELS[arch][-1]
    head = final * 1000 + 1000  # Linear head
    final_conv = OUT_CHANNELS[arch][4] * final + 2 * final  # 1x1 conv + BN
    assert num_params(MobileViT(arch, final_conv=True)) + head == total
    assert num_params(MobileViT(arch)) + final_conv + head == total


# (b) equivalence with timm (Apple's weights converted) ---------------------
@pytest.mark.parametrize('arch,sizes', [
    ('xxs', [(64, 64), (65, 97), (256, 256)]),
    ('xs', [(64, 64), (65, 97)]),
    ('s', [(64, 64), (65, 97)]),
])
def test_matches_timm(arch, sizes, tmp_path, log_messages):
    ref = randomised_timm(arch)
    path = str(tmp_path / 'timm.pth')
    torch.save(ref.state_dict(), path)
    model = pretrained(arch, path)
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert_matches(model, ref, sizes)


@pytest.mark.parametrize('arch', ARCHS)
def test_cvnets_layout(arch, tmp_path, log_messages):
    ref = randomised_timm(arch, seed=2)
    state_dict = to_cvnets_layout(ref.state_dict())
    assert 'conv_1.block.conv.weight' in state_dict
    assert 'layer_5.1.global_rep.3.weight' in state_dict  # final LayerNorm
    assert 'classifier.fc.weight' in state_dict
    path = str(tmp_path / f'mobilevit_{arch}.pt')
    torch.save(state_dict, path)  # released ml-cvnets files: bare state_dict
    model = pretrained(arch, path)
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert_matches(model, ref, [(65, 97)])
    # a dense backbone (no final conv) ignores it without warnings
    log_messages.clear()
    dense = pretrained(arch, path, final_conv=False)
    assert dense.final_conv is None
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]


def test_convert_layouts():
    ref = randomised_timm('xxs')
    timm_sd = ref.state_dict()
    from_timm = convert_mobilevit(timm_sd)
    from_cvnets = convert_mobilevit(to_cvnets_layout(timm_sd))
    expected = MobileViT('xxs', final_conv=True).state_dict()
    assert list(from_timm) == list(expected)
    assert list(from_cvnets) == list(expected)
    assert all(torch.equal(from_timm[k], from_cvnets[k]) for k in from_timm)
    # ml-cvnets segmentation models: ``encoder.`` + ``seg_head.``
    seg = {f'encoder.{k}': v for k, v in to_cvnets_layout(timm_sd).items()
           if not k.startswith('head.')}
    seg['seg_head.aspp_layer.0.weight'] = torch.zeros(1)
    assert list(convert_mobilevit(seg)) == list(expected)
    # converted and downstream (``backbone.`` prefixed) keys pass through
    assert convert_mobilevit(from_timm).keys() == from_timm.keys()
    downstream = {f'backbone.{k}': v for k, v in from_timm.items()}
    downstream['head.fc.weight'] = torch.zeros(1)
    assert convert_mobilevit(downstream).keys() == from_timm.keys()


@pytest.mark.parametrize('arch', ['xxs', 's'])
def test_offline_converter(arch, tmp_path):
    ref = randomised_timm(arch)
    src, dst = str(tmp_path / 'src.pt'), str(tmp_path / 'out' / 'mvit.pth')
    torch.save(dict(model=to_cvnets_layout(ref.state_dict())), src)
    load_converter().convert(src, dst)
    checkpoint = _load_checkpoint(dst, map_location='cpu')
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['layout'] == 'ml-cvnets'
    model = MobileViT(arch, out_indices=ALL_OUTS, final_conv=True)
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert_matches(model.eval(), ref, [(64, 64)])
    assert_matches(pretrained(arch, dst), ref, [(64, 64)])


def test_converter_cli(tmp_path):
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'mvit.pth')
    torch.save(randomised_timm('xxs').state_dict(), src)
    subprocess.run([sys.executable, CONVERTER, src, dst], check=True,
                   cwd=ROOT, capture_output=True)
    state_dict = _load_checkpoint(dst, map_location='cpu')['state_dict']
    MobileViT('xxs', final_conv=True).load_state_dict(state_dict, strict=True)


def test_wrong_keys_reported(tmp_path, log_messages):
    state_dict = randomised_timm('xxs').state_dict()
    state_dict['stages.0.0.bogus.weight'] = torch.zeros(3)
    del state_dict['stages.2.1.conv_1x1.weight']
    path = str(tmp_path / 'timm.pth')
    torch.save(dict(state_dict=state_dict), path)
    result = load_pretrained_weights(
        MobileViT('xxs'), path, convert=convert_mobilevit)
    final_conv = {k for k in MobileViT('xxs', final_conv=True).state_dict()
                  if k.startswith('final_conv.')}
    assert len(final_conv) == 6  # conv weight + BN (4 tensors + counter)
    assert set(result.unexpected_keys) == {'layer1.0.bogus.weight',
                                           *final_conv}
    assert result.missing_keys == ['layer3.1.local_rep.1.conv.weight']
    log_messages.clear()
    pretrained('xxs', path, final_conv=False)  # final conv not reported
    text = '\n'.join(log_messages)
    assert 'layer1.0.bogus.weight' in text and 'unexpected' in text
    assert 'layer3.1.local_rep.1.conv.weight' in text and 'missing' in text
    assert 'final_conv' not in text


def test_wrong_arch_checkpoint_raises(tmp_path):
    path = str(tmp_path / 'timm.pth')
    torch.save(timm.create_model('mobilevit_xs').state_dict(), path)
    with pytest.raises(RuntimeError, match='size mismatch'):
        pretrained('xxs', path)


# (c) shapes, odd sizes -------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('size', [(64, 64), (65, 97), (33, 47)])
@pytest.mark.parametrize('final_conv', [False, True])
def test_output_shapes(arch, size, final_conv):
    model = MobileViT(arch, out_indices=ALL_OUTS,
                      final_conv=final_conv).eval()
    channels = OUT_CHANNELS[arch][:4] + [
        OUT_CHANNELS[arch][5 if final_conv else 4]]
    assert model.out_channels == dict(enumerate(channels))
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert len(outs) == 5
    for i, out in enumerate(outs):
        stride = 2**(i + 1)
        assert out.shape == (1, channels[i], math.ceil(size[0] / stride),
                             math.ceil(size[1] / stride))


def test_registry_and_subset():
    model = MODELS.build(dict(type='MobileViTBackbone', arch='small',
                              out_indices=(4, 2))).eval()
    assert model.arch == 's' and model.out_indices == (2, 4)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [96, 160]


def test_no_name_clash_with_mmpretrain():
    """mmpretrain has its own ``MobileViT``; ours is ``'MobileViTBackbone'``
    in every scope (mmseg, mmdet, mmpretrain) and does not take the name
    ``'MobileViT'``."""
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmpretrain.models.backbones import MobileViT as PretrainMobileViT
    assert MODELS.get('MobileViT') is None
    assert PRETRAIN_MODELS.get('MobileViT') is PretrainMobileViT
    for scope in ('mmpretrain', 'mmseg', 'mmdet'):
        registry = importlib.import_module(f'{scope}.registry').MODELS
        assert registry.get('MobileViTBackbone') is MobileViT
    model = PRETRAIN_MODELS.build(dict(type='MobileViTBackbone', arch='xxs'))
    assert isinstance(model, MobileViT)


def test_mmpretrain_layout(tmp_path, log_messages):
    """mmpretrain's own MobileViT (its converted Apple weights) loads: same
    blocks, other key names; same outputs."""
    from mmpretrain.models.backbones import MobileViT as PretrainMobileViT
    torch.manual_seed(0)
    ref = randomised(PretrainMobileViT('xx_small',
                                       out_indices=(0, 1, 2, 3, 4)))
    path = str(tmp_path / 'mobilevit-xxsmall_3rdparty_in1k.pth')
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in ref.state_dict().items()}), path)
    model = pretrained('xxs', path)
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    x = torch.randn(2, 3, 65, 97)
    with torch.no_grad():
        expected, got = ref(x), model(x)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape, i
        diff = (g - e).abs().max().item()
        assert diff < 1e-4, f'level {i}: max diff {diff}'



def _drop_probs(model):
    """Stochastic depth of the attention and FFN branches of every
    transformer layer."""
    return [(m.attn.out_drop.drop_prob, m.ffn.dropout_layer.drop_prob)
            for m in model.modules() if hasattr(m, 'ffn')]


def test_hyperparameters():
    model = MobileViT('s', drop_path_rate=0.1)
    layers = [m for m in model.modules() if hasattr(m, 'ffn')]
    assert len(layers) == sum(TRANSFORMER_DEPTHS)
    probs = _drop_probs(model)
    assert all(attn == ffn for attn, ffn in probs)
    probs = [attn for attn, _ in probs]
    assert probs[0] == 0. and probs[-1] == pytest.approx(0.1)
    assert probs == sorted(probs)
    assert all(m.attn.num_heads == 4 for m in layers)
    assert all(p == (0., 0.) for p in _drop_probs(MobileViT('s')))
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    assert len(norms) == 2 * 9 + 3 and all(m.eps == 1e-5 for m in norms)
    sync = MobileViT('s', norm_cfg=dict(type='SyncBN'))
    assert sync.state_dict().keys() == MobileViT('s').state_dict().keys()


# (d) freezing ----------------------------------------------------------------
def _level(key):
    if key.startswith(('stem.', 'layer1.')):
        return 0
    if key.startswith('final_conv.'):
        return 4
    return int(key[len('layer')]) - 1


@pytest.mark.parametrize('frozen_stages', [0, 2, 4])
def test_frozen_stages(frozen_stages):
    torch.manual_seed(0)
    model = MobileViT('xxs', out_indices=ALL_OUTS, final_conv=True,
                      frozen_stages=frozen_stages)
    model.train()
    model.train()  # a second call must not unfreeze
    for name, module in model.named_children():
        frozen = _level(name + '.') <= frozen_stages
        assert all(p.requires_grad != frozen for p in module.parameters())
        assert all(m.training != frozen for m in module.modules())

    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    outs = model(torch.randn(2, 3, 64, 64))
    if trainable:
        optimizer = torch.optim.SGD(trainable, lr=0.1, momentum=0.9,
                                    weight_decay=0.1)
        sum(o.square().mean() for o in outs).backward()
        optimizer.step()
    else:  # everything frozen
        assert not any(o.requires_grad for o in outs)
    after = model.state_dict()
    for key, value in before.items():  # parameters and BN statistics
        if _level(key) <= frozen_stages:
            assert torch.equal(after[key], value), key
    changed = [k for k in before if _level(k) > frozen_stages]
    assert not trainable or any(
        not torch.equal(after[k], before[k]) for k in changed)


pytestmark = pytest.mark.usefixtures('single_thread')
