"""A training run killed with SIGKILL resumes from its last checkpoint and
ends with the same weights as an uninterrupted run (deterministic, CPU)."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmlightvit.datasets.toy import make_toy_ade20k
from helpers import ROOT, failure_summary

pytestmark = pytest.mark.slow

CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


def train_cmd(data_root, work_dir, *extra):
    opts = [f'{split}_dataloader.{key}' for split in ('train', 'val')
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]
    return [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
            *extra, '--cfg-options', *opts, 'train_dataloader.batch_size=2',
            'train_cfg.max_iters=6', 'train_cfg.val_interval=100',
            'default_hooks.checkpoint.interval=2', 'randomness.seed=0',
            'randomness.deterministic=True']


def final_weights(work_dir):
    ckpt = torch.load(osp.join(work_dir, 'iter_6.pth'), map_location='cpu',
                      weights_only=False)
    return ckpt['state_dict']


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    data_root = make_toy_ade20k(str(tmp_path / 'toy'), num_train=12,
                                num_val=2, size=64, seed=3)
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = subprocess.run(train_cmd(data_root, full), cwd=ROOT,
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, failure_summary(out.stdout + out.stderr)

    proc = subprocess.Popen(train_cmd(data_root, killed), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not osp.exists(osp.join(killed, 'last_checkpoint')):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not osp.exists(osp.join(killed, 'iter_6.pth'))

    out = subprocess.run(train_cmd(data_root, killed, '--resume'), cwd=ROOT,
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, failure_summary(out.stdout + out.stderr)
    log = out.stdout + out.stderr
    assert 'Resumed the data order at iteration' in log
    assert 'and the RNG states' in log
    assert 'Advance dataloader' not in log

    expected, got = final_weights(full), final_weights(killed)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
