"""Two processes on CPU through the real launchers (torchrun via
tools/dist_train.sh / dist_test.sh, gloo): SyncBN segmentation and detection
configs train (SyncBN becomes per-process BN), validate, save a checkpoint;
the validation during training, the distributed test and a single-process
test of the checkpoint give the same metrics (the BN running statistics are
averaged across the processes before validation and saving)."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmlightvit.compat import load_checkpoint_file
from mmlightvit.datasets.toy import make_toy_ade20k, make_toy_coco
from helpers import ROOT, failure_summary, free_port

pytestmark = pytest.mark.slow


def run(cmd):
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
               OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, failure_summary(out)
    return out


def loaders(data_root, splits, *extra):
    return [f'{split}_dataloader.{key}' for split in splits
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False', *extra)]


SEG_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


def seg_case(tmp_path):
    root = make_toy_ade20k(str(tmp_path / 'toy'), num_train=8, num_val=4,
                           size=64, seed=2)  # -> .../ADEChallengeData2016
    # the toy config with an EMA of weights and buffers (the recipes' EMAHook
    # with update_buffers=True): validation and the checkpoint use the EMA's
    config = tmp_path / 'seg_ema.py'
    config.write_text(
        f"_base_ = {osp.join(ROOT, SEG_CONFIG)!r}\n"
        "custom_hooks = [dict(type='RandomStateHook'), dict(type='EMAHook', "
        "momentum=0.5, update_buffers=True, priority='ABOVE_NORMAL')]\n")
    return dict(
        config=str(config),
        train=[*loaders(root, ('train', 'val')),
               'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
               'train_cfg.val_interval=2',
               'default_hooks.checkpoint.interval=2',
               # BN statistics of each process's last batch alone: per-process
               # statistics would score differently from the checkpoint's
               *[f'model.{part}.norm_cfg.momentum=1.0' for part in (
                   'backbone', 'decode_head', 'auxiliary_head')]],
        test=loaders(root, ('test', )), ckpt='iter_2.pth', ema=True,
        metrics=re.compile(r'aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)'))


def det_case(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_toy_coco(root, num_train=8, num_val=4, size=128, seed=2)
    ann = f'{root}annotations/instances_val2017.json'
    return dict(
        config='configs/mobilevit/ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py',
        train=[*loaders(root, ('train', 'val')),
               'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
               'train_cfg.val_interval=1', f'val_evaluator.ann_file={ann}',
               'model.test_cfg.score_thr=0.0'],
        # an untrained detector scores below the default threshold: keep all
        test=[*loaders(root, ('test', )), f'test_evaluator.ann_file={ann}',
              'model.test_cfg.score_thr=0.0'],
        ckpt='epoch_1.pth',
        metrics=re.compile(r'coco/bbox_mAP: (-?[\d.]+)\s+coco/bbox_mAP_50: '
                           r'(-?[\d.]+)'))


@pytest.mark.parametrize('case', [seg_case, det_case], ids=['seg', 'det'])
def test_two_process_train_and_test_on_cpu(case, tmp_path):
    case = case(tmp_path)
    work_dir = str(tmp_path / 'work')
    out = run(['bash', 'tools/dist_train.sh', case['config'], '2',
               '--work-dir', work_dir, '--cfg-options', *case['train']])
    assert 'Distributed launcher: pytorch' in out
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert 'SyncBN layers become BN' in out
    ckpt = osp.join(work_dir, case['ckpt'])
    assert osp.isfile(ckpt)
    if case.get('ema'):
        assert 'ema_state_dict' in load_checkpoint_file(ckpt)

    test_opts = ['--work-dir', work_dir, '--cfg-options', *case['test']]
    dist = run(['bash', 'tools/dist_test.sh', case['config'], ckpt, '2',
                *test_opts])
    single = run([sys.executable, 'tools/test.py', case['config'], ckpt,
                  *test_opts])
    val_metrics = case['metrics'].findall(out)
    dist_metrics = case['metrics'].findall(dist)
    single_metrics = case['metrics'].findall(single)
    assert val_metrics and dist_metrics and single_metrics
    # validation during training scored what the checkpoint scores
    assert val_metrics[-1] == dist_metrics[-1] == single_metrics[-1]
