"""`import mmlightvit` registers every backbone once, in MMEngine's root MODELS
registry, where mmseg's, mmdet's and mmpretrain's scoped registries all find
it; no name shadows one of those libraries' own models."""
from importlib import import_module

import pytest
import torch
from mmengine.registry import MODELS

import mmlightvit  # noqa: F401
from mmlightvit.models import backbones

# registered name -> class (MobileViT: mmpretrain has a 'MobileViT' of its own)
REGISTERED = {'EMO': backbones.EMO, 'RepViT': backbones.RepViT,
              'MobileViTBackbone': backbones.MobileViT,
              'ExMobileViT': backbones.ExMobileViT}
SCOPES = ('mmseg', 'mmdet', 'mmpretrain')


@pytest.mark.parametrize('scope', SCOPES)
def test_backbones_found_from_each_scope(scope):
    scoped = import_module(f'{scope}.registry').MODELS
    for name, cls in REGISTERED.items():
        assert MODELS.get(name) is cls
        assert scoped.get(name) is cls
    model = scoped.build(dict(type='EMO', arch='1M', out_indices=(4, )))
    assert model(torch.zeros(1, 3, 64, 64))[0].shape == (1, 168, 2, 2)


def test_registered_once():
    ours = {name for name, cls in MODELS.module_dict.items()
            if cls.__module__.startswith('mmlightvit.models.backbones')}
    assert ours == set(REGISTERED)
    assert set(REGISTERED.values()) == {
        getattr(backbones, name) for name in backbones.__all__
        if name != 'BaseBackbone'}


@pytest.mark.parametrize('scope', SCOPES)
def test_no_name_of_the_stack_is_shadowed(scope):
    """Inside each library's own scope, its names mean its own models."""
    scoped = import_module(f'{scope}.registry').MODELS
    import_module(f'{scope}.models')  # registers the library's models
    for name in REGISTERED:
        assert name not in scoped.module_dict, (scope, name)
