"""Loading checkpoints into backbones: official layouts, whole OpenMMLab
models (their ``backbone.`` part), nested ``state_dict``/``model``/``net``."""
import logging
from collections import OrderedDict
from collections.abc import Mapping

from mmengine.logging import print_log

from ..compat import load_checkpoint_file

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
    checkpoint = load_checkpoint_file(filename, map_location='cpu')
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
