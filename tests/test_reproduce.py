"""tools/reproduce.py ROW: the published row's config trained and tested
through tools/dist_train.sh / dist_test.sh with the published GPU count, then
the published numbers beside the reproduced ones (reproduce.md / .csv).
End to end on CPU: one process, toy ADE20K, one iteration."""
import csv
import glob
import json
import os
import os.path as osp
import socket
import sys

import pytest

from mmlightvit.apis.reproduce import (ReproduceError, compare, find_row,
                                       list_rows, published_gpus,
                                       published_rows, reproduce,
                                       write_results)
from mmlightvit.datasets.toy import make_toy_ade20k
from helpers import failure_summary, run_tool

ROW = 'deeplabv3_emo-1m_8xb4-80k_ade20k-512x512'
MASK_RCNN = 'mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco'


def test_every_published_row_has_its_gpu_count():
    rows = published_rows()
    assert ROW in {r['name'] for r in rows}
    assert all(r['metrics'] for r in rows)
    for row in rows:  # <gpus>xb<batch> in every config name
        assert published_gpus(row) >= 1, row['name']
    assert published_gpus(find_row(ROW)) == 8
    assert published_gpus(find_row(MASK_RCNN)) == 8
    table = '\n'.join(list_rows())
    assert f'| {ROW} | seg | 8 | 33.5 mIoU, 75 aAcc |' in table


def test_unknown_row_names_the_closest():
    with pytest.raises(ReproduceError, match=f"no published row 'deeplabv3_"
                       f"emo-1m_ade20k' in the metafiles .closest: {ROW}"):
        find_row('deeplabv3_emo-1m_ade20k')


def test_dry_run_prints_both_commands_with_the_published_gpus(tmp_path):
    lines = []
    assert reproduce(ROW, work_dir=str(tmp_path), dry_run=True,
                     cfg_options=['a=1', 'b.c=x'], log=lines.append) is None
    config = f'configs/emo/{ROW}.py'
    assert lines[0] == f'{ROW}: published 33.5 mIoU, 75 aAcc (EMO README), ' \
        '8 GPUs'
    assert lines[1] == f'[train] tools/dist_train.sh {config} 8 --work-dir ' \
        f'{tmp_path} --cfg-options a=1 b.c=x'
    assert lines[2].startswith(f'[test] tools/dist_test.sh {config} ')
    assert lines[2].endswith(f"last_checkpoint>' 8 --work-dir {tmp_path} "
                             '--cfg-options a=1 b.c=x')
    assert not os.listdir(tmp_path)  # nothing ran
    lines.clear()
    reproduce(ROW, gpus=2, work_dir=str(tmp_path), dry_run=True,
              log=lines.append)
    assert lines[1].startswith('note: 2 GPU(s) instead of 8')
    assert ' 2 --work-dir ' in lines[2] and '--cfg-options' not in lines[2]
    with pytest.raises(ReproduceError, match='--gpus must be at least 1'):
        reproduce(ROW, gpus=0, dry_run=True, log=lines.append)


def test_compare_in_published_units():
    """Detection metrics are logged as fractions, published in percent; a
    metric the run did not log stays empty."""
    entry = find_row(MASK_RCNN)
    rows = compare(entry, {'coco/bbox_mAP': 0.401, 'coco/bbox_mAP_50': 0.6})
    assert [r[0] for r in rows] == ['box AP', 'mask AP']
    name, published, reproduced, diff = rows[0]
    assert (published, round(reproduced, 6), round(diff, 6)) == (
        39.8, 40.1, 0.3)
    assert rows[1] == ('mask AP', 37.2, None, None)
    rows = compare(find_row(ROW), {'mIoU': 30.25, 'aAcc': 76.0})
    assert rows == [('mIoU', 33.5, 30.25, -3.25), ('aAcc', 75.0, 76.0, 1.0)]


def test_results_table_files(tmp_path):
    entry = find_row(MASK_RCNN)
    rows = compare(entry, {'coco/bbox_mAP': 0.401})
    md, table = write_results(entry, rows, str(tmp_path), 1, 'ckpt.pth')
    text = open(md).read()
    assert '- GPUs: 1 (published: 8)' in text
    assert '| metric | published | reproduced | difference |' in text
    assert '| box AP | 39.8 | 40.10 | +0.30 |' in text
    assert '| mask AP | 37.2 |  |  |' in text
    with open(table) as f:
        records = list(csv.DictReader(f))
    assert records[0] == dict(row=MASK_RCNN, metric='box AP', published='39.8',
                              reproduced='40.10', difference='+0.30', gpus='1',
                              published_gpus='8', checkpoint='ckpt.pth')


def test_script_refuses_an_unknown_row():
    rc, out = run_tool('tools/reproduce.py', 'no_such_row')
    assert rc == 1
    assert out.strip().splitlines()[-1].startswith(
        "error: no published row 'no_such_row' in the metafiles")


@pytest.mark.slow
def test_reproduce_end_to_end_on_toy_data(tmp_path):
    """One process (--gpus 1) through the launch scripts, the real EMO-1M
    DeepLabv3 config on toy ADE20K for one iteration (from scratch: tests
    run offline): the table holds the published number, the number
    tools/test.py logged, and their difference."""
    data = make_toy_ade20k(str(tmp_path / 'toy'), num_train=2, num_val=1,
                           size=64, seed=4)
    work = tmp_path / 'work'
    options = [f'{split}_dataloader.{key}'
               for split in ('train', 'val', 'test')
               for key in (f'dataset.data_root={data}', 'num_workers=0',
                           'persistent_workers=False')]
    options += ['train_dataloader.batch_size=2', 'train_cfg.max_iters=1',
                'train_cfg.val_interval=1',
                'default_hooks.checkpoint.interval=1',
                'model.backbone.init_cfg=None']
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, PYTHON=sys.executable, PORT=port)
    rc, out = run_tool('tools/reproduce.py', ROW, '--gpus', '1',
                       '--work-dir', str(work), '--cfg-options', *options,
                       env=env)
    assert rc == 0, failure_summary(out)
    assert '[train] tools/dist_train.sh' in out
    assert '[test] tools/dist_test.sh' in out
    # what tools/test.py logged: <work>/<timestamp>/<timestamp>.json
    logged, = [p for p in glob.glob(str(work / '*' / '*.json'))
               if osp.basename(p) == osp.basename(osp.dirname(p)) + '.json']
    with open(logged) as f:
        metrics = json.loads(f.read().strip().splitlines()[-1])
    with open(work / 'reproduce.csv') as f:
        records = {r['metric']: r for r in csv.DictReader(f)}
    assert set(records) == {'mIoU', 'aAcc'}
    for name, published in (('mIoU', 33.5), ('aAcc', 75.0)):
        record = records[name]
        assert float(record['published']) == published
        assert record['reproduced'] == f'{metrics[name]:.2f}'
        assert record['difference'] == f'{metrics[name] - published:+.2f}'
        assert (record['gpus'], record['published_gpus']) == ('1', '8')
        assert osp.isfile(record['checkpoint'])
    text = (work / 'reproduce.md').read_text()
    assert f'| mIoU | 33.5 | {metrics["mIoU"]:.2f} |' in text
    assert text in out  # printed as well
