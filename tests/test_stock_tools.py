"""The OpenMMLab entry points outside the project's tools take the project's
configs: ``mim train|test``, which run the stock ``tools/train.py`` and
``tools/test.py`` shipped in the mmseg and mmdet wheels (``.mim/tools``), in
one process and with ``--launcher pytorch`` on two CPU processes (the configs
load ``mmlightvit`` through ``custom_imports`` only; its compatibility layer
starts gloo and turns SyncBN into BN), and mmpretrain's ``get_model`` and
``ImageClassificationInferencer`` with a classification config."""
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmlightvit.datasets.toy import make_toy_ade20k, make_toy_coco
from helpers import ROOT, failure_summary, free_port

pytestmark = pytest.mark.usefixtures('single_thread')

SEG_CONFIG = osp.join(
    ROOT, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py')
DET_CONFIG = osp.join(
    ROOT, 'configs/mobilevit/ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py')
CLS_CONFIG = osp.join(ROOT, 'configs/emo/emo-1m_8xb256_in1k.py')
SEG_METRICS = re.compile(
    r'Iter\((val|test)\).*aAcc: ([\d.]+)\s+mIoU: ([\d.]+)\s+mAcc: ([\d.]+)')


def mim(*args):
    """``mim ARGS`` in the repository root with the test's Python; the
    output (stdout + stderr) of a run that must succeed."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-m', 'mim', *args], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, failure_summary(out)
    return out


def data_options(data_root, splits):
    return [f'{split}_dataloader.{key}' for split in splits
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    return make_toy_ade20k(root, num_train=8, num_val=4, size=64, seed=2)


@pytest.fixture(scope='module')
def seg_run(seg_root, tmp_path_factory):
    """``mim train mmseg CONFIG --launcher pytorch --gpus 2`` on CPU: two
    iterations, then a checkpoint and validation; (work dir, output)."""
    work_dir = str(tmp_path_factory.mktemp('seg_work'))
    out = mim(
        'train', 'mmseg', SEG_CONFIG, '--launcher', 'pytorch', '--gpus', '2',
        '--port', free_port(), '--work-dir', work_dir, '--cfg-options',
        *data_options(seg_root, ('train', 'val')),
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        # BN statistics of each process's last batch alone: per-process
        # statistics would score differently from the checkpoint's
        *[f'model.{part}.norm_cfg.momentum=1.0'
          for part in ('backbone', 'decode_head', 'auxiliary_head')])
    return work_dir, out


@pytest.mark.slow
def test_mim_train_two_cpu_processes_through_the_stock_train_py(seg_run):
    work_dir, out = seg_run
    stock = osp.join('mmseg', '.mim', 'tools', 'train.py')
    assert re.search(r'Training command is \S+ -m torch\.distributed\.launch '
                     r'--nproc_per_node=2 .*' + re.escape(stock), out)
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert 'using the gloo backend instead of nccl' in out
    assert 'SyncBN layers become BN' in out
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))


@pytest.mark.slow
def test_mim_test_one_and_two_processes_score_what_validation_did(
        seg_run, seg_root):
    work_dir, train_out = seg_run
    ckpt = osp.join(work_dir, 'iter_2.pth')
    options = ['--work-dir', work_dir, '--cfg-options',
               *data_options(seg_root, ('test', ))]
    single = mim('test', 'mmseg', SEG_CONFIG, '--checkpoint', ckpt, *options)
    dist = mim('test', 'mmseg', SEG_CONFIG, '--checkpoint', ckpt,
               '--launcher', 'pytorch', '--gpus', '2', '--port', free_port(),
               *options)
    assert 'GPU number: 2' in dist
    val, = SEG_METRICS.findall(train_out)
    tested = SEG_METRICS.findall(single) + SEG_METRICS.findall(dist)
    assert val[0] == 'val' and [t[0] for t in tested] == ['test', 'test']
    assert float(val[1]) > 0  # some pixels right: a comparison that can tell
    # the validation during the 2-process training scored the checkpoint
    assert tested[0][1:] == tested[1][1:] == val[1:]


@pytest.mark.slow
def test_mim_train_mmdet_one_process_through_the_stock_train_py(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_toy_coco(root, num_train=8, num_val=4, size=128, seed=2)
    work_dir = str(tmp_path / 'work')
    out = mim(
        'train', 'mmdet', DET_CONFIG, '--gpus', '0', '--work-dir', work_dir,
        '--cfg-options', *data_options(root, ('train', 'val')),
        'train_dataloader.batch_size=4', 'train_cfg.max_epochs=1',
        f'val_evaluator.ann_file={root}annotations/instances_val2017.json',
        # an untrained detector scores below the default threshold: keep all
        'model.test_cfg.score_thr=0.0')
    stock = osp.join('mmdet', '.mim', 'tools', 'train.py')
    assert re.search(r'Training command is \S+ \S*' + re.escape(stock), out)
    assert 'Distributed training: False' in out
    assert re.search(r'Epoch\(val\) \[1\]\[\d+/\d+\]\s+coco/bbox_mAP: ', out)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_mmpretrain_get_model_and_inferencer(tmp_path):
    from mmpretrain import ImageClassificationInferencer, get_model
    model = get_model(CLS_CONFIG, device='cpu')
    assert type(model.backbone).__name__ == 'EMO'
    classes = [f'class {i}' for i in range(1000)]
    ckpt = str(tmp_path / 'emo.pth')
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': classes}}}, ckpt)

    loaded = get_model(CLS_CONFIG, pretrained=ckpt, device='cpu')
    fresh = get_model(CLS_CONFIG, device='cpu')  # other random weights
    state, loaded_state = model.state_dict(), loaded.state_dict()
    assert all(torch.equal(loaded_state[k], v) for k, v in state.items())
    assert not all(torch.equal(fresh.state_dict()[k], v)
                   for k, v in state.items())

    image = np.random.default_rng(0).integers(0, 255, (40, 50, 3), np.uint8)
    by_config = ImageClassificationInferencer(
        CLS_CONFIG, pretrained=ckpt, device='cpu')(image)[0]
    by_model = ImageClassificationInferencer(loaded, device='cpu')(image)[0]
    by_fresh = ImageClassificationInferencer(fresh, device='cpu')(image)[0]
    assert by_config['pred_scores'].shape == (1000, )
    np.testing.assert_allclose(by_config['pred_scores'],
                               by_model['pred_scores'], rtol=1e-5, atol=1e-7)
    assert not np.allclose(by_config['pred_scores'], by_fresh['pred_scores'])
    label = int(np.argmax(by_config['pred_scores']))
    assert by_config['pred_label'] == label
    assert by_config['pred_class'] == f'class {label}'
