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
as JSON. ``--fast [--precision bf16] [--no-compile]`` times the fast path
(:func:`mmlightvit.apis.fast_inference`).

Side by side (``--compare``, one or more configs): per config, the backbone
and the whole network (``--parts``) as reference (timm for RepViT /
MobileViT, else our eager model), eager fp32, fast fp32, fast bf16,
onnxruntime and OpenVINO fp32 / bf16 (optional extra; 'n/a' when not
installed), batch 1, interleaved rounds, medians ± half IQR and ratios to
the reference, and the cosine of fast bf16 against eager fp32
(:mod:`mmlightvit.apis.compare`). ``--readme FILE`` writes the table between
the ``<!-- benchmark:start -->`` / ``<!-- benchmark:end -->`` markers.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...] --compare
        [--parts backbone model] [--threads 2] [--repeat 10]
        [--readme README.md]
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

from mmlightvit.apis import compare
from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.fast import PRECISIONS, autocast_dtype, fast_inference
from mmlightvit.apis.model import (ShapeAction, build_model,
                                   default_input_shape, load_model_config,
                                   task_of)
from mmlightvit.apis.reparam import switch_to_deploy
from mmlightvit.apis.tables import (fmt_ms, split_at_markers,
                                    write_between_markers)
from mmlightvit.apis.timing import make_runner, summarize, time_fn


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Inference latency / throughput of a model')
    parser.add_argument('config', nargs='+',
                        help='config file (several with --compare)')
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
    parser.add_argument('--fast', action='store_true',
                        help='time the fast path (fast_inference)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='precision of --fast')
    parser.add_argument('--no-compile', action='store_true',
                        help='--fast / --compare without torch.compile')
    parser.add_argument('--compare', action='store_true',
                        help='side by side: reference, eager, fast fp32 / '
                        'bf16, onnxruntime, OpenVINO')
    parser.add_argument('--parts', nargs='+', choices=compare.PARTS,
                        default=list(compare.PARTS),
                        help='--compare: backbone and/or whole model')
    parser.add_argument('--readme',
                        help='--compare: write the table into this file '
                        'between the benchmark markers')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if not args.compare:
        if len(args.config) > 1:
            parser.error('several configs need --compare')
        args.config = args.config[0]
    if args.repeat < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--repeat and --batch-size must be >= 1, --warmup >= 0')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('--device cuda: CUDA is not available')
    try:
        if args.fast:
            autocast_dtype(args.precision, args.device)
        if args.readme:  # before the long run, not after it
            split_at_markers(args.readme, *README_MARKERS)
    except ValueError as e:
        parser.error(str(e))
    return args


README_MARKERS = ('<!-- benchmark:start -->', '<!-- benchmark:end -->')


def main_compare(args):
    rows = []
    for config in args.config:
        cfg = load_model_config(config, args.cfg_options)
        name = osp.splitext(osp.basename(config))[0]
        for part in args.parts:
            print(f'{name} {part}: building (torch.compile and the ONNX '
                  f'export take a while)', file=sys.stderr, flush=True)
            rows.append((name, compare.compare(
                cfg, part, args.shape, args.repeat, args.warmup,
                not args.no_compile, args.threads,
                progress=lambda m: print(m, file=sys.stderr, flush=True))))
    lines = [f'Batch 1, CPU, {torch.get_num_threads()} thread(s), '
             f'{args.repeat} interleaved rounds; cells: median ± half IQR '
             f'(median ratio reference / candidate over the rounds).', '']
    lines += compare.compare_table(rows)
    print('\n'.join(lines))
    if args.readme:
        write_between_markers(args.readme, *README_MARKERS, lines)
        print(f'table written to {args.readme}')
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compare:
        return main_compare(args)
    cfg = load_model_config(args.config, args.cfg_options)
    task = task_of(cfg)
    shape = args.shape or default_input_shape(cfg)
    model = build_model(cfg, args.device, checkpoint=args.checkpoint)
    switched = switch_to_deploy(model) if args.deploy else []
    model.eval()
    if args.fast:
        fast_inference(model.backbone if args.backbone_only else model,
                       args.precision, not args.no_compile)
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
          f'{"; fast path, " + args.precision if args.fast else ""}'
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
