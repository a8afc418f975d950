"""Test (evaluate) a checkpoint: the mmseg/mmdet ``tools/test.py``.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--allow-partial] [--skip-bad-samples]
        [--fast [--precision fp32|bf16|fp16]]
        [--cfg-options k=v ...] [--launcher pytorch]

A checkpoint that leaves weights of the model unloaded or of another shape is
refused (``--allow-partial`` evaluates it anyway); a broken test sample stops
the run with its file name (``--skip-bad-samples`` leaves it out of the
metrics and reports ``dropped_samples``).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(__file__), '..'))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmlightvit  # noqa: E402,F401  (compat fixes + registry)
from mmlightvit.apis.cli import load_config, run_cli  # noqa: E402
from mmlightvit.apis.fast import add_fast_hook  # noqa: E402
from mmlightvit.apis.model_checks import check_model  # noqa: E402
from mmlightvit.visualization import add_paint_hook  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument('--out', help='dir (mmseg) or .pkl file (mmdet, '
                        'mmpretrain) to save the raw predictions to')
    parser.add_argument('--show', action='store_true',
                        help='show the predictions in a window')
    parser.add_argument('--show-dir', help='dir to save painted predictions')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='the interval of --show (s)')
    parser.add_argument('--allow-partial', action='store_true',
                        help='evaluate a checkpoint that leaves weights of '
                        'the model unloaded or of another shape (warned)')
    parser.add_argument('--skip-bad-samples', action='store_true',
                        help='leave broken samples out of the metrics (and '
                        'count them) instead of stopping')
    parser.add_argument('--fast', action='store_true',
                        help='test through the fast inference path '
                        '(mmlightvit.apis.fast_inference)')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'],
                        default='fp32', help='precision of --fast')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def trigger_visualization_hook(cfg, args):
    """Turn on the config's visualization hook the way each toolbox names it."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        sys.exit(f'error: {args.config}: --show needs a '
                 'visualization hook in default_hooks')
    hook, scope = hooks.visualization, cfg.default_scope
    if scope == 'mmpretrain':
        hook.enable, hook.interval = True, 1
    else:
        hook.draw = True
    hook.show, hook.wait_time = True, args.wait_time


def save_predictions(cfg, out):
    """--out: mmseg's IoUMetric writes its predictions to a folder; for
    mmdet / mmpretrain a dump metric pickles the raw predictions."""
    evaluator = cfg.test_evaluator
    wrapped = hasattr(evaluator, 'get') and 'metrics' in evaluator
    metrics = evaluator.metrics if wrapped else evaluator
    if cfg.default_scope == 'mmseg':
        for metric in metrics if isinstance(metrics, list) else [metrics]:
            if str(metric.get('type')).endswith('IoUMetric'):
                metric['output_dir'], metric['keep_results'] = out, True
        return
    dump = 'DumpDetResults' if cfg.default_scope == 'mmdet' else \
        'mmengine.DumpResults'
    metrics = [*(metrics if isinstance(metrics, list) else [metrics]),
               dict(type=dump, out_file_path=out)]
    if wrapped:
        evaluator.metrics = metrics
    else:
        cfg.test_evaluator = metrics


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args, ('test_dataloader', ))
    cfg.load_from = args.checkpoint
    if args.show:
        trigger_visualization_hook(cfg, args)
    if args.show_dir:  # input | ground truth | prediction, one PNG an image
        add_paint_hook(cfg, args.show_dir)
    if args.out is not None:
        save_predictions(cfg, args.out)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    check_model(runner, allow_partial=args.allow_partial, testing=True)
    if args.fast:  # after the checkpoint is loaded, before testing
        add_fast_hook(runner, args.precision)
    return runner.test()


if __name__ == '__main__':
    run_cli(main)
