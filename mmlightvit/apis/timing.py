"""Timing a model on synthetic input (``benchmark.py``,
``benchmark_timm.py``): medians and spreads of repeated runs."""
import statistics
import sys
import time

import torch

from .model import dummy_data_samples


def synchronize(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize(device)


@torch.inference_mode()
def time_once(fn, device='cpu'):
    """Seconds of one call of ``fn()`` (the device synchronised around)."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def time_fn(fn, repeat=50, warmup=10, device='cpu', progress=False):
    """Seconds of each of ``repeat`` calls of ``fn()`` after ``warmup``;
    with ``progress``, ``n/N`` counts go to stderr about ten times."""
    step = max(1, (warmup + repeat) // 10)
    times = []
    for i in range(warmup + repeat):
        seconds = time_once(fn, device)
        if i >= warmup:
            times.append(seconds)
        if progress and ((i + 1) % step == 0 or i + 1 == warmup + repeat):
            print(f'run {i + 1}/{warmup + repeat} ({warmup} warm-up)',
                  file=sys.stderr, flush=True)
    return times


def summarize(times):
    """Median, p25, p75, IQR, min and count of ``times`` (seconds)."""
    times = sorted(times)
    if len(times) >= 2:
        p25, _, p75 = statistics.quantiles(times, n=4, method='inclusive')
    else:
        p25 = p75 = times[0]
    return dict(median=statistics.median(times), p25=p25, p75=p75,
                iqr=p75 - p25, min=times[0], n=len(times))


def make_runner(model, task, shape, batch_size=1, mode='predict',
                backbone_only=False, device='cpu'):
    """A no-argument callable running one random batch through the model:
    ``predict`` (network + post-processing), ``tensor`` (raw outputs) or the
    backbone alone."""
    x = torch.randn(batch_size, 3, *shape, device=device)
    if backbone_only:
        return lambda: model.backbone(x)
    samples = dummy_data_samples(task, shape, batch_size)
    return lambda: model(x, samples, mode=mode)
