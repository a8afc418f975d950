"""The compatibility layer: every change this project makes to mmengine 0.10.7
/ mmcv 2.1.0 / torch 2.14, in one place. ``import mmlightvit`` applies them;
nothing in site-packages is edited. Each patch below is a plain function
assigned in place of mmengine's, listed here:

Loading checkpoints (torch >= 2.6 loads with ``weights_only=True``, which
refuses mmengine's own training checkpoints: they pickle ``HistoryBuffer`` and
numpy arrays; turning it off would let a checkpoint run code):

* ``CheckpointLoader`` schemes ``''`` (local paths), ``http://``/``https://``,
  ``s3://``/``petrel://`` (mmengine's file backends), ``torchvision://``/
  ``modelzoo://``/``open-mmlab://``/``openmmlab://``/``mmcls://`` (mmengine's
  model-zoo tables) are re-registered with :func:`load_checkpoint_file`'s
  loaders. Every source ends in one unpickler: ``weights_only=True`` plus
  exactly the globals mmengine checkpoints hold (numpy 1.x and 2.x module
  paths; ``builtins.getattr`` only as a function returning the statistics
  methods of ``HistoryBuffer``). URLs are downloaded into torch hub's cache
  (``torch.hub.get_dir()/checkpoints/<name>``; the hash in a name like
  ``x-<sha256 prefix>.pth`` is checked, and the git blob SHA-1 of the
  authors' files in ``PUBLISHED_FILES``), a cached file is used without
  network. So ``--resume``, ``load_from``, ``tools/test.py CONFIG CKPT``,
  ``init_cfg=Pretrained`` and the project's tools all refuse a checkpoint
  that would run code, with one line naming the file. (``pavi://`` keeps
  mmengine's loader: torch's default ``weights_only=True``.)

Saving checkpoints (mmengine writes in place, and with ``max_keep_ckpts``
deletes the old checkpoint before writing the new one):

* ``mmengine.runner.runner.save_checkpoint`` (what ``Runner.save_checkpoint``
  calls) and ``mmengine.runner.checkpoint.save_checkpoint``:
  :func:`save_checkpoint`, atomic for local files (temporary file in the same
  folder, flush + fsync, rename); a full disk stops with one line naming the
  file and the space it needs.
* ``CheckpointHook._save_checkpoint_with_step``: checkpoint first, then
  ``last_checkpoint`` (atomically, relative to the work dir), only then the
  checkpoints beyond ``max_keep_ckpts`` are deleted.
* ``CheckpointHook._save_best_checkpoint``: the previous best checkpoint is
  deleted only after the new one is written.

Resuming:

* ``Runner.load_or_resume``: ``resume=True`` without a file continues from
  ``last_checkpoint`` (relative or absolute) or, without a usable one, from
  the newest complete ``iter_*``/``epoch_*`` checkpoint; a file that is not a
  training checkpoint stops with one line (:mod:`mmlightvit.engine`).
* ``Runner.train``: the main process holds the work dir's lock
  (``train.lock``) while it trains; a second run on the same work dir stops.

Devices:

* ``mmengine.dist.utils._init_dist_pytorch``: without CUDA the process group
  starts on gloo without touching CUDA; the group (any backend) is destroyed
  at exit (a gloo group alive at interpreter shutdown can abort the process,
  "terminate called without an active exception", and fail the launcher:
  whichever tool started it, ours or the stock ones).
* ``MMDistributedDataParallel.__init__``: without CUDA, ``device_ids=None``.
* ``Runner.wrap_model``: a distributed run on CPU turns ``SyncBN`` layers
  into BN before DDP wraps the model (torch's SyncBN is CUDA-only; DDP
  refuses it on CPU). mmengine itself does this for a single process. The
  Runner is where every entry point meets (the project's tools, the stock
  ``tools/train.py`` of the mmseg/mmdet wheels, ``mim train``), and the
  config stays as written.

Distributed BN statistics (per-process BN keeps per-process running
statistics, and mmengine's DDP does not broadcast buffers: validation during
training would use each process's own statistics, the checkpoint holds rank
0's):

* ``CheckpointHook._save_checkpoint_with_step`` and ``ValLoop.run`` (when it
  validates inside training): first :func:`average_norm_stats`, which
  averages the running mean/variance of every norm layer of the model and of
  its EMA copies across the processes. Validation then scores what the
  checkpoint holds. (mmengine's ``SyncBuffersHook`` averages only at the end
  of an epoch and before validation: an iteration-based run saves its
  checkpoint before either.)

And one function the tools call: :func:`sync_bn_to_bn` (configs written with
``SyncBN`` built as ``BN`` outside a Runner). mmdet 3.3.0's
``SSDHead`` cannot predict (no ``loss_cls``): that fix is a registered head,
``mmlightvit.models.ssdlite_head.SSDLiteHead``, not a patch. Besides these,
``import mmlightvit`` only registers its own classes (backbones, heads,
transforms, hooks, loop, sampler) and adds log filters
(:mod:`mmlightvit.logging_filters`).
"""
import atexit
import contextlib
import errno
import hashlib
import io
import logging
import os
import os.path as osp
import pickle
import re
import zipfile
from http.client import HTTPException
from urllib.parse import urlparse

