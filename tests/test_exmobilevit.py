"""ExMobileViT: parameter counts vs the paper, the classifier head
(``ExMobileViTClsHead`` on the backbone's layer3 / layer4 / final conv on
index 4), the
dense ``ex_context`` extension, loading MobileViT-S weights and classifier
checkpoints, freezing and arguments."""
import math

import pytest
import timm
import torch
from mmengine.registry import MODELS
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401  (compat layer + registration)
from mmlightvit.models.backbones.exmobilevit import ExMobileViT
from mmlightvit.models.backbones.mobilevit import MobileViT
from mmlightvit.models.heads import ExMobileViTClsHead
from helpers import num_params, randomise  # noqa: E402

ARCHS = ('576', '640', '928')
MOBILEVIT_S = 5578632  # MobileViT-S with its 640 -> 1000 classifier
NUM_CLASSES = 1000
# Widths of the pooled vectors: ExShortcut(layer3), ExShortcut(layer4),
# final 1x1 conv(layer5); they sum to the variant's name.
EX_CHANNELS = {'576': (32, 64, 480), '640': (32, 128, 480),
               '928': (128, 160, 640)}
# Parameter counts in the paper's reading (see test_param_count_vs_paper):
# MobileViT-S + change of the final conv + change of the Linear classifier;
# the ExShortcut convs are not counted.
PAPER_COUNTS = {'576': 5488712, '640': 5552712, '928': 5866632}
# The classifiers (backbone + ExMobileViTClsHead, 1000 classes) counted in
# full: PAPER_COUNTS + the ExShortcuts.
FULL_COUNTS = {'576': 5500168, '640': 5572488, '928': 5899976}
# What the paper states: ExMobileViT-640 5.553M params, ExMobileViT-928
# +5.16% over MobileViT-S.
PAPER_640_MILLIONS = 5.553
PAPER_928_INCREASE = 5.16


def classifier_params(in_channels):
    return in_channels * NUM_CLASSES + NUM_CLASSES  # Linear with bias


# (a) parameter counts --------------------------------------------------------
def classifier(arch, num_classes=NUM_CLASSES):
    """The ExMobileViT classifier: backbone (layer3, layer4, final conv) +
    ExMobileViTClsHead, as the ImageNet configs build it."""
    return PRETRAIN_MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ExMobileViT', arch=arch, out_indices=(2, 3, 4),
                      final_conv=True),
        head=dict(type='ExMobileViTClsHead', num_classes=num_classes,
                  arch=arch)))


@pytest.mark.parametrize('arch', ARCHS)
def test_param_count_vs_paper(arch):
    """Exact decomposition; the paper's figures are reproduced exactly when
    the ExShortcut 1x1 convs (+ BN) are left out of the count, and the full
    count is within 0.6% of them (the ExShortcuts add 11,456 / 19,776 /
    33,344 parameters = 0.21% / 0.36% / 0.57%)."""
    model = classifier(arch)
    head = model.head
    assert isinstance(head, ExMobileViTClsHead)
    assert head.ex_channels + (head.in_channels[2], ) == EX_CHANNELS[arch]
    assert head.cls_channels == sum(EX_CHANNELS[arch]) == int(arch)
    assert head.fc.in_features == int(arch)
    total = num_params(model)
    assert total == FULL_COUNTS[arch]
    # the backbone has no classifier-side module but the final conv
    assert model.backbone.ex_shortcuts is None

    # decomposition: MobileViT-S + ExShortcuts + final-conv and FC changes
    (c3, c4), final = EX_CHANNELS[arch][:2], EX_CHANNELS[arch][2]
    shortcuts = 96 * c3 + 2 * c3 + 128 * c4 + 2 * c4  # 1x1 conv + BN
    assert num_params(head.ex_shortcuts) == shortcuts
    final_conv_change = (160 + 2) * (final - 640)
    fc_change = (int(arch) - 640) * NUM_CLASSES
    assert total == MOBILEVIT_S + shortcuts + final_conv_change + fc_change

    # the paper's reading
    assert total - shortcuts == PAPER_COUNTS[arch]
    assert abs(total - PAPER_COUNTS[arch]) / PAPER_COUNTS[arch] < 0.006
    if arch == '640':
        assert round(PAPER_COUNTS[arch] / 1e6, 3) == PAPER_640_MILLIONS
    if arch == '928':
        increase = 100 * (PAPER_COUNTS[arch] / MOBILEVIT_S - 1)
        assert round(increase, 2) == PAPER_928_INCREASE


