"""Mixed-precision training on CPUs: bf16 autocast (``tools/train.py --amp``
on a machine without CUDA whose CPU has AMX or AVX512-BF16).

mmengine's ``AmpOptimWrapper`` runs on GPUs only (it asserts CUDA/NPU/MLU).
These wrappers run the forward pass (data preprocessor, model, loss) under
``torch.autocast('cpu', dtype=torch.bfloat16)``; bf16 has float32's exponent
range, so there is no loss scaling, and weights, gradients and optimizer
state stay float32.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .optim import AGCOptimWrapper

__all__ = ['CPUAmpOptimWrapper', 'CPUAmpAGCOptimWrapper']


class _CPUAutocast:

    def __init__(self, *args, dtype='bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(f'{type(self).__name__} autocasts to bfloat16 '
                             f'(the CPU mixed precision), got dtype={dtype!r}')
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(_CPUAutocast, OptimWrapper):
    """``OptimWrapper`` whose forward runs under bf16 autocast on the CPU."""


@OPTIM_WRAPPERS.register_module()
class CPUAmpAGCOptimWrapper(_CPUAutocast, AGCOptimWrapper):
    """``AGCOptimWrapper`` (adaptive gradient clipping) whose forward runs
    under bf16 autocast on the CPU."""