import numpy as np
import torch
import torch.distributed as torch_dist
from torch.nn.modules.batchnorm import SyncBatchNorm, _NormBase
from mmengine.device import get_device
from mmengine.dist import (all_reduce, broadcast, get_dist_info,
                           is_main_process)
from mmengine.dist import utils as dist_utils
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from mmengine.model.wrappers import MMDistributedDataParallel
from mmengine.runner import BaseLoop, Runner, ValLoop
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import runner as mmengine_runner
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'CheckpointError', 'UnsafeCheckpointError', 'load_checkpoint_file',
    'load_from_local', 'load_local_checkpoint', 'load_from_http',
    'hub_cache_path', 'PUBLISHED_FILES', 'git_blob_sha1', 'save_checkpoint',
    'write_file_atomically',
    'read_last_checkpoint', 'write_last_checkpoint', 'sync_bn_to_bn',
    'average_norm_stats'
]


class CheckpointError(RuntimeError):
    """A checkpoint that cannot or must not be loaded, or cannot be saved."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint refused because it holds objects that could run code."""


# ------------------------------------------------------------------ loading
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
    """The globals an mmengine checkpoint pickles beyond torch's own
    weights-only defaults; numpy's array functions under the module paths of
    numpy 2.x (``numpy._core``) and 1.x (``numpy.core``) alike."""
    multiarray = np._core.multiarray
    dtype_classes = {type(np.dtype(t)) for t in np.sctypeDict.values()}
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        *sorted(dtype_classes, key=lambda c: c.__name__),
        *[(getattr(multiarray, name), f'{module}.multiarray.{name}')
          for module in ('numpy._core', 'numpy.core')
          for name in ('_reconstruct', 'scalar')],
    ]


# How a file starts: a torch zip archive, a legacy (torch < 1.6) torch file
# (a pickled magic number first), or some other pickle.
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)
_PICKLE_PROTO = b'\x80'

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


def _refused(name, reason):
    return UnsafeCheckpointError(
        f'refused to load checkpoint {name}: {reason}. Only tensors, numpy '
        'arrays and mmengine logging state are loaded; if you trust this '
        'file, load it yourself with torch.load(weights_only=False) and save '
        'its state_dict.')


def _check_file_kind(head, name):
    """Refuse, by its first bytes, a file that is no torch checkpoint."""
    if not head:
        raise CheckpointError(f'checkpoint {name} is empty (0 bytes): '
                              'truncated or corrupt')
    if head.startswith((_ZIP_MAGIC, _LEGACY_MAGIC[:len(head)])):
        return
    if head.startswith(_PICKLE_PROTO):
        raise _refused(name, 'it is a plain Python pickle, not a torch '
                       'checkpoint, and unpickling it could run code')
    raise CheckpointError(
        f'{name} is not a checkpoint: a torch checkpoint is a zip archive '
        f'(or a legacy torch pickle), this file starts with {head[:16]!r}')


