"""Config checks on built models: necks and heads against the channels
the backbone gives, before any forward pass."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


class ChannelMismatchError(ValueError):
    """A neck or head expects other channel numbers than it receives."""


def _check_inputs(where, in_channels, levels, feats, source):
    """``in_channels`` (int: the same for every input; or a list) should
    match ``feats[level]`` for each of ``levels``."""
    if isinstance(in_channels, int):
        labels = [f'{where}.in_channels'] * len(levels)
        in_channels = [in_channels] * len(levels)
    else:
        labels = [f'{where}.in_channels[{k}]' for k in range(len(in_channels))]
        if len(in_channels) != len(levels):
            raise ChannelMismatchError(
                f'{where}.in_channels has {len(in_channels)} entries, but '
                f'it takes {len(levels)} levels of {source}')
    for label, want, level in zip(labels, in_channels, levels):
        if not -len(feats) <= level < len(feats):
            raise ChannelMismatchError(
                f'{where} takes level {level} (in_index), but {source} has '
                f'only {len(feats)} levels')
        if want != feats[level]:
            raise ChannelMismatchError(
                f'{label} is {want}, but level {level} of {source} has '
                f'{feats[level]} channels')


# necks that pass the channels of their inputs through (pooling)
_PASSTHROUGH_NECKS = ('GlobalAveragePooling', 'GeneralizedMeanPooling')


def _out_channels(module):
    """Output channels of the last conv in ``module``."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def _through_neck(neck, feats, source):
    """Check what ``neck`` takes; return ``(feats, source)`` of its outputs,
    or ``(None, None)`` when the neck does not say what it gives."""
    name = type(neck).__name__
    in_channels = getattr(neck, 'in_channels', None)
    if isinstance(in_channels, (list, tuple)):
        _check_inputs('neck', list(in_channels), range(len(feats)), feats,
                      source)
        out, num_outs = getattr(neck, 'out_channels', None), getattr(
            neck, 'num_outs', None)
        if not (isinstance(out, int) and num_outs):
            return None, None
        return [out] * num_outs, f'the {name} neck outputs'
    extra = getattr(neck, 'extra_layers', None)
    if isinstance(extra, nn.ModuleList) and len(extra):
        # SSDNeck: the inputs pass through, extra layers grow from the last
        # one (an L2Norm, if any, scales the first)
        first = next(m for m in extra[0].modules() if isinstance(m, nn.Conv2d))
        l2_norm = getattr(neck, 'l2_norm', None)
        for what, want, level in (
                ('in_channels[-1] (the input of its first extra layer)',
                 first.in_channels, len(feats) - 1),
                ('in_channels[0] (its L2Norm)',
                 getattr(l2_norm, 'n_dims', feats[0]), 0)):
            if want != feats[level]:
                raise ChannelMismatchError(
                    f'neck.{what} is {want}, but level {level} of {source} '
                    f'has {feats[level]} channels')
        return [*feats, *map(_out_channels, extra)], f'the {name} neck outputs'
    if name in _PASSTHROUGH_NECKS:
        return feats, source
    return None, None


def check_channels(model):
    """Check that the neck and heads of an mmseg/mmdet/mmpretrain model take
    the channels its mmlightvit backbone gives, before any forward pass:
    FPN / SSDLite necks, decode / auxiliary / detection heads, and
    classification heads (``in_channels``: an int takes the last level, a
    sequence the last ``len`` levels).

    Raises:
        ChannelMismatchError: naming the module, the level and both numbers.
    """
    if is_model_wrapper(model):
        model = model.module
    backbone = getattr(model, 'backbone', None)
    if not hasattr(backbone, 'out_channels'):
        return
    feats = [backbone.out_channels[i] for i in backbone.out_indices]
    source = f'the {type(backbone).__name__} backbone outputs (out_indices ' \
             f'{tuple(backbone.out_indices)})'
    neck = getattr(model, 'neck', None)
    if neck is not None:
        feats, source = _through_neck(neck, feats, source)
        if feats is None:
            return  # a neck that does not say what it takes / gives
    for name in ('decode_head', 'auxiliary_head', 'bbox_head'):
        heads = getattr(model, name, None)
        heads = heads if isinstance(heads, nn.ModuleList) else [heads]
        for i, head in enumerate(h for h in heads if h is not None):
            in_channels = getattr(head, 'in_channels', None)
            if in_channels is None:
                continue
            # mmseg heads name their inputs (in_index); detection heads
            # take every level of the neck
            in_index = getattr(head, 'in_index', range(len(feats)))
            levels = [in_index] if isinstance(in_index, int) else list(in_index)
            label = name if len(heads) == 1 else f'{name}[{i}]'
            _check_inputs(label, in_channels if isinstance(in_channels, int)
                          else list(in_channels), levels, feats, source)
    in_channels = getattr(getattr(model, 'head', None), 'in_channels', None)
    if isinstance(in_channels, int):
        _check_inputs('head', in_channels, [len(feats) - 1], feats, source)
    elif isinstance(in_channels, (list, tuple)):
        _check_inputs('head', list(in_channels),
                      list(range(len(feats)))[-len(in_channels):], feats,
                      source)
