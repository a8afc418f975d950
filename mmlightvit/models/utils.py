"""Helpers shared by the backbones: loading official checkpoints and the
backbones of whole OpenMMLab models."""
import logging
from collections import OrderedDict
from collections.abc import Mapping

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

# Keys under which training code nests the weights, in order of preference
# (EMO saves ``net`` and its EMA copy ``net_E``; timm/DeiT use ``model``).
STATE_DICT_KEYS = ('state_dict', 'model', 'net', 'net_E')


def unwrap_state_dict(checkpoint, keys=STATE_DICT_KEYS):
    """Return the weights in ``checkpoint``: descend into the first of
    ``keys`` holding a dict (repeatedly), then strip a ``module.`` prefix."""
    state_dict = checkpoint
    while True:
        key = next((k for k in keys
                    if isinstance(state_dict.get(k), Mapping)), None)
        if key is None:
            break
        state_dict = state_dict[key]
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


def select_prefix(state_dict, prefix='backbone.'):
    """The entries of ``state_dict`` whose keys start with ``prefix``, with
    the prefix stripped (a new ``OrderedDict``); ``state_dict`` itself when
    no key starts with it."""
    if not any(k.startswith(prefix) for k in state_dict):
        return state_dict
    return OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                       if k.startswith(prefix))


def load_pretrained_weights(module, filename, convert=None, logger='current',
                            prefix='backbone.'):
    """Load a checkpoint file into ``module`` with ``strict=False``.

    Args:
        module (nn.Module): The model to load into.
        filename (str): Local path or URL (anything mmengine can load).
        convert (callable, optional): Maps the unwrapped state_dict to the
            key names of ``module`` (e.g. official -> mmlightvit).
        logger: Where missing / unexpected keys are reported (by name).
        prefix (str | None): When some keys of the checkpoint start with
            ``prefix``, only those are loaded, with the prefix stripped
            (before ``convert``): a whole OpenMMLab model (an mmpretrain
            classifier, a segmentor, a detector) gives its backbone's
            weights. None loads all keys.

    Returns:
        ``torch.nn.modules.module._IncompatibleKeys`` with ``missing_keys``
        and ``unexpected_keys``. Shape mismatches raise.
    """
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = unwrap_state_dict(checkpoint)
    if prefix:
        state_dict = select_prefix(state_dict, prefix)
    if convert is not None:
        state_dict = convert(state_dict)
    result = module.load_state_dict(state_dict, strict=False)
    for kind, keys in (('missing', result.missing_keys),
                       ('unexpected', result.unexpected_keys)):
        if keys:
            print_log(
                f'{type(module).__name__}: {len(keys)} {kind} key(s) when '
                f'loading {filename}: {", ".join(keys)}',
                logger=logger,
                level=logging.WARNING)
    if not (result.missing_keys or result.unexpected_keys):
        print_log(f'{type(module).__name__}: loaded all weights from '
                  f'{filename}', logger=logger)
    return result


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


def check_channels(model):
    """Check that the neck and heads of an mmseg/mmdet/mmpretrain model take
    the channels its mmlightvit backbone gives, before any forward pass.

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
        in_channels = getattr(neck, 'in_channels', None)
        if not isinstance(in_channels, (list, tuple)):
            return  # a neck that does not say what it takes
        _check_inputs('neck', list(in_channels), range(len(feats)), feats,
                      source)
        out, num_outs = getattr(neck, 'out_channels', None), getattr(
            neck, 'num_outs', None)
        if not (isinstance(out, int) and num_outs):
            return
        feats = [out] * num_outs
        source = f'the {type(neck).__name__} neck outputs'
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