def _torch_load(source, name, map_location=None):
    """``torch.load(source, weights_only=True)`` with mmengine's globals.

    ``source`` is a path or a binary file object; ``name`` says in messages
    where it came from (a path, a URL)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, 'rb') as f:
            head = f.read(16)
    else:
        head = source.read(16)
        source.seek(0)
    _check_file_kind(head, name)
    try:
        with torch.serialization.safe_globals(_checkpoint_globals()):
            return torch.load(
                source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = _unpickler_reason(e)
        if any(word in reason for word in _REFUSALS):
            raise _refused(name, f'it holds Python objects that mmengine '
                           f'checkpoints do not ({reason})') from None
        raise CheckpointError(
            f'checkpoint {name} is truncated or corrupt ({reason})') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError,
            KeyError) as e:
        raise CheckpointError(f'checkpoint {name} is truncated or corrupt '
                              f'({_first_line(e)})') from None


def load_from_local(filename, map_location=None):
    """Load a local checkpoint file with ``weights_only=True`` and
    mmengine's globals.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file holds objects a checkpoint must not
            hold (it could run code). The message names the file.
        CheckpointError: the file is no checkpoint, or truncated / corrupt.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    return _torch_load(filename, filename, map_location)


load_local_checkpoint = load_from_local  # the name the tools know


# The authors' files whose digest is published elsewhere than in the file
# name: URL -> (git blob SHA-1, as ``git hash-object FILE`` prints it; name of
# the copy in torch hub's cache). EMO's ImageNet-1k checkpoints are committed
# to its repository (the blob SHA-1s of its tree), all four named net.pth.
EMO_URL = 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_{}/net.pth'
PUBLISHED_FILES = {
    EMO_URL.format(arch): (sha1, f'EMO_{arch}_net.pth')
    for arch, sha1 in (('1M', '76c4282de548fa76eca6011720b29d8f80ffa784'),
                       ('2M', '9ec7138d292ca9b2d07923aec05762f547db8cf2'),
                       ('5M', '3ea7450fa9c290c3c46f372c1f5cebe1198d1ce1'),
                       ('6M', '10a248725247cf18b51e449dbd1a220354457c99'))
}


_LOCAL_COPY = ('pass a local copy, e.g. --cfg-options '
               'model.backbone.init_cfg.checkpoint=PATH')


def hub_cache_path(url):
    """Where torch hub keeps the download of ``url``:
    ``torch.hub.get_dir()/checkpoints/<file name of the URL>`` (the name
    :data:`PUBLISHED_FILES` gives, for those files)."""
    name = PUBLISHED_FILES[url][1] if url in PUBLISHED_FILES else \
        osp.basename(urlparse(url).path)
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def git_blob_sha1(path):
    """``git hash-object PATH``: the SHA-1 of ``b'blob <size>\\0'`` and the
    file's bytes."""
    digest = hashlib.sha1(f'blob {osp.getsize(path)}\0'.encode())
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 24), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _check_published_digest(url, path, downloaded):
    """Refuse the cached copy of a :data:`PUBLISHED_FILES` URL whose git blob
    SHA-1 is not the published one (a fresh download is deleted)."""
    if url not in PUBLISHED_FILES:
        return
    expected, found = PUBLISHED_FILES[url][0], git_blob_sha1(path)
    if found == expected:
        return
    if downloaded:
        os.remove(path)
    raise CheckpointError(
        f'{path} (from {url}) is not the published file: git blob SHA-1 '
        f'{found}, expected {expected} ('
        + ('the download was deleted; try again' if downloaded else
           'delete it to download it again')
        + f', or {_LOCAL_COPY})')


def _download(url):
    """The local copy of ``url`` in torch hub's cache, downloaded first when
    it is not there (progress bar on a terminal; the hash prefix of a name
    like ``x-<sha256 prefix>.pth`` checked, as torch hub's
    ``check_hash``; the git blob SHA-1 of :data:`PUBLISHED_FILES`
    checked after the download and before every use)."""
    path = hub_cache_path(url)
    if osp.isfile(path):
        _check_published_digest(url, path, downloaded=False)
        return path
    match = torch.hub.HASH_REGEX.search(osp.basename(path))
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        torch.hub.download_url_to_file(
            url, path, match.group(1) if match else None,
            progress=os.isatty(0))
    except (OSError, HTTPException, RuntimeError) as e:  # offline, 404, hash
        raise CheckpointError(
            f'could not download {url} ({_first_line(e)}): put the file at '
            f'{path} (or {_LOCAL_COPY})') from None
    _check_published_digest(url, path, downloaded=True)
    return path


