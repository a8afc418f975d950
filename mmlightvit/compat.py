"""The compatibility layer: every fix this project needs on mmengine 0.10.7 /
mmcv 2.1.0 / torch 2.14, in one place. Imported (and applied) by
``import mmlightvit``; nothing in site-packages is edited.

1. Checkpoints. torch >= 2.6 loads with ``weights_only=True``, which refuses
   mmengine's own training checkpoints (they pickle ``HistoryBuffer`` and numpy
   arrays), so ``--resume``, ``tools/test.py CONFIG CKPT``, ``load_from`` and
   ``init_cfg=Pretrained`` all fail. Turning ``weights_only`` off would let a
   checkpoint run arbitrary code. Instead, local checkpoints are loaded with
   ``weights_only=True`` plus exactly the globals that mmengine checkpoints
   hold; ``builtins.getattr`` is admitted only as a function that returns the
   statistics methods of ``HistoryBuffer``. Anything else is refused with an
   error that names the file.
2. SyncBN. Configs written with ``SyncBN`` (the official recipes are) run in a
   single process: :func:`sync_bn_to_bn` rewrites them to ``BN`` there (the
   tools call it when no distributed launcher is used).
"""
import os.path as osp
import pickle
import zipfile

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['CheckpointError', 'load_local_checkpoint', 'sync_bn_to_bn']


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot or must not be loaded."""


_HISTORY_BUFFER_STATS = frozenset({'min', 'max', 'mean', 'current'})


def _history_buffer_getattr(obj, name):
    """Stands in for ``builtins.getattr`` while unpickling a checkpoint.

    mmengine's message hub pickles ``HistoryBuffer.min`` etc. by reference,
    which pickle writes as ``getattr(HistoryBuffer, 'min')``; nothing else is
    allowed through.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_STATS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed: only the statistics '
        f'methods of HistoryBuffer {sorted(_HISTORY_BUFFER_STATS)} are')


def _checkpoint_globals():
    """The (module, name) pairs an mmengine 0.10.7 checkpoint pickles beyond
    torch's own weights-only defaults."""
    np_core = np._core if hasattr(np, '_core') else np.core
    dtype_classes = {type(np.dtype(t)) for t in np.sctypeDict.values()}
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        *sorted(dtype_classes, key=lambda c: c.__name__),
        (np_core.multiarray._reconstruct,
         f'{np_core.__name__}.multiarray._reconstruct'),
        (np_core.multiarray.scalar, f'{np_core.__name__}.multiarray.scalar'),
    ]


def load_local_checkpoint(filename, map_location=None):
    """Load a checkpoint file with ``weights_only=True`` and mmengine's globals.

    Raises:
        FileNotFoundError: the file does not exist.
        CheckpointError: the file holds objects a checkpoint must not hold,
            or it is truncated / corrupt. The message names the file.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    try:
        with torch.serialization.safe_globals(_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e).strip().splitlines()[0]
        if 'GLOBAL' in reason or 'not allowed' in reason or 'unrecognized' in reason:
            raise CheckpointError(
                f'refused to load checkpoint {filename}: it holds Python '
                f'objects that mmengine checkpoints do not ({reason}). Only '
                'tensors, numpy arrays and mmengine logging state are '
                'loaded; if you trust this file, load it yourself with '
                'torch.load(weights_only=False) and save its state_dict.'
            ) from None
        raise CheckpointError(
            f'checkpoint {filename} is truncated or corrupt ({reason})'
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(
            e).__name__
        raise CheckpointError(
            f'checkpoint {filename} is truncated or corrupt ({reason})'
        ) from None


# mmengine resolves every local path ('' prefix) through this loader:
# Runner.resume, load_from, tools/test.py, init_cfg=Pretrained.
CheckpointLoader.register_scheme(
    prefixes='', loader=load_local_checkpoint, force=True)


def sync_bn_to_bn(cfg):
    """Return ``cfg`` (a dict/list tree) with every ``SyncBN`` norm replaced
    by ``BN``, for runs in a single process."""
    if isinstance(cfg, dict):
        new = type(cfg)()
        for key, value in cfg.items():
            new[key] = sync_bn_to_bn(value)
        if new.get('type') == 'SyncBN':
            new['type'] = 'BN'
        return new
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(sync_bn_to_bn(v) for v in cfg)
    return cfg
