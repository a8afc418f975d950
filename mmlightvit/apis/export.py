"""ONNX export of a segmentor / detector / classifier and its check with
onnxruntime (``tools/deployment/pytorch2onnx.py``).

What is exported (static shapes, batch 1; the input ``input`` is the
normalised image tensor 1x3xHxW, i.e. after the data preprocessor, as
mmdeploy does): segmentors up to the class logits resized to the input
(``seg_logits``; mmseg's ``encode_decode``) without the auxiliary head;
detectors up to the raw head outputs per level (``cls_score_<i>``,
``bbox_pred_<i>``; no anchor decoding / NMS) or, for one-stage dense heads
(RTMDet, YOLOX, RetinaNet, SSDLite), up to the decoded ``boxes`` and class
``scores`` of every prior before NMS (:class:`DetectorBoxes`), which
:func:`postprocess_detections` turns into mmdet's detections with numpy, or
up to those detections, NMS included (:class:`DetectorDetections`);
classifiers up to the logits.
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


class DetectorBoxes(nn.Module):
    """Image -> ``boxes`` (1 x N x 4, x1 y1 x2 y2 in input pixels) and
    ``scores`` (1 x N x classes) of all N priors of all levels, decoded as
    the head's ``predict_by_feat`` does, before the score threshold and NMS:
    boxes clipped to the input (YOLOX: not clipped), sigmoid scores (SSD:
    softmax without the background; YOLOX: class probability x
    objectness). Heads: one-stage dense heads with a ``prior_generator``
    and a ``bbox_coder`` (RTMDet, RetinaNet, SSD/SSDLite) and YOLOX.

    Attributes:
        level_sizes (list[int]): Priors per level (N is their sum), for the
            per-level ``nms_pre`` of the post-processing.
        multi_label (bool): mmdet keeps every (prior, class) pair above the
            threshold (True), or one class per prior (False, YOLOX).
    """

    def __init__(self, model, shape):
        super().__init__()
        head = getattr(model, 'bbox_head', None)
        self.yolox = type(head).__name__ == 'YOLOXHead'
        if head is None or not hasattr(head, 'prior_generator') or not (
                self.yolox or hasattr(head, 'bbox_coder')):
            raise ValueError(
                f'{type(model).__name__}: decoded boxes and detections are '
                'exported for one-stage dense heads (RTMDet, YOLOX, '
                'RetinaNet, SSDLite); export the raw head outputs instead '
                '(--det-output raw)')
        self.model, self.shape = model, tuple(shape)
        self.multi_label = not self.yolox
        param = next(model.parameters())
        with torch.no_grad():
            outs = model._forward(param.new_zeros(1, 3, *shape))
        extra = dict(with_stride=True) if self.yolox else {}
        priors = head.prior_generator.grid_priors(
            [c.shape[-2:] for c in outs[0]], dtype=param.dtype,
            device=param.device, **extra)
        self.level_sizes = [len(p) for p in priors]
        self.register_buffer('priors', torch.cat(priors), persistent=False)

    @staticmethod
    def _flat(maps, channels):
        return torch.cat([m.permute(0, 2, 3, 1).reshape(1, -1, channels)
                          for m in maps], 1)

    def forward(self, x):
        head = self.model.bbox_head
        outs = self.model._forward(x)
        cls = self._flat(outs[0], head.cls_out_channels)
        if self.yolox:
            boxes = head._bbox_decode(self.priors, self._flat(outs[1], 4))
            scores = cls.sigmoid() * self._flat(outs[2], 1).sigmoid()
        else:
            # clipped here: the coders' own clipping fails in ONNX export
            # (mmdet 2.x leftovers)
            boxes = head.bbox_coder.decode(
                self.priors,
                self._flat(outs[1], head.bbox_coder.encode_size)[0])[None]
            h, w = self.shape
            boxes = torch.stack([boxes[..., 0].clamp(0, w),
                                 boxes[..., 1].clamp(0, h),
                                 boxes[..., 2].clamp(0, w),
                                 boxes[..., 3].clamp(0, h)], -1)
            scores = cls.sigmoid() if head.use_sigmoid_cls \
                else cls.softmax(-1)[..., :-1]  # the last is the background
        return boxes, scores


class DetectorDetections(DetectorBoxes):
    """Image -> mmdet's detections, NMS included (the ONNX
    NonMaxSuppression op): ``dets`` (K x 5: x1 y1 x2 y2 in input pixels,
    score; best first) and ``labels`` (K). :func:`postprocess_detections`
    in the graph, with the head's ``test_cfg`` baked in, boxes in the input
    image (clipped to it; YOLOX: not clipped, as mmdet), so a caller divides
    them by its resize factor; ``min_bbox_size`` is compared in input
    pixels (mmdet compares after rescaling; the configs of this project set
    0 or nothing, where both agree)."""

    def __init__(self, model, shape):
        super().__init__(model, shape)
        cfg = model.bbox_head.test_cfg
        self.score_thr = cfg.get('score_thr', 0)
        self.nms_pre = cfg.get('nms_pre', -1)
        self.min_size = cfg.get('min_bbox_size', -1)
        self.iou_threshold = cfg['nms']['iou_threshold']
        self.max_per_img = cfg.get('max_per_img')

    def forward(self, x):
        from torchvision.ops import nms
        boxes, scores = (t[0] for t in super().forward(x))
        classes = scores.shape[1]
        if self.multi_label:
            # per level: the best nms_pre (prior, class) pairs above the
            # threshold (the same set as thresholding first)
            kept_scores, kept_idx, start = [], [], 0
            for size in self.level_sizes:
                flat = scores[start:start + size].reshape(-1)
                k = flat.numel() if self.nms_pre <= 0 else min(
                    self.nms_pre, flat.numel())
                top, idx = flat.topk(k)
                kept_scores.append(top)
                kept_idx.append(idx + start * classes)
                start += size
            det_scores, idx = torch.cat(kept_scores), torch.cat(kept_idx)
            valid = det_scores > self.score_thr
            det_scores, idx = det_scores[valid], idx[valid]
            priors, labels = idx // classes, idx % classes
        else:
            det_scores, labels = scores.max(1)
            priors = torch.nonzero(det_scores >= self.score_thr)[:, 0]
            det_scores, labels = det_scores[priors], labels[priors]
        bboxes = boxes[priors]
        if self.min_size >= 0:
            wh = bboxes[:, 2:] - bboxes[:, :2]
            valid = (wh > self.min_size).all(1)
            bboxes, det_scores, labels = bboxes[valid], det_scores[valid], \
                labels[valid]
        # class-wise NMS in one pass: classes set apart by more than any
        # box's extent (all priors' boxes: the kept ones may be none)
        offsets = labels[:, None].to(bboxes) * (boxes.max().clamp(min=0) + 1)
        keep = nms(bboxes + offsets, det_scores, self.iou_threshold)
        keep = keep[:self.max_per_img]
        return torch.cat([bboxes[keep], det_scores[keep, None]], 1), \
            labels[keep]


def write_postprocess_metadata(path, wrapper, cfg):
    """Store in the ONNX file at ``path`` what
    :func:`postprocess_detections` needs besides the outputs of
    ``wrapper`` (a :class:`DetectorBoxes`): ``level_sizes``,
    ``multi_label`` and the model's ``test_cfg`` (json), read back by
    :func:`postprocess_metadata`."""
    import json

    import onnx
    model = onnx.load(path)
    values = dict(level_sizes=json.dumps(wrapper.level_sizes),
                  multi_label=json.dumps(wrapper.multi_label),
                  test_cfg=json.dumps(cfg.model.test_cfg.to_dict()))
    for key, value in values.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)


def postprocess_metadata(session):
    """The keyword arguments of :func:`postprocess_detections` stored in
    the file of an onnxruntime ``session`` (``test_cfg``, ``level_sizes``,
    ``multi_label``)."""
    import json
    meta = session.get_modelmeta().custom_metadata_map
    return {key: json.loads(meta[key])
            for key in ('test_cfg', 'level_sizes', 'multi_label')}


def nms(boxes, scores, iou_threshold):
    """Indices kept by greedy NMS, highest score first (numpy; the IoU of
    mmcv's ``nms``)."""
    order = np.argsort(-scores, kind='stable')
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        lt = np.maximum(boxes[i, :2], boxes[rest, :2])
        rb = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou > iou_threshold)]  # as mmcv: 0/0 suppresses none
    return np.asarray(keep, dtype=np.int64)