def load_from_http(url, map_location=None):
    """A checkpoint by URL: through torch hub's cache (rank 0 downloads,
    the other ranks wait), then :func:`load_from_local`."""
    rank, world_size = get_dist_info()
    if rank == 0:
        path = _download(url)
    if world_size > 1:
        torch_dist.barrier()
        path = _download(url)
    return _torch_load(path, f'{path} (from {url})', map_location)


def load_from_backend(filename, map_location=None):
    """A checkpoint on one of mmengine's file backends (``s3://``,
    ``petrel://``): its bytes through the backend's ``get``, then the same
    unpickler."""
    data = get_file_backend(filename).get(filename)
    with io.BytesIO(data) as buffer:
        return _torch_load(buffer, filename, map_location)


def load_from_model_zoo(filename, map_location=None):
    """``torchvision://NAME`` (``modelzoo://``), ``open-mmlab://NAME``
    (``openmmlab://``) and ``mmcls://NAME``: the URL (or file) of NAME in
    mmengine's tables, loaded by :func:`load_checkpoint_file`."""
    scheme, name = filename.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        table = mmengine_checkpoint.get_torchvision_models()
    elif scheme == 'mmcls':
        table = mmengine_checkpoint.get_mmcls_models()
    else:
        table = mmengine_checkpoint.get_external_models()
        name = mmengine_checkpoint.get_deprecated_model_names().get(
            name, name)
    if name not in table:
        raise CheckpointError(f'{filename}: mmengine knows no {scheme} '
                              f'model named {name!r}')
    location = table[name]
    if not location.startswith(('http://', 'https://')):
        location = osp.join(mmengine_checkpoint._get_mmengine_home(), location)
    checkpoint = load_checkpoint_file(location, map_location)
    if scheme == 'mmcls':
        checkpoint = mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)
    return checkpoint


# (prefixes as mmengine's CheckpointLoader matches them, loader); '' last.
_LOADERS = (
    (('http://', 'https://'), load_from_http),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), load_from_backend),
    (('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://',
      'mmcls://'), load_from_model_zoo),
    (('', ), load_from_local),
)


def load_checkpoint_file(filename, map_location=None):
    """Load a checkpoint from a local path, a URL, an mmengine file backend
    or an mmengine model-zoo name, always with the weights-only unpickler
    and mmengine's globals (the same as mmengine's ``_load_checkpoint``
    after ``import mmlightvit``)."""
    filename = str(filename)
    for prefixes, loader in _LOADERS:
        if any(re.match(prefix, filename) for prefix in prefixes):
            return loader(filename, map_location)


for _prefixes, _loader in _LOADERS:
    CheckpointLoader.register_scheme(_prefixes, _loader, force=True)

# ------------------------------------------------------------------- saving
_CHUNK = 1 << 24


