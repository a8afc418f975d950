"""Side-by-side latency of one config's backbone and whole network:
reference, eager fp32, the fast path (fp32, bf16), onnxruntime and OpenVINO
(``tools/analysis_tools/benchmark.py --compare``).

Candidates of a part (``'backbone'``: ``model.backbone``; ``'model'``: the
whole network as exported to ONNX, i.e. segmentors up to the logits at the
input size, detectors up to the raw head outputs, classifiers up to the
logits, see :mod:`mmlightvit.apis.export`):

* ``reference``: for the backbone, timm's model of the same arch where timm
  has one (RepViT: ``repvit_*``, MobileViT: ``mobilevit_*``, built as timm
  builds them, ``features_only``), else our eager fp32 model stands in (EMO:
  our EMO computes the official EMO's numbers, see tests/test_emo.py); for
  the whole model, our eager fp32 model;
* ``eager fp32``: the model as the config builds it, eval mode;
* ``fast fp32`` / ``fast bf16``: :func:`mmlightvit.apis.fast.fast_inference`;
* ``onnxruntime`` / ``openvino fp32`` / ``openvino bf16``: the ONNX export
  of the re-parameterised model (:mod:`mmlightvit.apis.backends`).

A candidate that cannot run here (a backend not installed, bf16 on a CPU
without AMX / AVX512-BF16, no timm reference) is kept with the reason
('n/a: ...'). Timing: every round runs each candidate once, in an order that
alternates between rounds, so a shared machine's drifts hit all alike; the
ratios are medians of the per-round ratios reference / candidate (> 1:
faster than the reference); before each timed run the process sleeps
``SETTLE_SECONDS``, so that the thread pools of the candidate before
(onnxruntime's and OpenVINO's spin-wait after a run) are idle and do not
slow the next one down. Agreement: cosine similarity (float64) and
largest difference relative to the largest value, of each candidate's
outputs against eager fp32 on the same input.
"""
import copy
import os.path as osp
import tempfile
import time

import numpy as np
import torch

from . import backends, export
from .fast import autocast_dtype, fast_inference
from .model import build_model, default_input_shape, task_of
from .reparam import switch_to_deploy
from .tables import markdown_table
from .timing import summarize, time_once

LABELS = ('reference', 'eager fp32', 'fast fp32', 'fast bf16',
          'onnxruntime', 'openvino fp32', 'openvino bf16')
TIMM_NAMES = {'RepViT': 'repvit_{}', 'MobileViT': 'mobilevit_{}'}
PARTS = ('backbone', 'model')
SETTLE_SECONDS = 0.05