def postprocess_detections(boxes, scores, test_cfg, level_sizes=None,
                           multi_label=True, scale_factor=(1., 1.),
                           img_shape=None):
    """mmdet's dense-head post-processing, in numpy, on the outputs of
    :class:`DetectorBoxes` for one image (``boxes`` N x 4, ``scores``
    N x classes): the score threshold (``> score_thr`` for each (prior,
    class) pair, at most ``nms_pre`` per level; YOLOX: ``>=`` on each
    prior's best class), boxes clipped to ``img_shape`` (h, w: the resized
    image inside a padded input; not for YOLOX, as mmdet) and brought back
    to the original image (``/ scale_factor`` (w, h)), boxes of
    ``min_bbox_size`` or smaller out, class-wise NMS, the best
    ``max_per_img``.

    Returns:
        tuple: ``bboxes`` (K x 4), ``scores`` (K), ``labels`` (K), best
        first.
    """
    thr = test_cfg.get('score_thr', 0)
    if multi_label:
        sizes = level_sizes or [len(scores)]
        starts = np.cumsum([0] + list(sizes))
        nms_pre = test_cfg.get('nms_pre', -1)
        kept = []
        for start, end in zip(starts[:-1], starts[1:]):
            idx = np.argwhere(scores[start:end] > thr)
            order = np.argsort(-scores[start:end][idx[:, 0], idx[:, 1]],
                               kind='stable')
            kept.append(idx[order[:nms_pre] if nms_pre > 0 else order] +
                        [start, 0])
        idx = np.concatenate(kept)
        priors, labels = idx[:, 0], idx[:, 1]
        det_scores = scores[priors, labels]
    else:
        labels = scores.argmax(1)
        det_scores = scores.max(1)
        priors = np.flatnonzero(det_scores >= thr)
        labels, det_scores = labels[priors], det_scores[priors]
    bboxes = boxes[priors]
    if img_shape is not None:
        bboxes = np.clip(bboxes, 0, np.tile(np.asarray(img_shape[::-1]), 2))
    bboxes = bboxes / np.tile(np.asarray(scale_factor, bboxes.dtype), 2)
    min_size = test_cfg.get('min_bbox_size', -1)
    if min_size >= 0:
        wh = bboxes[:, 2:] - bboxes[:, :2]
        valid = (wh > min_size).all(1)
        bboxes, det_scores, labels = bboxes[valid], det_scores[valid], \
            labels[valid]
    # class-wise NMS in one pass: boxes of different classes set apart
    offsets = labels[:, None] * (bboxes.max(initial=0) + 1)
    keep = nms(bboxes + offsets, det_scores,
               test_cfg['nms']['iou_threshold'])[:test_cfg.get('max_per_img')]
    return bboxes[keep], det_scores[keep], labels[keep]


