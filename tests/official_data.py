"""Official models as data (tests/data/*_official/, see their README.md):
checkpoint layouts and the official models' outputs for weights drawn by a
fixed rule. This module implements that rule (:func:`draw_weights`) and the
input rule, so tests can build an official checkpoint and compare against
the stored outputs; and reads the EMO fixtures (tests/data/emo_official/:
EMO_1M .. EMO_6M)."""
import json
import math
import os.path as osp
from collections import OrderedDict

import numpy as np
import torch

EMO_DATA = osp.join(osp.dirname(osp.abspath(__file__)), 'data',
                    'emo_official')
BUFFER_SUFFIXES = ('running_mean', 'running_var', 'num_batches_tracked')


def cases():
    """The entries of ``cases.json``: ``file``, ``arch``, ``window_size``,
    ``input_hw`` and the shape of every stored output."""
    with open(osp.join(EMO_DATA, 'cases.json')) as f:
        return json.load(f)


def case_id(case):
    return osp.splitext(case['file'])[0]


def layout(arch):
    """``[(key, shape, dtype), ...]`` of the official ``EMO_<arch>()``
    state_dict, in its order."""
    with open(osp.join(EMO_DATA, f'emo_{arch.lower()}_layout.json')) as f:
        return [(key, tuple(shape), dtype)
                for key, shape, dtype in json.load(f)]


def official_num_params(arch):
    """Parameters of the official classifier (buffers excluded)."""
    return sum(math.prod(shape) for key, shape, _ in layout(arch)
               if not key.endswith(BUFFER_SUFFIXES))


def official_state_dict(arch):
    """The official EMO state_dict with the weights of the README's rule."""
    return draw_weights(layout(arch))


def draw_weights(layout, seed=0):
    """The fixtures' weight rule: one generator seeded with ``seed`` walks
    ``layout`` (``(key, shape, dtype)`` in state_dict order)."""
    g = torch.Generator().manual_seed(seed)
    state_dict = OrderedDict()
    for key, shape, dtype in layout:
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
    """The fixtures' input rule for an EMO case (or ``(H, W)``)."""
    h, w = case['input_hw'] if isinstance(case, dict) else case
    return torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(1))


def official_outputs(case):
    """``{name: tensor}``: ``stem`` (when stored), ``stage1``..``stage4``
    and ``logits``."""
    with np.load(osp.join(EMO_DATA, case['file'])) as data:
        return {name: torch.from_numpy(data[name]) for name in data.files}


def assert_close_relative(got, expected, name, rtol=1e-5):
    """Same shape, and the largest difference within ``rtol`` of the
    largest magnitude of ``expected``."""
    assert got.shape == expected.shape, (name, got.shape, expected.shape)
    diff = (got - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert diff <= rtol * scale, \
        f'{name}: max abs diff {diff:.3g} > {rtol} x {scale:.3g}'
