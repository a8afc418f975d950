"""End to end through the real tools: train -> resume -> test on toy ADE20K,
the missing-dataset message, and the launch scripts' choice of Python."""
import os
import os.path as osp
import re
import subprocess

import pytest
import torch

from mmlightvit.datasets.toy import make_toy_ade20k
from helpers import failure_summary, run_tool  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


def data_options(data_root):
    """--cfg-options that point every split at data_root, in-process."""
    return [f'{split}_dataloader.{key}'
            for split in ('train', 'val', 'test')
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy')
    make_toy_ade20k(str(root), num_train=8, num_val=4, size=64, seed=1)
    return osp.join(str(root), 'ADEChallengeData2016')


def test_train_resume_test(toy_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    common = ['--work-dir', work_dir, '--cfg-options', *data_options(toy_root),
              'train_dataloader.batch_size=2',
              'default_hooks.checkpoint.interval=2',
              'default_hooks.logger.interval=1', 'train_cfg.val_interval=100']
    rc, out = run_tool('tools/train.py', TOY_CONFIG, *common,
                       'train_cfg.max_iters=2')
    assert rc == 0, failure_summary(out)
    first = torch.load(osp.join(work_dir, 'iter_2.pth'), map_location='cpu',
                       weights_only=False)
    assert first['meta']['iter'] == 2

    # the resumed run (SyncBN config, one process) continues from iter 2
    rc, out = run_tool('tools/train.py', TOY_CONFIG, '--resume', *common,
                       'train_cfg.max_iters=4')
    assert rc == 0, failure_summary(out)
    assert 'resumed epoch: 0, iter: 2' in out, out
    assert re.search(r'Iter\(train\) \[3/4\]', out), out
    assert not re.search(r'Iter\(train\) \[1/4\]', out), out
    resumed = torch.load(osp.join(work_dir, 'iter_4.pth'), map_location='cpu',
                         weights_only=False)
    assert resumed['meta']['iter'] == 4
    assert any(not torch.equal(first['state_dict'][k], v)
               for k, v in resumed['state_dict'].items() if v.is_floating_point())

    rc, out = run_tool('tools/test.py', TOY_CONFIG,
                       osp.join(work_dir, 'iter_4.pth'), '--work-dir', work_dir,
                       '--show-dir', str(tmp_path / 'vis'), '--cfg-options',
                       *data_options(toy_root))
    assert rc == 0, failure_summary(out)
    match = re.search(r'aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)', out)
    assert match, out
    assert all(0 <= float(v) <= 100 for v in match.groups())
    assert len(list((tmp_path / 'vis').rglob('*.png'))) == 4


def test_missing_dataset_stops_with_clear_message(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'ADEChallengeData2016')
    rc, out = run_tool('tools/train.py', 'configs/emo/deeplabv3_emo_ade20k.py',
                       '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                       *data_options(missing))
    assert rc != 0
    assert missing in out
    assert 'make_toy_data.py ade20k' in out
    assert 'annotations' in out and 'images' in out


def _project_python():
    venv = osp.join(ROOT, '.venv', 'bin', 'python')
    return venv if os.access(venv, os.X_OK) else 'python'


def _run_script(args, **env):
    """A launch script with a PATH that holds no project Python."""
    env = dict(PATH='/usr/bin:/bin', HOME=os.environ.get('HOME', '/tmp'),
               **env)
    proc = subprocess.run(['bash', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


def test_launch_scripts_find_the_project_python(tmp_path):
    """dist_train.sh reaches tools/train.py through the repository's .venv
    (not a bare `python`, which has no torch here); $PYTHON wins."""
    missing = str(tmp_path / 'missing.py')
    out = _run_script(['tools/dist_train.sh', missing, '1'])
    if _project_python() != 'python':
        assert f'config file {missing} does not exist' in out, out
        assert 'No module named' not in out, out
    # slurm_train.sh traces its srun command (set -x): the Python it picked
    out = _run_script(['tools/slurm_train.sh', 'p', 'job', missing])
    assert f'{_project_python()} -u tools/train.py {missing}' in out, out
    out = _run_script(['tools/dist_test.sh', missing, 'ckpt.pth', '1'],
                      PYTHON='/nowhere/python')
    assert '/nowhere/python' in out