def test_mobilevit_s_is_the_base():
    base = MobileViT('s', final_conv=True)
    assert num_params(base) + classifier_params(640) == MOBILEVIT_S
    ex = ExMobileViT('928', final_conv=True)
    assert ex.state_dict().keys() == base.state_dict().keys()
    assert all(v.shape == base.state_dict()[k].shape
               for k, v in ex.state_dict().items())
    dense = ExMobileViT('640')
    assert dense.ex_shortcuts is None and dense.final_conv is None
    assert dense.state_dict().keys() == MobileViT('s').state_dict().keys()


# (b) outputs -----------------------------------------------------------------
@pytest.mark.parametrize('arch', ARCHS)
def test_head_vector_and_logits(arch):
    model = randomise(classifier(arch, num_classes=10))
    x = torch.randn(2, 3, 65, 97)
    with torch.no_grad():
        feats = model.extract_feat(x)
        levels = model.backbone.forward_levels(x)
        vector = model.head.pre_logits(feats)
        logits = model(x, mode='tensor')
    assert [f.shape[1] for f in feats] == [96, 128, EX_CHANNELS[arch][2]]
    assert vector.shape == (2, int(arch)) and logits.shape == (2, 10)
    shortcuts = model.head.ex_shortcuts
    expected = torch.cat([
        shortcuts[0](levels[2]).mean((2, 3)),
        shortcuts[1](levels[3]).mean((2, 3)),
        levels[4].mean((2, 3))], dim=1)
    torch.testing.assert_close(vector, expected)
    torch.testing.assert_close(logits, model.head.fc(expected))
    # the (2, 3, 4) outputs of the backbone, and only those, fit the head
    model.backbone.out_indices = (1, 3, 4)
    with pytest.raises(ValueError,
                       match=r'out_indices=\(2, 3, 4\), final_conv=True'):
        model(x, mode='tensor')


@pytest.mark.parametrize('arch', ARCHS)
@pytest.mark.parametrize('size', [(64, 64), (65, 97)])
def test_ex_context_shapes(arch, size):
    model = randomise(ExMobileViT(arch, ex_context=True,
                                  out_indices=(0, 1, 2, 3, 4)))
    context = sum(EX_CHANNELS[arch][:2])
    assert model.out_channels == dict(enumerate(
        (32, 64, 96, 128, 160 + context)))
    with torch.no_grad():
        x = torch.randn(2, 3, *size)
        outs = model(x)
        levels = model.forward_levels(x)
    assert len(outs) == 5
    for i, out in enumerate(outs):
        stride = 2**(i + 1)
        assert out.shape == (2, model.out_channels[i],
                             math.ceil(size[0] / stride),
                             math.ceil(size[1] / stride))
    last = outs[-1]
    torch.testing.assert_close(last[:, :160], levels[4])
    ctx = last[:, 160:]  # spatially constant = the pooled ExShortcut vectors
    vectors = torch.cat(model.ex_vectors(levels), dim=1)
    torch.testing.assert_close(ctx, vectors[:, :, None, None].expand_as(ctx))


def test_ex_context_on_final_conv():
    model = ExMobileViT('928', ex_context=True, out_indices=(3, 4),
                        final_conv=True).eval()
    assert model.out_channels[4] == 640 + 288
    with torch.no_grad():
        l4, l5 = model(torch.randn(1, 3, 64, 64))
    assert l4.shape == (1, 128, 4, 4)
    assert l5.shape == (1, 928, 2, 2)


# (c) weights -----------------------------------------------------------------
def _timm_s_checkpoint(tmp_path):
    ref = randomise(timm.create_model('mobilevit_s'))
    path = str(tmp_path / 'mobilevit_s.pth')
    torch.save(ref.state_dict(), path)
    return ref, path


