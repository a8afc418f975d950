"""Exact resume of iteration-based training.

mmengine's ``IterBasedTrainLoop`` resumes the data order by loading and
augmenting every batch already trained on ("Advance dataloader N steps"),
which takes as long as the data loading of the whole run so far, and it does
not restore the random number generators, so a resumed run diverges from an
uninterrupted one. Here:

* :class:`ResumableInfiniteSampler` restarts its (seeded, deterministic) index
  stream at any position without touching the data;
* :class:`RandomStateHook` saves the python / numpy / torch RNG states in
  every checkpoint;
* :class:`ResumableIterBasedTrainLoop` on resume moves the sampler to where
  the checkpoint stopped, restores the RNG states and goes on.

What ``--resume`` continues from, and who may write into a work dir (used by
:mod:`mmlightvit.compat`'s ``Runner`` patches, so mmseg/mmdet's own tools get
them too):

* :func:`find_resume_checkpoint`: ``last_checkpoint`` when it names a
  complete training checkpoint, else the newest complete ``iter_*.pth`` /
  ``epoch_*.pth``; never a silent restart over existing checkpoints;
* :func:`check_training_checkpoint`: one line when a file cannot be resumed;
* :func:`work_dir_lock`: one training run per work dir (``train.lock`` holds
  the pid and host of the run; a lock left by a dead run is taken over).

With ``num_workers=0`` (augmentation in the main process) and
``randomness=dict(seed=..., deterministic=True)`` a run killed at any point
and resumed from its last checkpoint ends with the same weights as an
uninterrupted run. With worker processes the data order still continues
exactly, but the workers' augmentation draws restart from their seeds.
"""
import contextlib
import fcntl
import glob
import itertools
import logging
import os
import os.path as osp
import random
import re
import socket
import time

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import DATA_SAMPLERS, HOOKS, LOOPS
from mmengine.runner.loops import IterBasedTrainLoop, _InfiniteDataloaderIterator

from .compat import (CheckpointError, UnsafeCheckpointError,
                     load_checkpoint_file, read_last_checkpoint)

_RNG_KEY = 'rng_state'


def get_rng_state():
    return dict(python=random.getstate(), numpy=np.random.get_state(),
                torch=torch.get_rng_state())