class _Features(torch.nn.Module):
    """A module whose outputs are a flat tuple of tensors (what the ONNX
    export and the comparison take)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        out = self.module(x)
        return tuple(out) if isinstance(out, (list, tuple)) else (out, )


def timm_reference(backbone):
    """``(timm name, timm model)`` of the backbone's arch, or ``(None,
    None)`` where timm has none (or is not installed)."""
    kind = type(backbone).__name__
    if kind not in TIMM_NAMES:
        return None, None
    try:
        import timm
    except ImportError:
        return None, None
    name = TIMM_NAMES[kind].format(backbone.arch)
    model = timm.create_model(name, pretrained=False, features_only=True)
    return name, model.eval()


def _flat(out):
    if torch.is_tensor(out) or isinstance(out, np.ndarray):
        return [out]
    return [t for o in out for t in _flat(o)]


def agreement(outs, ref):
    """(cosine, max relative difference) of ``outs`` against ``ref`` (lists
    of tensors / arrays), in float64."""
    a = np.concatenate([np.asarray(o, dtype=np.float64).ravel()
                        for o in map(_numpy, _flat(outs))])
    b = np.concatenate([np.asarray(r, dtype=np.float64).ravel()
                        for r in map(_numpy, _flat(ref))])
    if a.shape != b.shape:
        return float('nan'), float('nan')
    cosine = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))
    return cosine, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def _numpy(t):
    return t.detach().float().cpu().numpy() if torch.is_tensor(t) else t


def _part(model, part, task, shape):
    """The module timed for ``part`` of ``model``."""
    if part == 'backbone':
        return _Features(model.backbone)
    return export.export_wrapper(model, task, shape)[0]


def build_candidates(cfg, part, shape, compile=True, threads=None,
                     workdir=None):
    """``{label: callable(x) or 'n/a: reason'}`` for ``part`` of the config's
    model (see the module docstring)."""
    task = task_of(cfg)
    model = build_model(cfg)
    out = {}
    ref_name, ref = timm_reference(model.backbone) \
        if part == 'backbone' else (None, None)
    eager = _part(copy.deepcopy(model), part, task, shape).eval()
    out['reference'] = _Features(ref) if ref_name else eager
    out['eager fp32'] = eager
    for precision in ('fp32', 'bf16'):
        label = f'fast {precision}'
        try:
            autocast_dtype(precision)
        except ValueError as e:
            out[label] = f'n/a: {e}'
            continue
        if part == 'backbone':  # the backbone itself runs fast
            out[label] = _Features(fast_inference(
                copy.deepcopy(model.backbone), precision, compile))
        else:
            out[label] = _part(fast_inference(
                copy.deepcopy(model), precision, compile), part, task, shape)
    deployed = copy.deepcopy(model)
    switch_to_deploy(deployed)
    wrapper = _part(deployed, part, task, shape).eval()
    x = torch.randn(1, 3, *shape)
    with torch.no_grad():
        names = [f'out{i}' for i in range(len(_flat(wrapper(x))))]
    path = osp.join(workdir or tempfile.mkdtemp(), f'{part}.onnx')
    export.export_onnx(wrapper, x, path, names, exporter='legacy')
    for label, (backend, precision) in (
            ('onnxruntime', ('onnxruntime', 'fp32')),
            ('openvino fp32', ('openvino', 'fp32')),
            ('openvino bf16', ('openvino', 'bf16'))):
        try:
            out[label] = backends.load_backend(backend, path, precision,
                                               threads)
        except backends.BackendUnavailable as e:
            out[label] = f'n/a: {e}'
    return out, f'timm {ref_name}' if ref_name else 'ours, eager fp32'


def compare(cfg, part, shape=None, repeat=10, warmup=2, compile=True,
            threads=None, workdir=None, progress=None):
    """Latency and agreement of every candidate of ``part``; returns a dict:
    part, shape, reference (what it is), results ``{label: dict(stats,
    ratio, cosine, max_rel_diff) or 'n/a: reason'}``."""
    shape = tuple(shape or default_input_shape(cfg))
    candidates, ref_what = build_candidates(cfg, part, shape, compile,
                                            threads, workdir)
    runnable = [k for k, v in candidates.items() if not isinstance(v, str)]
    x = torch.randn(1, 3, *shape)
    with torch.inference_mode():  # as time_once: no recompiling
        expected = _flat(candidates['eager fp32'](x))
        agree = {k: agreement(candidates[k](x), expected) for k in runnable}
        for _ in range(warmup):
            for k in runnable:
                candidates[k](x)
        times = {k: [] for k in runnable}
        for r in range(repeat):
            for k in (runnable if r % 2 == 0 else runnable[::-1]):
                time.sleep(SETTLE_SECONDS)
                times[k].append(time_once(lambda: candidates[k](x)))
            if progress:
                progress(f'{part}: round {r + 1}/{repeat}')
    results = {}
    for label, value in candidates.items():
        if isinstance(value, str):
            results[label] = value
            continue
        stats = summarize(times[label])
        stats['ratio'] = summarize([a / b for a, b in zip(
            times['reference'], times[label])])['median']
        stats['cosine'], stats['max_rel_diff'] = agree[label]
        results[label] = stats
    return dict(part=part, shape=shape, reference=ref_what, results=results)


def _cell(stats):
    if isinstance(stats, str):
        return 'n/a'
    return (f'{stats["median"] * 1e3:.0f} ± {stats["iqr"] * 5e2:.0f} ms '
            f'({stats["ratio"]:.2f}x)')


def compare_table(rows):
    """Markdown of ``rows`` (``(name, compare() result)``): one line per
    model part, a cell per candidate (median ± half IQR, ratio to the
    reference), the agreement (cosine) of fast bf16 with eager fp32; then
    the reasons of the n/a cells."""
    header = ['model', 'part', 'input', 'reference is'] + list(LABELS) + [
        'fast bf16 cosine']
    body, reasons = [], {}
    for name, res in rows:
        r = res['results']
        bf16 = r['fast bf16']
        body.append([name, res['part'], 'x'.join(map(str, res['shape'])),
                     res['reference']] + [_cell(r[k]) for k in LABELS]
                    + ['n/a' if isinstance(bf16, str)
                       else f'{bf16["cosine"]:.5f}'])
        reasons.update({k: r[k] for k in LABELS if isinstance(r[k], str)})
    lines = markdown_table(header, body)
    return lines + [''] + [f'{k}: {v}' for k, v in reasons.items()]
