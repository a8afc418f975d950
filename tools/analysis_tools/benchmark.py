"""Inference latency and throughput of a config's model (mmseg/mmdet
``tools/analysis_tools/benchmark.py``, on synthetic input, no dataset).

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT]
        [--deploy] [--backbone-only] [--mode predict|tensor] [--shape H W]
        [--batch-size N] [--repeat N] [--warmup N] [--device cpu|cuda]
        [--threads N] [--cfg-options k=v ...]

One random batch at the input shape (default as get_flops: seg 512x512, det
the config's test scale, cls its test crop) is run ``--warmup`` times, then
timed ``--repeat`` times. What is timed: the whole inference
(``model.predict``: network + post-processing, i.e. resizing + argmax for
segmentors, box decoding + NMS for detectors) by default; the raw network
(``--mode tensor``); or the backbone alone (``--backbone-only``). Data loading
and the data preprocessor are not timed. ``--deploy`` first calls
``switch_to_deploy()`` on the modules that have it (RepViT).

Printed: median latency per batch with its spread (IQR = p75 - p25, and the
min), and images/s = batch size / median latency.
"""
import argparse
import os.path as osp
import statistics
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for path in (ROOT, osp.join(ROOT, 'tools', 'analysis_tools'),
             osp.join(ROOT, 'tools', 'deployment')):
    if path not in sys.path:
        sys.path.insert(0, path)

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from get_flops import (build_model, default_input_shape,  # noqa: E402
                       load_model_config, task_of)
from mmlightvit.apis.cli import run_cli  # noqa: E402
from reparameterize import switch_to_deploy  # noqa: E402


# -- timing -------------------------------------------------------------------
def synchronize(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize(device)


@torch.inference_mode()
def time_once(fn, device='cpu'):
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def time_fn(fn, repeat=50, warmup=10, device='cpu'):
    """Seconds of each of ``repeat`` calls of ``fn()`` after ``warmup``."""
    for _ in range(warmup):
        time_once(fn, device)
    return [time_once(fn, device) for _ in range(repeat)]


def summarize(times):
    """Median, p25, p75, IQR and min of ``times`` (seconds)."""
    times = sorted(times)
    if len(times) >= 2:
        p25, _, p75 = statistics.quantiles(times, n=4, method='inclusive')
    else:
        p25 = p75 = times[0]
    return dict(median=statistics.median(times), p25=p25, p75=p75,
                iqr=p75 - p25, min=times[0], n=len(times))


def fmt_ms(seconds):
    return f'{seconds * 1e3:.2f} ms'


# -- inputs -------------------------------------------------------------------
def dummy_data_samples(task, shape, batch_size):
    """Data samples with the meta information ``predict`` needs for images
    that are already at ``shape`` (no resizing, no padding)."""
    h, w = shape
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
    if task == 'seg':
        from mmseg.structures import SegDataSample
        return [SegDataSample(metainfo=dict(meta, padding_size=[0, 0, 0, 0]))
                for _ in range(batch_size)]
    if task == 'det':
        from mmdet.structures import DetDataSample
        return [DetDataSample(metainfo=dict(
            meta, batch_input_shape=(h, w), scale_factor=(1.0, 1.0)))
            for _ in range(batch_size)]
    from mmpretrain.structures import DataSample
    return [DataSample(metainfo=meta) for _ in range(batch_size)]


def make_runner(model, task, shape, batch_size=1, mode='predict',
                backbone_only=False, device='cpu'):
    """A no-argument callable running one batch through the model."""
    x = torch.randn(batch_size, 3, *shape, device=device)
    if backbone_only:
        return lambda: model.backbone(x)
    if mode == 'tensor':
        return lambda: model(x, mode='tensor')
    samples = dummy_data_samples(task, shape, batch_size)
    return lambda: model(x, samples, mode='predict')


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
    parser.add_argument('--shape', type=int, nargs='+',
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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.shape is not None:
        if len(args.shape) not in (1, 2):
            parser.error('--shape takes H W or one side')
        args.shape = tuple(args.shape * 2 if len(args.shape) == 1
                           else args.shape)
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
    times = time_fn(run, args.repeat, args.warmup, args.device)
    stats = summarize(times)
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
    return dict(stats, task=task, shape=tuple(shape), switched=switched)


if __name__ == '__main__':
    run_cli(main)
