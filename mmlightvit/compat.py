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
   tools call it when no distributed launcher is used, and on machines without
   CUDA, where torch has no SyncBN: each process then normalises its own batch).
3. Distributed training without GPUs. mmengine's ``_init_dist_pytorch`` calls
   ``torch.cuda.set_device`` unconditionally and its DDP wrapper passes
   ``device_ids=[LOCAL_RANK]``; without CUDA both fail. Here the process group
   is started on gloo without touching CUDA, and DDP gets ``device_ids=None``.
"""
import os.path as osp
import pickle
import zipfile

import numpy as np
import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model.wrappers import MMDistributedDataParallel
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
        reason = _unpickler_reason(e)
        if any(word in reason for word in _REFUSALS):
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
        raise CheckpointError(
            f'checkpoint {filename} is truncated or corrupt '
            f'({_first_line(e)})') from None


# Words of torch's weights-only unpickler when it meets a forbidden object
# (as opposed to bytes that are not a pickle at all).
_REFUSALS = ('Unsupported global', 'not allowed', 'unrecognized function',
             'Can only create', 'blocked')


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unpickler_reason(exc):
    """The unpickler's own words inside torch's long weights_only message."""
    text = str(exc)
    if 'WeightsUnpickler error:' in text:
        text = text.split('WeightsUnpickler error:', 1)[1]
        text = text.split('Check the documentation of torch.load')[0]
        text = text.split('Please use `torch.serialization')[0]
    return ' '.join(text.split()) or type(exc).__name__


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


_init_dist_pytorch_cuda = dist_utils._init_dist_pytorch


def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
    """mmengine's torchrun initialiser, which also works without CUDA."""
    if torch.cuda.is_available() or init_backend != 'torch':
        return _init_dist_pytorch_cuda(backend, init_backend, **kwargs)
    if backend != 'gloo':
        print_log(f'no CUDA device: using the gloo backend instead of '
                  f'{backend}', logger='current')
    torch_dist.init_process_group(backend='gloo', **kwargs)


dist_utils._init_dist_pytorch = _init_dist_pytorch

_ddp_init = MMDistributedDataParallel.__init__


def _ddp_init_any_device(self, module, *args, **kwargs):
    if not torch.cuda.is_available():
        kwargs['device_ids'] = None  # CPU modules take no device_ids
    _ddp_init(self, module, *args, **kwargs)


MMDistributedDataParallel.__init__ = _ddp_init_any_device


# 4. mmdet 3.3.0's SSDHead (SSD, SSDLite) fails at prediction with
#    "'SSDHead' object has no attribute 'loss_cls'" (open-mmlab/mmdetection
#    issues #11063, #11780): BaseDenseHead._predict_by_feat_single reads
#    ``self.loss_cls``, which SSDHead (it computes its loss itself) never
#    sets. SSDHead gets ``loss_cls = None`` (read as "no custom class
#    channels": softmax scores, as before mmdet 3.3) once mmdet's module is
#    imported; mmdet is not imported here, so segmentation-only runs do not
#    pay for it.
import importlib.abc  # noqa: E402
import sys  # noqa: E402


def _patch_ssd_head(module):
    if not hasattr(module.SSDHead, 'loss_cls'):
        module.SSDHead.loss_cls = None


_POST_IMPORT = {'mmdet.models.dense_heads.ssd_head': _patch_ssd_head}


class _PostImportLoader(importlib.abc.Loader):
    """Runs a module's own loader, then a patch on the new module."""

    def __init__(self, loader, patch):
        self._loader, self._patch = loader, patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)

    def __getattr__(self, name):  # get_source, get_code, ... for tracebacks
        return getattr(self._loader, name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of ``_POST_IMPORT`` with the other finders and
    wraps their loaders so that the patch runs right after the import."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _POST_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PostImportLoader(spec.loader,
                                                    _POST_IMPORT[fullname])
                return spec
        return None


for _name, _patch in _POST_IMPORT.items():
    if _name in sys.modules:  # already imported: patch now
        _patch(sys.modules[_name])
if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _PostImportFinder())
