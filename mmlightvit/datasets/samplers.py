"""ml-cvnets' multi-scale variable-batch sampler (MobileViT's ImageNet recipe)
as an mmengine batch sampler, and the crop transform that follows it.

MobileViT is trained on crops of several sizes: every batch is drawn at one of
a few (height, width) scales, with a batch size that keeps the number of
pixels per batch that of the base scale (e.g. 128 crops of 256x256 per GPU).
Facts of ml-cvnets (``data/sampler/variable_batch_sampler.py``,
``data/sampler/utils.py``) kept here:

* the scales are ``num_scales`` values evenly spaced from ``min_size`` to
  ``max_size`` plus the base size, each rounded to a multiple of
  ``size_divisor`` (``make_divisible``: to the nearest multiple, one up when
  that loses more than 10%); heights and widths are paired in sorted order
  and repeated pairs merged: for base 256, 160..320, 5 scales, /32: 160, 192,
  256, 288, 320;
* the batch size of a scale is ``max(1, int(round(base_h * base_w *
  batch_size / (h * w), 2)))``: 327, 227, 128, 101, 81 for 128 at 256x256;
* every batch picks its scale at random (the same sequence on every process:
  the generator is seeded by the sampler's seed and epoch, as ml-cvnets
  seeds Python's by the epoch), takes the next indices of the epoch and, at
  the end, fills up with the first ones.

:class:`VariableBatchSampler` wraps an index sampler (``DefaultSampler``:
shuffling, one shard per process, ``set_epoch``) and yields lists of
:class:`ScaledIndex`, indices that carry their batch's crop size; the
dataset stores the index as ``sample_idx``, where
:class:`VariableRandomResizedCrop` reads the size.
"""
import random

import numpy as np
from mmengine.registry import DATA_SAMPLERS
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.models.utils import make_divisible
from mmpretrain.registry import TRANSFORMS
from torch.utils.data import BatchSampler

__all__ = ['ScaledIndex', 'VariableBatchSampler', 'VariableRandomResizedCrop',
           'variable_batch_scales']


class ScaledIndex(int):
    """A dataset index that carries the ``(h, w)`` crop size of its batch."""

    def __new__(cls, index, crop_size):
        self = super().__new__(cls, index)
        self.crop_size = tuple(crop_size)
        return self

    def __reduce__(self):  # to the dataloader's worker processes
        return ScaledIndex, (int(self), self.crop_size)

    def __repr__(self):
        return f'ScaledIndex({int(self)}, crop_size={self.crop_size})'


def _pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def _sizes(base, low, high, num_scales, size_divisor):
    values = set(np.linspace(low, high, num_scales).tolist()) | {base}
    return sorted(make_divisible(v, size_divisor) for v in values)


def variable_batch_scales(batch_size, base_size=256, min_size=160,
                          max_size=320, num_scales=5, size_divisor=32):
    """The ``(h, w, batch size)`` scales of ml-cvnets' variable-batch
    sampler, sorted (sizes are ``int`` or ``(h, w)``)."""
    (base_h, base_w), (min_h, min_w), (max_h, max_w) = map(
        _pair, (base_size, min_size, max_size))
    heights = _sizes(base_h, min_h, max_h, num_scales, size_divisor)
    widths = _sizes(base_w, min_w, max_w, num_scales, size_divisor)
    pixels = base_h * base_w * batch_size
    return sorted({(h, w, max(1, int(round(pixels / (h * w), 2))))
                   for h, w in zip(heights, widths)})


@DATA_SAMPLERS.register_module()
class VariableBatchSampler(BatchSampler):
    """ml-cvnets' variable-batch multi-scale sampler (see the module doc).

    Config (the batch sampler of a dataloader; mmengine passes ``sampler``
    and the dataloader's ``batch_size``, the batch at ``base_size``)::

        train_dataloader = dict(
            batch_size=128, sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='VariableBatchSampler', base_size=256,
                               min_size=160, max_size=320, num_scales=5),
            dataset=dict(..., pipeline=[..., dict(
                type='VariableRandomResizedCrop', scale=256), ...]))

    Args:
        sampler: The index sampler (its ``seed`` and ``epoch``, when it has
            them, seed the choice of scales).
        batch_size (int): Batch size at ``base_size``.
        base_size, min_size, max_size (int | tuple): ``(h, w)`` of the base
            scale and range of crop sizes (ml-cvnets: 256, 160, 320).
        num_scales (int): Scales between ``min_size`` and ``max_size``.
        size_divisor (int): Crop sizes are multiples of it.
    """

    def __init__(self, sampler, batch_size, base_size=256, min_size=160,
                 max_size=320, num_scales=5, size_divisor=32):
        if not (isinstance(batch_size, int) and batch_size > 0):
            raise ValueError('batch_size of VariableBatchSampler must be a '
                             f'positive integer, got {batch_size!r}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = False
        self.scales = variable_batch_scales(batch_size, base_size, min_size,
                                            max_size, num_scales,
                                            size_divisor)

    def _choices(self, num_indices):
        """The scale of every batch of this epoch, in order."""
        seed = getattr(self.sampler, 'seed', 0) or 0
        rng = random.Random(f'{seed}-{getattr(self.sampler, "epoch", 0)}')
        choices, taken = [], 0
        while taken < num_indices:
            choices.append(rng.choice(self.scales))
            taken += choices[-1][2]
        return choices

    def __iter__(self):
        indices = list(self.sampler)
        start = 0
        for h, w, size in self._choices(len(indices)):
            batch = indices[start:start + size]
            batch += indices[:size - len(batch)]  # the last one fills up
            start += size
            yield [ScaledIndex(i, (h, w)) for i in batch]

    def __len__(self):
        return len(self._choices(len(self.sampler)))


@TRANSFORMS.register_module()
class VariableRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` at the crop size
    :class:`VariableBatchSampler` chose for the sample's batch (its
    ``sample_idx``); at ``scale`` for samples of any other sampler."""

    def transform(self, results):
        crop_size = getattr(results.get('sample_idx'), 'crop_size', None)
        if crop_size is None:
            return super().transform(results)
        scale, self.scale = self.scale, crop_size  # (h, w)
        try:
            return super().transform(results)
        finally:
            self.scale = scale
