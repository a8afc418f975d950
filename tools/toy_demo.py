"""The CPU end-to-end toy demo (``make demo``): make the toy ADE20K dataset,
train EMO-1M DeepLabv3 on it through tools/train.py, test the last
checkpoint through tools/test.py, print aAcc / mIoU / mAcc next to a
constant predictor, and paint one validation image (input | ground truth |
prediction) with demo/image_demo.py.

    python tools/toy_demo.py [--work-dir work_dirs/demo] [--amp]

At the end it prints the metrics beside the time training took.

The toy data goes to data/toy/ade, the data_root of the toy config.
"""
import argparse
import glob
import os.path as osp
import subprocess
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image

from mmlightvit.apis.logs import final_metrics
from mmlightvit.compat import read_last_checkpoint
from mmlightvit.datasets.toy import make_toy_ade20k

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
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


def run(step, cmd):
    print(f'[{step}/4]', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--amp', action='store_true',
                        help='train with tools/train.py --amp (bf16 '
                        'autocast on a CPU with AMX / AVX512-BF16)')
    args = parser.parse_args()

    data_root = osp.join(ROOT, 'data', 'toy', 'ade')
    print(f'[1/4] toy ADE20K in {data_root}', flush=True)
    make_toy_ade20k(data_root)
    ade = osp.join(data_root, 'ADEChallengeData2016')
    py = sys.executable
    train = [py, 'tools/train.py', TOY_CONFIG, '--work-dir', args.work_dir]
    start = time.perf_counter()
    run(2, train + (['--amp'] if args.amp else []))
    train_seconds = time.perf_counter() - start
    ckpt = read_last_checkpoint(osp.join(ROOT, args.work_dir))
    run(3, [py, 'tools/test.py', TOY_CONFIG, ckpt, '--work-dir',
            args.work_dir])
    image = sorted(glob.glob(osp.join(ade, 'images', 'validation',
                                      '*.jpg')))[0]
    name = osp.splitext(osp.basename(image))[0]
    picture = osp.join(args.work_dir, 'demo.png')
    run(4, [py, 'demo/image_demo.py', image, TOY_CONFIG, ckpt, '--gt',
            osp.join(ade, 'annotations', 'validation', f'{name}.png'),
            '--out-file', picture])
    metrics, source, _ = final_metrics(osp.join(ROOT, args.work_dir))
    if source != 'test':
        sys.exit(f'demo failed: no test results under {args.work_dir}')
    baseline = constant_predictor_miou(
        osp.join(ade, 'annotations', 'validation'))
    print('\nEMO DeepLabv3 on the toy ADE20K (validation split)')
    print('| model | aAcc | mIoU | mAcc |')
    print('|---|---|---|---|')
    print(f"| EMO-1M DeepLabv3 ({osp.basename(ckpt)}) | {metrics['aAcc']:.2f} "
          f"| {metrics['mIoU']:.2f} | {metrics['mAcc']:.2f} |")
    print(f'| constant predictor | | {baseline:.2f} | |')
    iters = Config.fromfile(osp.join(ROOT, TOY_CONFIG)).train_cfg.max_iters
    print(f'\ntraining took {train_seconds:.0f} s for {iters} iterations '
          f'({train_seconds / iters:.2f} s/iteration, start-up and the '
          f'final validation included; {torch.get_num_threads()} threads'
          f'{", --amp" if args.amp else ""}): mIoU {metrics["mIoU"]:.2f}')
    print(f'\ncheckpoints and logs written to {args.work_dir}; picture of '
          f'{osp.basename(image)} written to {picture}')
    if metrics['mIoU'] <= baseline:
        sys.exit('demo failed: the trained model does not beat a constant '
                 'predictor')


if __name__ == '__main__':
    main()