def _write_all(f, data):
    """Write ``data`` to ``f`` in chunks (tests replace this to stop a
    writer part-way)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        f.write(view[start:start + _CHUNK])


def _size(num_bytes):
    return f'{num_bytes / 2**20:.1f} MiB'


def write_file_atomically(data, filename):
    """Write ``data`` (bytes) to ``filename`` so that ``filename`` is either
    its old self or complete: a temporary file in the same folder, flushed
    and fsynced, renamed over it. A full disk raises :class:`CheckpointError`
    naming the file and the space it needs, and leaves nothing behind."""
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    tmp = f'{filename}.tmp'
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    try:
        if len(data) > free:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        with open(tmp, 'wb') as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise CheckpointError(
                f'no space left to write {filename}: it needs '
                f'{_size(len(data))}, {_size(free)} were free in {folder}; '
                'the file was not written and nothing else changed') from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_mmengine_save_checkpoint = mmengine_checkpoint.save_checkpoint


def save_checkpoint(checkpoint, filename, file_client_args=None,
                    backend_args=None):
    """mmengine's ``save_checkpoint``, atomic for local files
    (:func:`write_file_atomically`)."""
    backend = get_file_backend(filename, backend_args=backend_args)
    if file_client_args is not None or not isinstance(backend, LocalBackend):
        return _mmengine_save_checkpoint(checkpoint, filename,
                                         file_client_args, backend_args)
    with io.BytesIO() as f:
        torch.save(checkpoint, f)
        write_file_atomically(f.getvalue(), filename)


mmengine_runner.save_checkpoint = save_checkpoint
mmengine_checkpoint.save_checkpoint = save_checkpoint

LAST_CHECKPOINT = 'last_checkpoint'


def write_last_checkpoint(work_dir, checkpoint):
    """Point ``work_dir/last_checkpoint`` at ``checkpoint`` (atomically):
    relative to ``work_dir`` when inside it, so that a moved work dir
    resumes."""
    if '://' not in checkpoint:
        path = osp.abspath(checkpoint)
        inside = osp.commonpath([path, osp.abspath(work_dir)])
        if inside == osp.abspath(work_dir):
            checkpoint = osp.relpath(path, work_dir)
    write_file_atomically(checkpoint.encode(),
                          osp.join(work_dir, LAST_CHECKPOINT))


def read_last_checkpoint(work_dir):
    """The checkpoint ``work_dir/last_checkpoint`` names (relative names are
    taken relative to ``work_dir``, absolute ones and URLs as they are);
    None when the file is missing or empty."""
    path = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        name = f.read().strip()
    if not name:
        print_log(f'{path} is empty: it names no checkpoint',
                  logger='current', level=logging.WARNING)
        return None
    if '://' in name or osp.isabs(name):
        return name
    return osp.join(work_dir, name)


def _remove_checkpoint(backend, path):
    if backend.isfile(path):
        backend.remove(path)
    elif backend.isdir(path):  # deepspeed checkpoints are folders
        backend.rmtree(path)


def _save_checkpoint_with_step(self, runner, step, meta):
    """``CheckpointHook._save_checkpoint_with_step`` in a safe order: write
    the checkpoint, then ``last_checkpoint``, then delete the ones beyond
    ``max_keep_ckpts``; every process first averages its norm statistics
    (:func:`average_norm_stats`)."""
    average_norm_stats(runner)
    outdated = []
    ids = self.keep_ckpt_ids if self.max_keep_ckpts > 0 else None
    if ids is not None and (not ids or ids[-1] != step):
        while len(ids) >= self.max_keep_ckpts:
            outdated.append(ids.popleft())
        ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(ids))
    filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(
        self.out_dir, filename, self.file_client_args,
        save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler, meta=meta,
        by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    write_last_checkpoint(runner.work_dir, self.last_ckpt)
    for old in outdated:
        _remove_checkpoint(
            self.file_backend,
            self.file_backend.join_path(self.out_dir,
                                        self.filename_tmpl.format(old)))


class _RemovalsLater:
    """A hook's file backend whose ``remove``/``rmtree`` only note the path
    (the caller removes them once the new checkpoint is written)."""

    def __init__(self, backend):
        self.backend, self.paths = backend, []

    def remove(self, path):
        self.paths.append(path)

    rmtree = remove

    def __getattr__(self, name):
        return getattr(self.backend, name)


_mmengine_save_best_checkpoint = CheckpointHook._save_best_checkpoint


def _save_best_checkpoint(self, runner, metrics):
    """``CheckpointHook._save_best_checkpoint`` that deletes the previous
    best checkpoint only after the new one is written."""
    backend = self.file_backend
    self.file_backend = later = _RemovalsLater(backend)
    try:
        _mmengine_save_best_checkpoint(self, runner, metrics)
    finally:
        self.file_backend = backend
    for path in later.paths:
        _remove_checkpoint(backend, path)


CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step
CheckpointHook._save_best_checkpoint = _save_best_checkpoint

# ----------------------------------------------------------------- resuming
_runner_load_or_resume = Runner.load_or_resume


def _load_or_resume(self):
    """``Runner.load_or_resume`` that resumes only from a complete training
    checkpoint: the one given, or the one :func:`mmlightvit.engine.
    find_resume_checkpoint` finds in the work dir (none: a fresh start)."""
    from .engine import check_training_checkpoint, find_resume_checkpoint
    if self._resume and not self._has_loaded:
        if self._load_from is None:
            self._load_from = find_resume_checkpoint(self.work_dir)
            self._resume = self._load_from is not None
        else:
            check_training_checkpoint(self._load_from)
    return _runner_load_or_resume(self)


_runner_train = Runner.train


def _train(self):
    """``Runner.train`` with the work dir locked by the main process
    (:func:`mmlightvit.engine.work_dir_lock`)."""
    from .engine import work_dir_lock
    lock = work_dir_lock(self.work_dir) if is_main_process() else \
        contextlib.nullcontext()
    with lock:
        return _runner_train(self)


Runner.load_or_resume = _load_or_resume
Runner.train = _train


# ----------------------------------------------------------------- devices
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
    """mmengine's torchrun initialiser, which also works without CUDA; the
    process group it starts is destroyed at exit."""
    atexit.register(_destroy_process_group)
    if torch.cuda.is_available() or init_backend != 'torch':
        return _init_dist_pytorch_cuda(backend, init_backend, **kwargs)
    if backend != 'gloo':
        print_log(f'no CUDA device: using the gloo backend instead of '
                  f'{backend}', logger='current')
    torch_dist.init_process_group(backend='gloo', **kwargs)


def _destroy_process_group():
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


_ddp_init = MMDistributedDataParallel.__init__


def _ddp_init_any_device(self, module, *args, **kwargs):
    """``MMDistributedDataParallel.__init__`` without ``device_ids`` when
    there is no CUDA (CPU modules take none)."""
    if not torch.cuda.is_available():
        kwargs['device_ids'] = None
    _ddp_init(self, module, *args, **kwargs)


dist_utils._init_dist_pytorch = _init_dist_pytorch
MMDistributedDataParallel.__init__ = _ddp_init_any_device


_runner_wrap_model = Runner.wrap_model


def _wrap_model(self, model_wrapper_cfg, model):
    """``Runner.wrap_model`` that, in a distributed run on CPU, turns SyncBN
    layers into BN first (mmengine does so only for a single process)."""
    if self.distributed and get_device() == 'cpu' and \
            not is_model_wrapper(model) and \
            any(isinstance(m, SyncBatchNorm) for m in model.modules()):
        self.logger.info(
            'no CUDA device: SyncBN layers become BN (each process '
            'normalises its own batch; the running statistics are averaged '
            'across processes before every validation and checkpoint)')
        model = revert_sync_batchnorm(model)
    return _runner_wrap_model(self, model_wrapper_cfg, model)


Runner.wrap_model = _wrap_model


# ------------------------------------------------- distributed statistics
def _norm_stats(module):
    for m in module.modules():
        if isinstance(m, _NormBase) and m.running_mean is not None:
            yield from (m.running_mean, m.running_var)


def average_norm_stats(runner):
    """Average the running mean and variance of every norm layer (BN,
    SyncBN, tracked InstanceNorm) of ``runner.model`` and of the hooks' EMA
    models across the processes, in place; nothing in a single process.

    Computed as rank 0's value plus the mean difference to it, so that
    statistics that already agree (SyncBN on GPUs, a second call with no
    training in between) stay bit for bit what they were."""
    world_size = get_dist_info()[1]
    if world_size == 1:
        return
    models = [runner.model] + [
        hook.ema_model for hook in runner.hooks
        if isinstance(getattr(hook, 'ema_model', None), torch.nn.Module)]
    stats = [t for model in models for t in _norm_stats(model)]
    if not stats:
        return
    flat = torch.cat([t.detach().reshape(-1).double() for t in stats])
    reference = flat.clone()
    broadcast(reference, src=0)
    difference = flat - reference
    all_reduce(difference, op='sum')
    flat = reference + difference / world_size
    for t, value in zip(stats, flat.split([t.numel() for t in stats])):
        t.copy_(value.view_as(t))


_val_loop_run = ValLoop.run


def _validate(self):
    """``ValLoop.run`` that, when it validates inside training, first
    averages the norm statistics across processes
    (:func:`average_norm_stats`)."""
    if isinstance(self.runner._train_loop, BaseLoop):
        average_norm_stats(self.runner)
    return _val_loop_run(self)


ValLoop.run = _validate
