"""Training-step time of a segmentation config with mmseg's loss and with
the fused loss of ``FusedSegLossHook`` (:mod:`mmlightvit.models.seg_loss`),
side by side in one run.

    python tools/analysis_tools/benchmark_train.py CONFIG [--shape H W]
        [--batch-size N] [--repeat 10] [--warmup 2] [--threads N]
        [--cfg-options k=v ...]

Both models start from the same weights (the config's model in training
mode, SyncBN as BN, dropout and drop path as configured) and see the same
random batch: images and labels of the config's classes at ``--shape``
(default: the crop size of its data preprocessor), the top eighth of every
label map ignored. A step is the data preprocessor, the forward pass with
both heads' losses and the backward pass (the optimizer step, the same for
both, is left out). Every round times one step of each, in an order that
alternates between rounds.

Printed: per loss, median ± half IQR of the step, the median of the
per-round ratios mmseg / fused, and the agreement of the first step: each
logged loss and accuracy, and the difference of the whole gradient vector
relative to its norm.
"""
import argparse
import copy
import statistics
import sys

import torch
from mmengine.config import DictAction

from mmlightvit.apis.checks import ConfigError
from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.model import (SEG_SHAPE, ShapeAction, build_model,
                                   load_model_config, loss_step,
                                   random_seg_batch, task_of)
from mmlightvit.apis.tables import markdown_table
from mmlightvit.apis.timing import summarize
from mmlightvit.models.seg_loss import FusedSegLossHook


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a segmentation config')
    parser.add_argument('--shape', nargs='+', type=int, action=ShapeAction,
                        help='H W of the batch (default: the crop size)')
    parser.add_argument('--batch-size', type=int,
                        help="default: the config's train batch size")
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int,
                        help='torch threads (default: as torch sets them)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error('--repeat must be >= 1 and --warmup >= 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_model_config(args.config, args.cfg_options)
    if task_of(cfg) != 'seg':
        raise ConfigError(f'{args.config} is not a segmentation config '
                          f'(default_scope {cfg.default_scope!r}, not '
                          f"'mmseg')")
    shape = args.shape or tuple(cfg.model.data_preprocessor.get(
        'size') or SEG_SHAPE)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    models = {'mmseg': build_model(cfg, with_aux=True).train()}
    models['fused'] = copy.deepcopy(models['mmseg'])
    FusedSegLossHook().before_train(argparse.Namespace(
        model=models['fused']))
    batch = random_seg_batch(shape, batch_size,
                             models['mmseg'].decode_head.num_classes)

    first = {}
    for name, model in models.items():
        torch.manual_seed(0)  # the same dropout / drop path draws
        first[name] = loss_step(model, batch)[:2]
    times = {name: [] for name in models}
    names = list(models)
    for i in range(args.warmup + args.repeat):
        for name in (names if i % 2 else names[::-1]):
            seconds = loss_step(models[name], batch)[2]
            if i >= args.warmup:
                times[name].append(seconds)
        print(f'round {i + 1}/{args.warmup + args.repeat}', file=sys.stderr,
              flush=True)

    print(f'{args.config}: training step (forward with the losses, backward)'
          f', batch {batch_size} x {shape[0]}x{shape[1]}, '
          f'{torch.get_num_threads()} thread(s), {args.repeat} rounds '
          f'after {args.warmup} warm-up')
    rows = []
    for name in names:
        s = summarize(times[name])
        rows.append([f'{name} loss', f'{s["median"] * 1e3:.0f} ± '
                     f'{s["iqr"] * 5e2:.0f} ms'])
    ratio = statistics.median(
        m / f for m, f in zip(times['mmseg'], times['fused']))
    print('\n'.join(markdown_table(['loss', 'step'], rows)))
    print(f'speed-up of the step (median of the per-round ratios mmseg / '
          f'fused): {ratio:.2f}x')
    (ref_logs, ref_grads), (logs, grads) = first['mmseg'], first['fused']
    for key, value in ref_logs.items():
        print(f'  {key}: mmseg {value:.6f}, fused {logs[key]:.6f}')
    diff = ((grads - ref_grads).norm() / ref_grads.norm()).item()
    print(f'  gradients: |fused - mmseg| / |mmseg| = {diff:.2e}')


if __name__ == '__main__':
    run_cli(main)
