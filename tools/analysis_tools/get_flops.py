"""Parameters and FLOPs of a config's model (mmseg/mmdet/mmpretrain
``tools/analysis_tools/get_flops.py``, counted by mmengine's
``FlopAnalyzer`` / ``parameter_count``), or the model zoo tables.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W]
        [--cfg-options k=v ...]
    python tools/analysis_tools/get_flops.py --all [--published]
        [--out FILE.md] [--readme README.md] [--shape H W]
        [--latency REGEX [--threads N] [--repeat N]]

What is counted is the inference model on one random image, up to the raw
network outputs (segmentors without their auxiliary head, whose parameters
are printed apart; detectors without NMS); one multiply-add = one FLOP (see
:mod:`mmlightvit.apis.flops`). Input shape: segmentation 512x512, detection
the config's test scale (padded to the preprocessor's ``pad_size_divisor``),
classification the test crop or 224x224; ``--shape`` overrides it.

``--all`` counts every model of the zoo (``model-index.yml`` ->
``configs/<family>/metafile.yml``) into one Markdown table per task,
printing ``[n/N]`` progress; ``--published`` adds the metafiles' published
numbers beside the measured ones; ``--latency REGEX`` adds the CPU latency
of the models whose config name matches, beside mmdet's stock RTMDet-tiny
measured first in the same run (e.g. ``--latency 'rtmdet|yolox'``);
``--readme`` writes the tables into that file between the zoo markers.
"""
import argparse
import re
import sys

import torch
from mmengine.config import DictAction

from mmlightvit.apis import model_zoo
from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.flops import model_complexity
from mmlightvit.apis.model import ShapeAction
from mmlightvit.apis.tables import (fmt_flops, fmt_params, split_at_markers,
                                    write_between_markers)

README_MARKERS = ('<!-- zoo:start -->', '<!-- zoo:end -->')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of a config (or of the model zoo)')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', action=ShapeAction,
                        help='input H W (or one side); default: seg 512x512, '
                        "det the config's test scale, cls its test crop/224")
    parser.add_argument('--all', action='store_true',
                        help='one Markdown table for every model of the zoo')
    parser.add_argument('--published', action='store_true',
                        help='with --all: add the published numbers')
    parser.add_argument('--out', help='with --all: write the tables here')
    parser.add_argument('--readme', help='with --all: write the tables into '
                        'this file between the zoo markers')
    parser.add_argument('--latency', metavar='REGEX',
                        help='with --all: CPU latency of the configs whose '
                        "name matches (e.g. 'rtmdet|yolox'), beside the stock "
                        'reference')
    parser.add_argument('--threads', type=int, default=2,
                        help='--latency: torch CPU threads (default 2)')
    parser.add_argument('--repeat', type=int, default=10,
                        help='--latency: timed runs per model (default 10)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if bool(args.all) == bool(args.config):
        parser.error('give a CONFIG or --all (not both)')
    if (args.out or args.published or args.readme or args.latency) \
            and not args.all:
        parser.error('--out, --readme, --published and --latency go with '
                     '--all')
    if args.threads < 1 or args.repeat < 1:
        parser.error('--threads and --repeat must be >= 1')
    try:
        if args.latency:
            re.compile(args.latency)
        if args.readme:  # before the long run, not after it
            split_at_markers(args.readme, *README_MARKERS)
    except (re.error, ValueError) as e:
        parser.error(f'{e}')
    return args


def main(argv=None):
    torch.set_num_threads(min(torch.get_num_threads(), 4))
    args = parse_args(argv)
    if args.all:
        if args.latency:
            torch.set_num_threads(args.threads)
        try:
            table = model_zoo.zoo_table(
                shape=args.shape, published=args.published,
                log=lambda s: print(s, file=sys.stderr, flush=True),
                latency=args.latency, repeat=args.repeat)
        except ValueError as e:  # a pattern that matches nothing
            sys.exit(f'error: {e}')
        print(table)
        if args.out:
            with open(args.out, 'w') as f:
                f.write(table)
            print(f'tables written to {args.out}')
        if args.readme:
            write_between_markers(args.readme, *README_MARKERS,
                                  table.splitlines())
            print(f'tables written to {args.readme}')
        return table
    res = model_complexity(args.config, args.shape, args.cfg_options)
    h, w = res['shape']
    split = '=' * 30
    print(f'{split}\nConfig: {args.config}\nTask: {res["task"]}\n'
          f'Input shape: {h}x{w}\n'
          f'Flops: {fmt_flops(res["flops"])} ({res["flops"]})\n'
          f'Params: {fmt_params(res["params"])} ({res["params"]})')
    if res['aux_params']:
        print(f'Auxiliary head (training only, not counted): '
              f'{fmt_params(res["aux_params"])} ({res["aux_params"]})')
    if res['unsupported']:
        print('Ops not counted: ' + ', '.join(
            f'{op} x{n}' for op, n in sorted(res['unsupported'].items())))
    print(split)
    return res


if __name__ == '__main__':
    run_cli(main)
