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

With ``num_workers=0`` (augmentation in the main process) and
``randomness=dict(seed=..., deterministic=True)`` a run killed at any point
and resumed from its last checkpoint ends with the same weights as an
uninterrupted run. With worker processes the data order still continues
exactly, but the workers' augmentation draws restart from their seeds.
"""
import itertools
import random

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import DATA_SAMPLERS, HOOKS, LOOPS
from mmengine.runner.loops import IterBasedTrainLoop, _InfiniteDataloaderIterator

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