def export_wrapper(model, task, shape, det_output='raw'):
    """``(module, output names)`` of what is exported for ``task``;
    detectors: the raw head outputs (``det_output='raw'``), the decoded
    boxes and scores before NMS (``'boxes'``, :class:`DetectorBoxes`) or
    the detections after NMS (``'detections'``,
    :class:`DetectorDetections`)."""
    if task == 'seg':
        return SegmentorLogits(model, shape).eval(), ['seg_logits']
    if task == 'cls':
        return ClassifierLogits(model).eval(), ['logits']
    if det_output == 'boxes':
        return DetectorBoxes(model, shape).eval(), ['boxes', 'scores']
    if det_output == 'detections':
        return DetectorDetections(model, shape).eval(), ['dets', 'labels']
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


def compare_detections(torch_outs, backend_outs, score_thr, box_tol,
                       score_tol):
    """PyTorch's and a backend's detections (``dets`` K x 5, ``labels``) of
    :class:`DetectorDetections`: ``(max abs difference, max abs PyTorch
    value, unmatched)``. Each PyTorch detection is paired with the closest
    unpaired one of the backend with the same label, its box within
    ``box_tol`` and its score within ``score_tol``; ``unmatched`` counts the
    detections left alone on either side, except those whose score is
    within ``score_tol`` of ``score_thr`` (float rounding decides them)."""
    (dets, labels), (other, other_labels) = (
        [np.asarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t)
         for t in outs] for outs in (torch_outs, backend_outs))
    free = np.ones(len(other), bool)
    diff, alone = 0., []
    for det, label in zip(dets, labels):
        box_gap = np.abs(other[:, :4] - det[:4]).max(1, initial=0)
        score_gap = np.abs(other[:, 4] - det[4])
        fits = free & (other_labels == label) & (box_gap <= box_tol) & (
            score_gap <= score_tol)
        if not fits.any():
            alone.append(det[4])
            continue
        j = int(np.where(fits, box_gap, np.inf).argmin())
        free[j] = False
        diff = max(diff, float(box_gap[j]), float(score_gap[j]))
    alone += list(other[free, 4])
    unmatched = sum(abs(score - score_thr) > score_tol for score in alone)
    scale = float(np.abs(dets).max()) if len(dets) else 0.
    return diff, scale, unmatched


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
