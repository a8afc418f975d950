"""Parameters and FLOPs of a config's model, counted by mmengine's
``FlopAnalyzer`` / ``parameter_count`` (what ``get_flops.py`` prints).

What is counted is the inference model on one random image, up to the raw
network outputs (mode='tensor', the convention of mmseg/mmdet's get_flops):
segmentors without their auxiliary head (training only; its parameters are
returned apart) up to the decode head's logits, detectors up to the head's
per-level outputs (no NMS), classifiers up to the logits.

FLOPs follow mmengine's (fvcore's) convention: one multiply-add = one FLOP
(so they compare with papers' "MACs"); element-wise ops (activations,
additions, softmax) are not counted. ``F.scaled_dot_product_attention``,
which mmengine does not know, is counted as its two matrix products.
"""
import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape

from .model import (build_model, default_input_shape, dummy_data_samples,
                    load_model_config, num_params, task_of)


def sdpa_flop_jit(inputs, outputs):
    """``F.scaled_dot_product_attention(q, k, v)``: ``q @ k^T`` and
    ``attn @ v`` (multiply-adds)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


EXTRA_FLOP_HANDLES = {'aten::scaled_dot_product_attention': sdpa_flop_jit}
# ops whose cost mmengine leaves out on purpose (element-wise, cheap)
_ELEMENTWISE = ('add', 'sub', 'mul', 'div', 'neg', 'rsub', 'silu', 'gelu',
                'relu', 'relu6', 'hardtanh', 'sigmoid', 'hardsigmoid',
                'hardswish', 'softmax', 'mean', 'pad', 'constant_pad_nd',
                'feature_dropout', 'dropout', 'sqrt', 'pow', 'exp', 'clamp',
                'max_pool2d', 'avg_pool2d', 'adaptive_avg_pool2d', 'sum',
                'expand_as', 'flatten', 'cat', 'stack', 'max', 'min')


class _TensorForward(torch.nn.Module):
    """``model(x)`` in mode='tensor' (raw outputs), for the jit trace;
    detectors get the meta information of ``x`` (two-stage ones need it for
    their proposals)."""

    def __init__(self, model, samples=None):
        super().__init__()
        self.model = model
        self.samples = samples

    def forward(self, x):
        return self.model(x, self.samples, mode='tensor')


@torch.no_grad()
def model_complexity(config, shape=None, cfg_options=None, device='cpu'):
    """Params and FLOPs of ``config`` (path or Config) at ``shape`` (H, W;
    default :func:`~mmlightvit.apis.model.default_input_shape`).

    Returns a dict: task, shape, params (inference model), aux_params
    (segmentors' auxiliary head, else 0), flops, unsupported (non
    element-wise ops the counter skipped: name -> count).
    """
    cfg = load_model_config(config, cfg_options)
    shape = tuple(shape) if shape else default_input_shape(cfg)
    model = build_model(cfg, device, with_aux=True)
    aux = getattr(model, 'auxiliary_head', None)
    aux_params = num_params(aux) if aux is not None else 0
    if aux is not None:
        model.auxiliary_head = None
    x = torch.randn(1, 3, *shape, device=device)
    samples = dummy_data_samples('det', shape, 1) \
        if task_of(cfg) == 'det' else None
    analyzer = FlopAnalyzer(_TensorForward(model, samples), (x, ))
    analyzer.set_op_handle(**EXTRA_FLOP_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    flops = analyzer.total()
    unsupported = {
        op: n for op, n in analyzer.unsupported_ops().items()
        if op.split('::')[-1].rstrip('_') not in _ELEMENTWISE}
    return dict(task=task_of(cfg), shape=shape,
                params=parameter_count(model)[''], aux_params=aux_params,
                flops=flops, unsupported=unsupported)
