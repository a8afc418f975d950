"""Adaptive gradient clipping (AGC) as an mmengine optimizer wrapper.

AGC (Brock et al., "High-Performance Large-Scale Image Recognition Without
Normalization", 2021) limits the gradient of every output unit (a row of a
weight: the output channel of a conv, the output feature of a Linear; the
whole tensor for biases and norm weights) to ``clip_factor`` times the norm
of that unit's weights (at least ``eps``). RepViT's ImageNet recipe (DeiT's /
timm's training loop) applies it with ``clip_factor=0.02`` to every
parameter after the backward pass (after unscaling under mixed precision).

    optim_wrapper = dict(type='AGCOptimWrapper', clip_factor=0.02,
                         optimizer=dict(type='AdamW', ...))

``AmpAGCOptimWrapper`` is the mixed-precision form (``tools/train.py --amp``
switches to it).
"""
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

__all__ = ['AGCOptimWrapper', 'AmpAGCOptimWrapper', 'adaptive_clip_grad',
           'unitwise_norm']


def unitwise_norm(x, norm_type=2.0):
    """The norm of every output unit of ``x`` (over all dims but the first,
    kept for broadcasting); of the whole tensor when it has one dim."""
    if x.ndim <= 1:
        return x.norm(norm_type)
    return x.norm(norm_type, dim=tuple(range(1, x.ndim)), keepdim=True)


@torch.no_grad()
def adaptive_clip_grad(parameters, clip_factor=0.02, eps=1e-3,
                       norm_type=2.0):
    """Clip, in place, the gradient of each unit of each parameter to
    ``clip_factor * max(unitwise_norm(weight), eps)``; units whose gradient
    is within that bound are untouched."""
    for p in parameters:
        if p.grad is None:
            continue
        limit = unitwise_norm(p, norm_type).clamp(min=eps) * clip_factor
        grad_norm = unitwise_norm(p.grad, norm_type)
        scale = limit / grad_norm.clamp(min=1e-6)
        p.grad.copy_(torch.where(grad_norm < limit, p.grad, p.grad * scale))


class _AGC:
    """Gradient clipping of an mmengine optimizer wrapper replaced by AGC
    (its ``clip_grad`` hook point: after backward, after unscaling)."""

    def __init__(self, *args, clip_factor=0.02, eps=1e-3, **kwargs):
        if kwargs.get('clip_grad'):
            raise ValueError(
                f'{type(self).__name__} clips gradients with AGC '
                f'(clip_factor={clip_factor}): drop clip_grad '
                f'{kwargs["clip_grad"]} from the optim_wrapper')
        if not clip_factor > 0:
            raise ValueError(f'clip_factor must be > 0, got {clip_factor!r}')
        super().__init__(*args, **kwargs)
        self.clip_func = adaptive_clip_grad
        self.clip_grad_kwargs = dict(clip_factor=clip_factor, eps=eps)
        self.grad_name = 'agc'


@OPTIM_WRAPPERS.register_module()
class AGCOptimWrapper(_AGC, OptimWrapper):
    """``OptimWrapper`` with adaptive gradient clipping.

    Args:
        clip_factor (float): Largest gradient / weight norm ratio of a unit
            (RepViT: 0.02).
        eps (float): Smallest weight norm a unit's limit is computed from.
        **kwargs: As ``OptimWrapper`` (without ``clip_grad``).
    """


@OPTIM_WRAPPERS.register_module()
class AmpAGCOptimWrapper(_AGC, AmpOptimWrapper):
    """``AmpOptimWrapper`` with adaptive gradient clipping of the unscaled
    gradients (arguments as :class:`AGCOptimWrapper`)."""