def test_loads_mobilevit_s(tmp_path, log_messages):
    ref, path = _timm_s_checkpoint(tmp_path)
    # 928's final conv is MobileViT-S's (640): everything loads
    model = ExMobileViT('928', out_indices=(0, 1, 2, 3, 4), final_conv=True,
                        init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs = model.eval()(x)
        expected = ref.final_conv(ref.stages(ref.stem(x)))
    torch.testing.assert_close(outs[4], expected, atol=1e-4, rtol=0)
    # with ex_context, only the (new) ExShortcuts are missing
    log_messages.clear()
    ExMobileViT('928', ex_context=True, init_cfg=dict(
        type='Pretrained', checkpoint=path)).init_weights()
    assert not [m for m in log_messages if 'unexpected' in m]
    (missing, ) = [m for m in log_messages if 'missing key' in m]
    keys = missing.split('.pth: ', 1)[1].split(', ')
    assert 'ex_shortcuts.0.conv.weight' in keys
    assert all(k.startswith('ex_shortcuts.') for k in keys)
    # dense ExMobileViT loads it without any warning
    log_messages.clear()
    dense = ExMobileViT('576', init_cfg=dict(type='Pretrained',
                                             checkpoint=path))
    dense.init_weights()
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    # the 480-wide final conv of 576/640 does not fit MobileViT-S's
    with pytest.raises(RuntimeError, match='size mismatch'):
        ExMobileViT('640', out_indices=(2, 3, 4), final_conv=True,
                    init_cfg=dict(type='Pretrained',
                                  checkpoint=path)).init_weights()


def test_classifier_checkpoint_into_dense_backbones(tmp_path, log_messages):
    """A checkpoint of the classifier (mmpretrain keys ``backbone.*`` and
    ``head.*``) gives the dense backbones their weights; with ex_context,
    the ExShortcuts come from the classifier head."""
    model = randomise(classifier('640', num_classes=10))
    path = str(tmp_path / 'exmobilevit-640_cls.pth')
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)
    cls_state = model.state_dict()

    dense = ExMobileViT('640', ex_context=True, init_cfg=dict(
        type='Pretrained', checkpoint=path))
    dense.init_weights()
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    for key, value in dense.state_dict().items():
        source = f'head.{key}' if key.startswith('ex_shortcuts.') \
            else f'backbone.{key}'
        assert torch.equal(value, cls_state[source]), key
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        context = dense.eval()(x)[-1][:, 160:, 0, 0]
        vector = model.head.pre_logits(model.extract_feat(x))
    torch.testing.assert_close(context, vector[:, :160])  # 32 + 128 wide

    # without ex_context (and final conv): MobileViT-S + nothing else,
    # silently
    log_messages.clear()
    plain = ExMobileViT('640', init_cfg=dict(type='Pretrained',
                                             checkpoint=path))
    plain.init_weights()
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert all(torch.equal(v, cls_state[f'backbone.{k}'])
               for k, v in plain.state_dict().items())


# (d) training modes ----------------------------------------------------------
def test_frozen_stages_and_norm_eval():
    model = ExMobileViT('640', ex_context=True, out_indices=(3, 4),
                        final_conv=True, frozen_stages=4,
                        norm_eval=True).train()
    frozen = [model.stem, model.layer1, model.layer5, model.final_conv]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in model.ex_shortcuts.parameters())
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert not any(m.training for m in bns)
    out = model(torch.randn(2, 3, 64, 64))[-1]
    out.square().mean().backward()
    assert model.ex_shortcuts[0].conv.weight.grad is not None


def test_registry():
    model = MODELS.build(dict(type='ExMobileViT', arch='ExMobileViT-640',
                              out_indices=(4, )))
    assert isinstance(model, MobileViT) and model.arch == '640'
    assert model.ex_channels == (32, 128)
    head = PRETRAIN_MODELS.build(dict(type='ExMobileViTClsHead',
                                      num_classes=5, arch=640))
    assert head.arch == '640' and head.cls_channels == 640


@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='700'), r"Unknown ExMobileViT arch '700'; valid archs: "
     r'576, 640, 928'),
    (dict(out_indices=(1, 5)),
     r'out_indices of ExMobileViT must be among 0, 1, 2, 3, 4'),
    (dict(out_indices=()), r'out_indices of ExMobileViT must not be empty'),
    (dict(ex_context=True, out_indices=(1, 2, 3)),
     r'ex_context .* index 4, which must be among the out_indices'),
    (dict(frozen_stages=5),
     r'frozen_stages of ExMobileViT must be in range -1\.\.4'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ExMobileViT(**kwargs)
    if 'arch' in kwargs:
        with pytest.raises(ValueError, match=match):
            ExMobileViTClsHead(num_classes=10, arch=kwargs['arch'])


pytestmark = pytest.mark.usefixtures('single_thread')
