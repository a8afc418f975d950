"""Two processes on CPU through the real launchers (torchrun via
tools/dist_train.sh / dist_test.sh, gloo): a SyncBN segmentation config trains,
saves a checkpoint, and the distributed test gives the metrics of a
single-process test of the same checkpoint."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

from mmlightvit.datasets.toy import make_toy_ade20k

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'
METRICS = re.compile(r'aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run(cmd):
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
               OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    return out


def options(data_root, splits):
    return [f'{split}_dataloader.{key}' for split in splits
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]


def test_two_process_train_and_test_on_cpu(tmp_path):
    root = make_toy_ade20k(str(tmp_path / 'toy'), num_train=8, num_val=4,
                           size=64, seed=2)  # -> .../ADEChallengeData2016
    work_dir = str(tmp_path / 'work')
    out = run(['bash', 'tools/dist_train.sh', SEG_CONFIG, '2', '--work-dir',
               work_dir, '--cfg-options',
               *options(root, ('train', 'val', 'test')),
               'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
               'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=2'])
    assert 'Distributed launcher: pytorch' in out
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)

    test_opts = ['--cfg-options', *options(root, ('test', ))]
    dist = run(['bash', 'tools/dist_test.sh', SEG_CONFIG, ckpt, '2',
                '--work-dir', work_dir, *test_opts])
    single = run([sys.executable, 'tools/test.py', SEG_CONFIG, ckpt,
                  '--work-dir', work_dir, *test_opts])
    dist_metrics = METRICS.findall(dist)
    single_metrics = METRICS.findall(single)
    assert dist_metrics and single_metrics
    assert dist_metrics[-1] == single_metrics[-1]
