"""The embedded default (``make demo``): make the toy ADE20K dataset, train EMO
DeepLabv3 on it on CPU through tools/train.py, test the last checkpoint through
tools/test.py, print aAcc / mIoU / mAcc next to a constant predictor, and paint
one validation image's prediction with demo/image_demo.py.

    python tools/demo.py [--work-dir work_dirs/demo]

The toy data goes to data/toy/ade, the data_root of the toy config.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmlightvit.compat import read_last_checkpoint  # noqa: E402
from mmlightvit.datasets.toy import make_toy_ade20k  # noqa: E402

TOY_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


def constant_predictor_miou(ann_dir):
    """mIoU (over the classes present) of predicting the most frequent class
    everywhere, with ADE20K's reduce_zero_label convention (0 = ignored)."""
    counts = np.zeros(256, dtype=np.int64)
    for path in sorted(glob.glob(osp.join(ann_dir, '*.png'))):
        counts += np.bincount(np.asarray(Image.open(path)).ravel(),
                              minlength=256)
    counts = counts[1:151]  # drop ignore (0); classes 1..150
    present = counts > 0
    # IoU of the predicted class = its share of valid pixels; 0 for the rest.
    return 100 * counts.max() / counts.sum() / present.sum()


def run(cmd):
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def latest_test_metrics(work_dir):
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')),
                  key=osp.getmtime)
    for log in reversed(logs):
        with open(log) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        for entry in reversed(lines):
            if 'mIoU' in entry:
                return entry
    raise RuntimeError(f'no test metrics found under {work_dir}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args()

    data_root = osp.join(ROOT, 'data', 'toy', 'ade')
    make_toy_ade20k(data_root)
    ann_dir = osp.join(data_root, 'ADEChallengeData2016', 'annotations',
                       'validation')
    py = sys.executable
    run([py, 'tools/train.py', TOY_CONFIG, '--work-dir', args.work_dir])
    ckpt = read_last_checkpoint(osp.join(ROOT, args.work_dir))
    run([py, 'tools/test.py', TOY_CONFIG, ckpt, '--work-dir', args.work_dir])
    image = sorted(glob.glob(osp.join(data_root, 'ADEChallengeData2016',
                                      'images', 'validation', '*.jpg')))[0]
    picture = osp.join(args.work_dir, 'demo.png')
    run([py, 'demo/image_demo.py', image, TOY_CONFIG, ckpt, '--out-file',
         picture])
    metrics = latest_test_metrics(osp.join(ROOT, args.work_dir))
    baseline = constant_predictor_miou(ann_dir)
    print('\nEMO DeepLabv3 on the toy ADE20K (validation split)')
    print('| model | aAcc | mIoU | mAcc |')
    print('|---|---|---|---|')
    print(f"| EMO-1M DeepLabv3 ({osp.basename(ckpt)}) | {metrics['aAcc']:.2f} "
          f"| {metrics['mIoU']:.2f} | {metrics['mAcc']:.2f} |")
    print(f'| constant predictor | | {baseline:.2f} | |')
    print(f'\nprediction on {osp.basename(image)} painted to {picture}')
    if metrics['mIoU'] <= baseline:
        sys.exit('demo failed: the trained model does not beat a constant '
                 'predictor')


if __name__ == '__main__':
    main()
