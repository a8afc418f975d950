"""ONNX export of a segmentor / detector / classifier and its check with
onnxruntime (``tools/deployment/pytorch2onnx.py``).

What is exported (static shapes, batch 1; the input ``input`` is the
normalised image tensor 1x3xHxW, i.e. after the data preprocessor, as
mmdeploy does): segmentors up to the class logits resized to the input
(``seg_logits``; mmseg's ``encode_decode``) without the auxiliary head;
detectors up to the raw head outputs per level (``cls_score_<i>``,
``bbox_pred_<i>``; no anchor decoding / NMS); classifiers up to the logits.
"""
import warnings

import numpy as np
import torch
import torch.nn as nn

DET_OUTPUT_NAMES = ('cls_score', 'bbox_pred', 'centerness')
DEFAULT_OPSET = {'dynamo': 18, 'legacy': 17}


class SegmentorLogits(nn.Module):
    """Image -> class logits at the input size (mmseg ``encode_decode``)."""

    def __init__(self, model, shape):
        super().__init__()
        self.model = model
        h, w = shape
        self.metas = [dict(img_shape=(h, w), ori_shape=(h, w),
                           pad_shape=(h, w), padding_size=[0, 0, 0, 0])]

    def forward(self, x):
        return self.model.encode_decode(x, self.metas)


class DetectorHeadOutputs(nn.Module):
    """Image -> the head's raw outputs, flattened: all levels of the first
    output kind (cls scores), then of the second (bbox preds), ..."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        outs = self.model._forward(x)
        return tuple(t for group in outs for t in group)


class ClassifierLogits(nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def export_wrapper(model, task, shape):
    """``(module, output names)`` of what is exported for ``task``."""
    if task == 'seg':
        return SegmentorLogits(model, shape).eval(), ['seg_logits']
    if task == 'cls':
        return ClassifierLogits(model).eval(), ['logits']
    wrapper = DetectorHeadOutputs(model).eval()
    with torch.no_grad():
        groups = model._forward(torch.zeros(1, 3, *shape))
    kinds = [DET_OUTPUT_NAMES[g] if g < len(DET_OUTPUT_NAMES) else f'out{g}'
             for g in range(len(groups))]
    names = [f'{kinds[g]}_{i}'
             for g, group in enumerate(groups) for i in range(len(group))]
    return wrapper, names


def export_onnx(wrapper, x, out, output_names, exporter='dynamo',
                opset=None):
    """``torch.onnx.export`` through the chosen exporter ('dynamo': the
    torch.export-based one; 'legacy': TorchScript) into one file; returns
    the opset."""
    opset = opset or DEFAULT_OPSET[exporter]
    kwargs = dict(input_names=['input'], output_names=output_names,
                  opset_version=opset, dynamo=exporter == 'dynamo')
    if exporter == 'dynamo':
        kwargs['external_data'] = False
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer / deprecation chatter
        with torch.no_grad():
            torch.onnx.export(wrapper, (x, ), out, **kwargs)
    return opset


def onnxruntime_outputs(path, x):
    """The outputs of the ONNX file at ``path`` on ``x`` (onnxruntime,
    CPU)."""
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x.numpy()})


def compare(torch_outs, ort_outs):
    """``(max abs difference, max abs PyTorch value)`` over all outputs."""
    if len(torch_outs) != len(ort_outs):
        raise RuntimeError(f'PyTorch gives {len(torch_outs)} outputs, '
                           f'onnxruntime {len(ort_outs)}')
    diff = scale = 0.
    for t, o in zip(torch_outs, ort_outs):
        t = t.detach().cpu().numpy()
        if t.shape != o.shape:
            raise RuntimeError(f'output shape {o.shape} != PyTorch {t.shape}')
        diff = max(diff, float(np.abs(t - o).max()))
        scale = max(scale, float(np.abs(t).max()))
    return diff, scale
