"""The official EMO as data (tests/data/emo_official/, see its README.md): the
checkpoint layout of EMO_1M .. EMO_6M and the official model's outputs for
weights drawn by a fixed rule. This module implements that rule, so tests
can build the official checkpoint and compare against the stored outputs."""
import json
import math
import os.path as osp
from collections import OrderedDict

import numpy as np
import torch

DATA = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'emo_official')
BUFFER_SUFFIXES = ('running_mean', 'running_var', 'num_batches_tracked')
CLASSIFIER_PREFIXES = ('norm.', 'head.')  # final LayerNorm2d + Linear


def cases():
    """The entries of ``cases.json``: ``file``, ``arch``, ``window_size``,
    ``input_hw`` and the shape of every stored output."""
    with open(osp.join(DATA, 'cases.json')) as f:
        return json.load(f)


def case_id(case):
    return osp.splitext(case['file'])[0]


def layout(arch):
    """``[(key, shape, dtype), ...]`` of the official ``EMO_<arch>()``
    state_dict, in its order."""
    with open(osp.join(DATA, f'emo_{arch.lower()}_layout.json')) as f:
        return [(key, tuple(shape), dtype)
                for key, shape, dtype in json.load(f)]


def official_num_params(arch):
    """Parameters of the official classifier (buffers excluded)."""
    return sum(math.prod(shape) for key, shape, _ in layout(arch)
               if not key.endswith(BUFFER_SUFFIXES))


def official_state_dict(arch):
    """The official state_dict with the weights of the README's rule: one
    generator seeded with 0, walked in layout order."""
    g = torch.Generator().manual_seed(0)
    state_dict = OrderedDict()
    for key, shape, dtype in layout(arch):
        if dtype != 'float32':
            value = torch.zeros(shape, dtype=getattr(torch, dtype))
        elif len(shape) >= 2:
            value = torch.randn(shape, generator=g) / math.sqrt(
                math.prod(shape[1:]))
        elif key.endswith('running_var'):
            value = torch.rand(shape, generator=g) + 0.5
        elif key.endswith('.weight'):
            value = 1 + 0.1 * torch.randn(shape, generator=g)
        else:
            value = 0.1 * torch.randn(shape, generator=g)
        state_dict[key] = value
    return state_dict


def official_input(case):
    h, w = case['input_hw']
    return torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(1))


def official_outputs(case):
    """``{name: tensor}``: ``stem`` (when stored), ``stage1``..``stage4``
    and ``logits``."""
    with np.load(osp.join(DATA, case['file'])) as data:
        return {name: torch.from_numpy(data[name]) for name in data.files}


def assert_close_relative(got, expected, name, rtol=1e-5):
    """Same shape, and the largest difference within ``rtol`` of the
    largest magnitude of ``expected``."""
    assert got.shape == expected.shape, (name, got.shape, expected.shape)
    diff = (got - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert diff <= rtol * scale, \
        f'{name}: max abs diff {diff:.3g} > {rtol} x {scale:.3g}'
