"""`import mmlightvit` registers every backbone once, in MMEngine's root MODELS
registry, where mmseg's and mmdet's scoped registries both find it."""
from importlib import import_module

import pytest
import torch
from mmengine.registry import MODELS

import mmlightvit  # noqa: F401
from mmlightvit.models import backbones


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_backbones_found_from_each_scope(scope):
    scoped = import_module(f'{scope}.registry').MODELS
    for name in backbones.__all__:
        assert MODELS.get(name) is getattr(backbones, name)
        assert scoped.get(name) is getattr(backbones, name)
    model = scoped.build(dict(type='EMO', arch='1M', out_indices=(4, )))
    assert model(torch.zeros(1, 3, 64, 64))[0].shape == (1, 168, 2, 2)


def test_registered_once():
    names = [n for n in MODELS.module_dict if n in backbones.__all__]
    assert sorted(names) == sorted(backbones.__all__)
