"""Inference latency and throughput of a config's model (mmseg/mmdet
``tools/analysis_tools/benchmark.py``, on synthetic input, no dataset).

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT]
        [--deploy] [--backbone-only] [--mode predict|tensor] [--shape H W]
        [--batch-size N] [--repeat N] [--warmup N] [--device cpu|cuda]
        [--threads N] [--out RESULT.json] [--cfg-options k=v ...]

One random batch at the input shape (default as get_flops: seg 512x512, det
the config's test scale, cls its test crop) is run ``--warmup`` times, then
timed ``--repeat`` times (``n/N`` progress on stderr). What is timed: the
whole inference (``model.predict``: network + post-processing, i.e. resizing
+ argmax for segmentors, box decoding + NMS for detectors) by default; the
raw network (``--mode tensor``); or the backbone alone (``--backbone-only``).
Data loading and the data preprocessor are not timed. ``--deploy`` first
calls ``switch_to_deploy()`` on the modules that have it (RepViT).

Printed: median latency per batch with its spread (IQR = p75 - p25, and the
min), and images/s = batch size / median latency; ``--out`` also writes them
as JSON.
"""
import argparse
import json

import torch
from mmengine.config import DictAction

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.model import (ShapeAction, build_model,
                                   default_input_shape, load_model_config,
                                   task_of)
from mmlightvit.apis.reparam import switch_to_deploy
from mmlightvit.apis.tables import fmt_ms
from mmlightvit.apis.timing import make_runner, summarize, time_fn


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Inference latency / throughput of a model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint to load (default: '
                        'the initial weights; latency does not depend on '
                        'them except for the number of boxes NMS sees)')
    parser.add_argument('--deploy', action='store_true',
                        help='switch_to_deploy() the modules that have it')
    parser.add_argument('--backbone-only', action='store_true',
                        help='time model.backbone only')
    parser.add_argument('--mode', choices=['predict', 'tensor'],
                        default='predict',
                        help='predict: network + post-processing; tensor: '
                        'raw network outputs')
    parser.add_argument('--shape', type=int, nargs='+', action=ShapeAction,
                        help='input H W (or one side)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=50,
                        help='timed runs')
    parser.add_argument('--warmup', type=int, default=10,
                        help='untimed runs first')
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu',
                        help='cpu or cuda[:N]')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--out', help='also write the results as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--repeat and --batch-size must be >= 1, --warmup >= 0')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('--device cuda: CUDA is not available')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_model_config(args.config, args.cfg_options)
    task = task_of(cfg)
    shape = args.shape or default_input_shape(cfg)
    model = build_model(cfg, args.device, checkpoint=args.checkpoint)
    switched = switch_to_deploy(model) if args.deploy else []
    model.eval()
    run = make_runner(model, task, shape, args.batch_size, args.mode,
                      args.backbone_only, args.device)
    stats = summarize(time_fn(run, args.repeat, args.warmup, args.device,
                              progress=True))
    stats['images_per_s'] = args.batch_size / stats['median']
    what = 'backbone' if args.backbone_only else (
        'network + post-processing' if args.mode == 'predict'
        else 'network (raw outputs)')
    device = args.device if args.device != 'cpu' else \
        f'cpu ({torch.get_num_threads()} threads)'
    print(f'Config: {args.config}\nTask: {task}; timed: {what}'
          f'{"; deploy form: " + ", ".join(switched) if args.deploy else ""}'
          f'\nDevice: {device}; input {args.batch_size}x3x{shape[0]}x'
          f'{shape[1]}; {args.warmup} warm-up + {args.repeat} timed runs')
    if args.deploy and not switched:
        print('(--deploy: no module of this model has switch_to_deploy)')
    print(f'Latency per batch: median {fmt_ms(stats["median"])}, IQR '
          f'{fmt_ms(stats["iqr"])} (p25 {fmt_ms(stats["p25"])}, p75 '
          f'{fmt_ms(stats["p75"])}), min {fmt_ms(stats["min"])}\n'
          f'Throughput: {stats["images_per_s"]:.2f} images/s')
    result = dict(stats, task=task, shape=tuple(shape), switched=switched)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(result, config=args.config, timed=what,
                           device=device, batch_size=args.batch_size), f,
                      indent=1)
        print(f'results written to {args.out}')
    return result


if __name__ == '__main__':
    run_cli(main)
