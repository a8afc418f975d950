"""One contract for every backbone (mmlightvit.models.backbones.base): index i
of ``out_indices`` is the feature map of stride 2**(i + 1), ``out_channels``
gives its width, an index a family lacks is refused with the valid ones,
``frozen_stages=k`` freezes what computes the indices up to k, and
``init_cfg=Pretrained`` goes through the family's conversion hook."""
import pytest
import torch
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401  (registration)
from mmlightvit.models.backbones import (EMO, BaseBackbone, ExMobileViT,
                                         MobileViT, RepViT)

# one (small) arch per family: registered name, arch, channels of 1-4
FAMILIES = {
    'EMO': ('1M', (32, 48, 80, 168)),
    'RepViT': ('m0_9', (48, 96, 192, 384)),
    'MobileViTBackbone': ('xxs', (24, 48, 64, 80)),
    'ExMobileViT': ('576', (64, 96, 128, 160)),
}
# indices each family offers
OUT_LEVELS = {'EMO': (0, 1, 2, 3, 4), 'RepViT': (1, 2, 3, 4),
              'MobileViTBackbone': (0, 1, 2, 3, 4),
              'ExMobileViT': (0, 1, 2, 3, 4)}
SIZE = (96, 128)  # divisible by 32: every stride is exact


def build(name, **kwargs):
    arch, _ = FAMILIES[name]
    return MODELS.build(dict(type=name, arch=arch, **kwargs))


@pytest.mark.parametrize('name', list(FAMILIES))
def test_dense_indices_are_strides_4_to_32(name):
    model = build(name, out_indices=(1, 2, 3, 4)).eval()
    assert isinstance(model, BaseBackbone)
    assert model.out_indices == (1, 2, 3, 4)
    _, channels = FAMILIES[name]
    assert [model.out_channels[i] for i in model.out_indices] == \
        list(channels)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *SIZE))
    assert len(outs) == 4
    for index, out in zip(model.out_indices, outs):
        stride = 2**(index + 1)
        assert SIZE[0] / out.shape[2] == SIZE[1] / out.shape[3] == stride
        assert out.shape[1] == model.out_channels[index]


@pytest.mark.parametrize('name', list(FAMILIES))
def test_every_offered_index(name):
    model = build(name, out_indices=OUT_LEVELS[name]).eval()
    assert tuple(model.out_levels) == OUT_LEVELS[name]
    assert sorted(model.out_channels) == list(OUT_LEVELS[name])
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *SIZE))
    for index, out in zip(OUT_LEVELS[name], outs):
        assert out.shape[2:] == (SIZE[0] >> index + 1, SIZE[1] >> index + 1)
        assert out.shape[1] == model.out_channels[index]


@pytest.mark.parametrize('name,index', [
    ('EMO', 5), ('RepViT', 0), ('RepViT', 5), ('MobileViTBackbone', 5),
    ('ExMobileViT', 5)])
def test_missing_index_refused_with_valid_ones(name, index):
    family = MODELS.get(name).__name__
    valid = ', '.join(map(str, OUT_LEVELS[name]))
    with pytest.raises(ValueError, match=(
            rf'out_indices of {family} must be among {valid} \(index i = '
            rf'the feature map of stride 2\*\*\(i \+ 1\)\), got \(1, '
            rf'{index}\)')):
        build(name, out_indices=(1, index))


@pytest.mark.parametrize('name', list(FAMILIES))
def test_out_indices_int_sorted_unique(name):
    assert build(name, out_indices=4).out_indices == (4, )
    assert build(name, out_indices=(4, 2, 4)).out_indices == (2, 4)


@pytest.mark.parametrize('name', list(FAMILIES))
@pytest.mark.parametrize('frozen_stages', [-1, 0, 2, 4])
def test_frozen_stages_up_to_index(name, frozen_stages):
    """``frozen_stages=k``: outputs of the indices <= k do not depend on any
    trainable parameter, later ones do; frozen modules stay in eval mode."""
    indices = tuple(i for i in (1, 2, 3, 4) if i in OUT_LEVELS[name])
    model = build(name, out_indices=indices, frozen_stages=frozen_stages,
                  norm_eval=False).train()
    outs = model(torch.randn(2, 3, 64, 64))
    for index, out in zip(indices, outs):
        assert out.requires_grad == (index > frozen_stages), index
    for index in range(frozen_stages + 1):
        for module in model.level_modules(index):
            assert not any(m.training for m in module.modules())
            assert not any(p.requires_grad for p in module.parameters())
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert any(m.training for m in bns) == (frozen_stages < 4)


@pytest.mark.parametrize('name', list(FAMILIES))
@pytest.mark.parametrize('frozen_stages', [5, -2])
def test_frozen_stages_range(name, frozen_stages):
    with pytest.raises(ValueError, match=r'frozen_stages of \w+ must be in '
                       r'range -1\.\.4 \(-1 = none; k freezes the levels up '
                       rf'to stride 2\*\*\(k \+ 1\)\), got {frozen_stages}'):
        build(name, frozen_stages=frozen_stages)


@pytest.mark.parametrize('name', list(FAMILIES))
def test_negative_or_no_index_refused(name):
    family = MODELS.get(name).__name__
    with pytest.raises(ValueError, match=rf'out_indices of {family} must be '
                       r'among .*got \(-1,\)'):
        build(name, out_indices=(-1, ))
    with pytest.raises(ValueError,
                       match=rf'out_indices of {family} must not be empty'):
        build(name, out_indices=())


@pytest.mark.parametrize('name', list(FAMILIES))
def test_norm_eval_freezes_only_batch_norm_statistics(name):
    """``norm_eval=True``: in training mode every BatchNorm stays in eval
    mode (its statistics do not move), every other module trains (other
    norms included), every parameter still takes gradients."""
    model = build(name, norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(m.training for m in bns)
    assert all(m.training for m in model.modules()
               if not isinstance(m, _BatchNorm))
    stats = {k: v.clone() for k, v in model.state_dict().items()
             if 'running' in k or 'num_batches' in k}
    model(torch.randn(2, 3, 64, 64))
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in stats.items())
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize('cls', [EMO, RepViT, MobileViT, ExMobileViT])
def test_unknown_arch_lists_valid_ones(cls):
    valid = ', '.join(cls.arch_settings)
    with pytest.raises(ValueError, match=rf"Unknown {cls.__name__} arch "
                       rf"'nope'; valid archs: {valid}$"):
        cls(arch='nope')


@pytest.mark.parametrize('name', list(FAMILIES))
def test_pretrained_goes_through_conversion_hook(name, tmp_path,
                                                 monkeypatch, log_messages):
    """``init_cfg=Pretrained`` loads through ``convert_checkpoint`` (here
    wrapped to record its call) and the whole model's ``backbone.`` part."""
    source = build(name)
    path = str(tmp_path / 'whole.pth')
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in source.state_dict().items()}),
               path)
    model = build(name, init_cfg=dict(type='Pretrained', checkpoint=path))
    calls = []
    convert = type(model).convert_checkpoint

    def recording(self, state_dict):
        calls.append(len(state_dict))
        return convert(self, state_dict)

    monkeypatch.setattr(type(model), 'convert_checkpoint', recording)
    model.init_weights()
    assert calls
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    assert all(torch.equal(v, source.state_dict()[k])
               for k, v in model.state_dict().items())


pytestmark = pytest.mark.usefixtures('single_thread')