def set_rng_state(state):
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """``InfiniteSampler`` whose index stream can start at ``start`` (indices
    of this rank already consumed), regenerated from the seed."""

    start = 0

    def __iter__(self):
        return itertools.islice(self._indices_of_rank(), self.start, None)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the RNG states in every checkpoint; hands them to the loop on
    resume (through the message hub)."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint[_RNG_KEY] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint):
        runner.message_hub.update_info(_RNG_KEY, checkpoint.get(_RNG_KEY))


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes data order and RNG exactly and
    without reloading the data already trained on."""

    def _resume_data_and_rng(self):
        sampler = self.dataloader.sampler
        if not isinstance(sampler, ResumableInfiniteSampler):
            raise TypeError(
                'ResumableIterBasedTrainLoop needs train_dataloader.sampler = '
                f"dict(type='ResumableInfiniteSampler'), got {type(sampler)}")
        sampler.start = self._iter * self.dataloader.batch_size
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
        state = self.runner.message_hub.get_info(_RNG_KEY)
        if state is not None:
            set_rng_state(state)
        print_log(f'Resumed the data order at iteration {self._iter} '
                  f'(sample {sampler.start} of this rank)'
                  + (' and the RNG states' if state is not None else ''),
                  logger='current')

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._resume_data_and_rng()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


# ------------------------------------------------------------------ resuming
TRAINING_KEYS = ('meta', 'state_dict', 'optimizer', 'message_hub')
_NUMBERED = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def check_training_checkpoint(filename):
    """Load ``filename`` and raise :class:`CheckpointError` (one line) unless
    it is a training checkpoint ``--resume`` can continue from: weights,
    optimizer state, message hub and the epoch/iteration it stopped at."""
    checkpoint = load_checkpoint_file(filename, map_location='cpu')
    keys = list(checkpoint) if isinstance(checkpoint, dict) else []
    missing = [key for key in TRAINING_KEYS if key not in keys]
    meta = checkpoint.get('meta') if keys else None
    if not missing and not (isinstance(meta, dict)
                            and {'epoch', 'iter'} <= set(meta)):
        missing = ['meta.epoch/meta.iter']
    if missing:
        raise CheckpointError(
            f'{filename} is not a training checkpoint: it has no '
            f'{", ".join(missing)} (its keys: {keys[:8] or type(checkpoint)}'
            '); --resume continues only from a checkpoint written by '
            'CheckpointHook (use load_from or init_cfg to start from weights)')


def find_resume_checkpoint(work_dir):
    """What ``--resume`` without a file continues from: the checkpoint
    ``last_checkpoint`` names, else the newest ``iter_*.pth`` /
    ``epoch_*.pth`` of ``work_dir``, whichever first passes
    :func:`check_training_checkpoint` (the others are skipped with a
    warning). None when ``work_dir`` holds no checkpoint (a fresh start);
    :class:`CheckpointError` when it holds some but none is usable, and at
    once for a refused (unsafe) file."""
    numbered = sorted(
        (path for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))
         if _NUMBERED.match(osp.basename(path))),
        key=lambda p: int(_NUMBERED.match(osp.basename(p)).group(1)),
        reverse=True)
    last = read_last_checkpoint(work_dir)
    candidates = list(dict.fromkeys(([last] if last else []) + numbered))
    for path in candidates:
        try:
            check_training_checkpoint(path)
        except UnsafeCheckpointError:
            raise
        except (CheckpointError, FileNotFoundError) as e:
            print_log(f'cannot resume from {path}: {e}', logger='current',
                      level=logging.WARNING)
            continue
        print_log(f'resuming from {path}', logger='current')
        return path
    if candidates:
        names = ', '.join(map(osp.basename, candidates))
        raise CheckpointError(
            f'--resume: none of the {len(candidates)} checkpoint(s) in '
            f'{work_dir} can be resumed ({names}; reasons above); pass '
            '--resume CKPT, or use another --work-dir to start afresh')
    print_log(f'--resume: no checkpoint in {work_dir}, training starts from '
              'the beginning', logger='current')
    return None


# -------------------------------------------------------------- work dir lock
LOCK_FILE = 'train.lock'


class WorkDirBusyError(RuntimeError):
    """Another training run holds the work dir."""


def _remove_partial_files(work_dir):
    """Delete the temporary files of atomic writes a killed run left."""
    folder = glob.escape(work_dir)
    for path in glob.glob(osp.join(folder, '*.pth.tmp')) + glob.glob(
            osp.join(folder, 'last_checkpoint.tmp')):
        os.remove(path)
        print_log(f'removed {path}, an unfinished write of a run that was '
                  'stopped', logger='current', level=logging.WARNING)


@contextlib.contextmanager
def work_dir_lock(work_dir):
    """Hold ``work_dir/train.lock`` (an exclusive ``flock``, which the
    system releases when the process dies, plus this run's pid and host in
    the file) for the ``with`` block. A live holder ->
    :class:`WorkDirBusyError` naming it; a lock file left by a run that is
    gone is taken over with a log line. The lock is then also the licence
    to delete the unfinished temporary files of earlier runs."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_FILE)
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), 'r+') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f.read().strip() or 'a process that wrote no pid yet'
            raise WorkDirBusyError(
                f'work dir {work_dir} is in use by another training run '
                f'({holder}; lock {path}): wait for it to end or choose '
                'another --work-dir') from None
        previous = f.read().strip()
        if previous:
            print_log(f'{path}: taking over the lock of a run that is gone '
                      f'({previous})', logger='current',
                      level=logging.WARNING)
        f.seek(0)
        f.truncate()
        f.write(f'pid {os.getpid()} on {socket.gethostname()} since '
                f'{time.strftime("%Y-%m-%d %H:%M:%S")}\n')
        f.flush()
        _remove_partial_files(work_dir)
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
