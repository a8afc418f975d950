"""Pictures of predictions that a person can read: the input, the ground
truth (when known) and the prediction side by side, each under a title,
small images upscaled to at least 512 px, and a legend of the classes
present. One painter serves ``demo/image_demo.py``, ``make demo``
(``tools/toy_demo.py``) and ``tools/test.py --show-dir`` (through
:class:`PaintPredictionsHook`, which :func:`add_paint_hook` puts into a
config).

* segmentation: class colours blended over the image, region boundaries in
  white, ignored pixels (255) left as they are;
* detection: boxes in their class colour with "class score" labels placed so
  that they do not overlap (predictions below ``score_thr`` are not drawn);
* classification: the top-5 classes with score bars; the ground truth
  class is marked.
"""
import colorsys
import os
import os.path as osp

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from PIL import Image, ImageDraw, ImageFont

MIN_SIDE = 512  # panels are upscaled until their short side has this
MAX_SIDE = 2048  # ... unless their long side would pass this
IGNORE_INDEX = 255
OPACITY = 0.55
GAP = 8
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
MAX_LEGEND = 40


def class_colours(num_classes, palette=None):
    """``num_classes`` RGB tuples: the dataset's palette, completed by
    evenly spread hues where it is missing or short."""
    colours = [tuple(int(c) for c in p) for p in (palette or [])]
    colours = colours[:num_classes]
    for i in range(len(colours), num_classes):
        rgb = colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.65, 0.95)
        colours.append(tuple(int(255 * c) for c in rgb))
    return colours


def _font(size):
    return ImageFont.load_default(size=size)


def _class_name(classes, label):
    label = int(label)
    return str(classes[label]) if classes and 0 <= label < len(classes) \
        else str(label)


def _text_size(draw, text, font):
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def _score(x):
    return f'{x:.2f}' if x >= 0.01 else f'{x:.1e}'


def _text_colour(rgb):
    return TEXT if sum(rgb) > 3 * 140 else (255, 255, 255)


def panel_scale(h, w, min_side=MIN_SIDE):
    """Factor the panels of an HxW image are drawn at (>= 1)."""
    scale = max(1.0, min_side / min(h, w))
    return max(1.0, min(scale, MAX_SIDE / max(h, w)))


def _resize_labels(labels, size):
    """Nearest-neighbour resize of a label map to ``size`` (H, W)."""
    h, w = labels.shape
    rows = (np.arange(size[0]) * h // size[0]).clip(0, h - 1)
    cols = (np.arange(size[1]) * w // size[1]).clip(0, w - 1)
    return labels[rows][:, cols]


def _overlay(image, labels, colours):
    """Class colours blended over ``image``, boundaries in white."""
    labels = labels.astype(np.int64)
    valid = (labels >= 0) & (labels < len(colours))
    out = image.astype(np.float32)
    lut = np.array(colours, np.float32)
    out[valid] = out[valid] * (1 - OPACITY) + lut[labels[valid]] * OPACITY
    edge = np.zeros(labels.shape, bool)
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    out[edge] = 255
    return out.clip(0, 255).astype(np.uint8)


def _box_labels(draw, boxes, texts, colours, font, size):
    """Label rectangles for ``boxes`` (best first), each above its box, else
    inside its top, else below it, avoiding the labels already placed; a box
    with no free place keeps its class colour but no label (crowds of
    boxes: the legend names the colours)."""
    placed = []
    for (x1, y1, x2, y2), text, colour in zip(boxes, texts, colours):
        tw, th = _text_size(draw, text, font)
        tw, th = tw + 6, th + 6
        options = [(x1, y1 - th), (x1, y1), (x1, y2), (x1, y2 - th)]
        options += [(x1, y1 + k * th) for k in range(1, 6)]
        inside = [(max(0, min(x, size[0] - tw)), y) for x, y in options
                  if 0 <= y <= size[1] - th]
        free = [(x, y) for x, y in inside if not any(
            x < px + pw and px < x + tw and y < py + ph and py < y + th
            for px, py, pw, ph in placed)]
        if not free:
            continue
        x, y = free[0]
        placed.append((x, y, tw, th))
        draw.rectangle([x, y, x + tw, y + th], fill=colour)
        draw.text((x + 3, y + 3), text, font=font,
                  fill=_text_colour(colour), anchor='lt')


def _boxes_panel(image, instances, colours, classes, scale, score_thr):
    """``image`` with the boxes of ``instances`` (dict of bboxes, labels and
    maybe scores, in image coordinates) drawn at ``scale``."""
    panel = Image.fromarray(image)
    draw = ImageDraw.Draw(panel)
    labels = np.asarray(instances['labels'], np.int64).ravel()
    boxes = np.asarray(instances['bboxes'], np.float64).reshape(-1, 4)
    scores = instances.get('scores')
    if scores is None:
        order = np.arange(len(labels))
    else:  # best first, those under the threshold left out
        scores = np.asarray(scores, np.float64).ravel()
        order = np.argsort(-scores, kind='stable')
        order = order[scores[order] >= score_thr]
    boxes, labels = boxes[order] * scale, labels[order]
    box_colours = [colours[lb] if 0 <= lb < len(colours) else (255, 0, 0)
                   for lb in labels]
    width = max(2, round(min(panel.size) / 200))
    for box, colour in zip(boxes[::-1], box_colours[::-1]):
        draw.rectangle(box.tolist(), outline=colour, width=width)
    texts = [_class_name(classes, lb) + (
        f' {_score(scores[i])}' if scores is not None else '')
        for lb, i in zip(labels, order)]
    font = _font(max(14, min(panel.size) // 34))
    _box_labels(draw, boxes.tolist(), texts, box_colours, font, panel.size)
    return np.asarray(panel), labels.tolist(), len(order)


def _class_card(size, lines, font_size):
    """A white panel of ``size`` (W, H) with ``lines``: (text, bar fraction
    or None, colour); the first line in a larger font."""
    card = Image.new('RGB', size, BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.text((font_size * 1.3, font_size), lines[0][0], fill=lines[0][2],
              font=_font(round(font_size * 1.6)), anchor='lt')
    font = _font(font_size)
    y = font_size * 3.5
    for text, bar, colour in lines[1:]:
        if bar is not None:
            draw.rectangle([font_size, y, font_size + bar * (
                size[0] - 2 * font_size), y + font_size * 1.3],
                fill=(200, 220, 245))
        draw.text((font_size * 1.3, y + font_size * 0.15), text, font=font,
                  fill=colour, anchor='lt')
        y += font_size * 2
    return np.asarray(card)


def _classification_panels(size, scores, gt, classes, font_size):
    scores = np.asarray(scores, np.float64).ravel()
    top = np.argsort(-scores)[:5]
    good, bad = (20, 120, 20), (180, 20, 20)
    pred = int(top[0])
    lines = [(f'{_class_name(classes, pred)}  {_score(scores[pred])}', None,
              TEXT if gt is None else (good if pred == gt else bad)),
             ('top-5:', None, TEXT)]
    lines += [(f'{_class_name(classes, i)}  {_score(scores[i])}'
               + ('  (ground truth)' if i == gt else ''), float(scores[i]),
               TEXT) for i in top]
    panels = [('prediction', _class_card(size, lines, font_size))]
    if gt is not None:
        lines = [(_class_name(classes, gt), None, TEXT)]
        if gt not in top:
            lines.append((f'score {_score(scores[gt])}', None, TEXT))
        card = _class_card(size, lines, font_size)
        panels.insert(0, ('ground truth', card))
    return panels


def _titled(panel, title, font):
    """``panel`` (array) under a title bar."""
    img = Image.fromarray(panel)
    draw = ImageDraw.Draw(img)
    _, th = _text_size(draw, title, font)
    out = Image.new('RGB', (img.width, img.height + th + 12), BACKGROUND)
    out.paste(img, (0, th + 12))
    ImageDraw.Draw(out).text((4, 4), title, font=font, fill=TEXT,
                             anchor='lt')
    return out


def _legend(entries, width, font_size):
    """Rows of colour swatches with class names, wrapped at ``width``."""
    font = _font(font_size)
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    if len(entries) > MAX_LEGEND:
        rest = len(entries) - MAX_LEGEND
        entries = entries[:MAX_LEGEND] + [(None, f'... and {rest} more')]
    rows, row, x = [], [], GAP
    for colour, text in entries:
        w = font_size + 6 + _text_size(probe, text, font)[0] + 2 * GAP
        if row and x + w > width:
            rows.append(row)
            row, x = [], GAP
        row.append((x, colour, text))
        x += w
    rows.append(row)
    line = int(font_size * 1.6)
    img = Image.new('RGB', (width, line * len(rows) + GAP), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for r, row in enumerate(rows):
        y = GAP // 2 + r * line
        for x, colour, text in row:
            if colour is not None:
                draw.rectangle([x, y, x + font_size, y + font_size],
                               fill=colour, outline=TEXT)
            draw.text((x + font_size + 6, y + font_size // 2), text,
                      font=font, fill=TEXT, anchor='lm')
    return img


def _present(labels_lists, num_colours):
    """Class indices found in any of ``labels_lists``, most frequent first
    (ignored labels left out)."""
    counts = {}
    for labels in labels_lists:
        values, n = np.unique(np.asarray(labels, np.int64).ravel(),
                              return_counts=True)
        for v, c in zip(values.tolist(), n.tolist()):
            if v != IGNORE_INDEX and v >= 0:
                counts[v] = counts.get(v, 0) + c
    return sorted(counts, key=lambda v: (-counts[v], v))


def paint(image, task, pred, gt=None, classes=None, palette=None,
          score_thr=0.3, title=None):
    """The picture (RGB uint8 array) of one prediction.

    Args:
        image: the input, HxWx3 RGB uint8.
        task: 'seg', 'det' or 'cls'.
        pred / gt: seg: label maps (H, W) (``gt`` may be of another size:
            it is resized to the image); det: dicts of ``bboxes`` (N, 4;
            x1 y1 x2 y2 in image pixels), ``labels`` and, for ``pred``,
            ``scores``; cls: ``pred`` the class scores, ``gt`` a class index.
        classes, palette: the dataset's class names and RGB colours.
        score_thr: detection boxes with a lower score are not drawn.
        title: the input panel's title (default 'input HxW').
    """
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    h, w = image.shape[:2]
    scale = panel_scale(h, w)
    size = (round(w * scale), round(h * scale))  # PIL (W, H)
    big = np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC)) \
        if scale != 1 else image
    font_size = max(16, min(size) // 24)
    n = max(len(classes or []), len(palette or []), 1)
    panels, present = [(title or f'input {h}x{w}', big)], []
    if task == 'seg':
        maps = [('ground truth', gt), ('prediction', pred)]
        maps = [(t, _resize_labels(np.asarray(m), size[::-1]))
                for t, m in maps if m is not None]
        n = max([n] + [int(m[m != IGNORE_INDEX].max()) + 1 for _, m in maps
                       if (m != IGNORE_INDEX).any()])
        colours = class_colours(n, palette)
        panels += [(t, _overlay(big, m, colours)) for t, m in maps]
        present = _present([m for _, m in maps], n)
    elif task == 'det':
        drawn = [('ground truth', gt), ('prediction', pred)]
        labels = [np.asarray(d['labels']).ravel() for _, d in drawn
                  if d is not None]
        n = max([n] + [int(lb.max()) + 1 for lb in labels if lb.size])
        colours = class_colours(n, palette)
        for t, inst in drawn:
            if inst is None:
                continue
            thr = score_thr if t == 'prediction' else -np.inf
            painted, shown, k = _boxes_panel(big, inst, colours, classes,
                                             scale, thr)
            if t == 'prediction':
                t += f' ({k} of {len(inst["labels"])} boxes >= {thr:g})'
            panels.append((t, painted))
            present.append(shown)
        present = _present(present, n)
    elif task == 'cls':
        panels += _classification_panels(size, pred, gt, classes,
                                          font_size)
        colours = []
    else:
        raise ValueError(f"task must be 'seg', 'det' or 'cls', got {task!r}")
    font = _font(font_size)
    titled = [_titled(p, t, font) for t, p in panels]
    width = sum(p.width for p in titled) + GAP * (len(titled) + 1)
    height = max(p.height for p in titled) + 2 * GAP
    legend = _legend([(colours[c], _class_name(classes, c))
                      for c in present], width, font_size) if present \
        else None
    out = Image.new('RGB', (width, height + (legend.height if legend else 0)),
                    BACKGROUND)
    x = GAP
    for p in titled:
        out.paste(p, (x, GAP))
        x += p.width + GAP
    if legend:
        out.paste(legend, (0, height))
    return np.asarray(out)


def from_data_sample(sample):
    """``(task, pred, gt)`` of an mmseg / mmdet / mmpretrain data sample, in
    the form :func:`paint` takes (gt None when the sample has none)."""
    def numpy(x):
        return x.detach().cpu().numpy() if hasattr(x, 'detach') \
            else np.asarray(x)
    if 'pred_sem_seg' in sample:
        gt = sample.gt_sem_seg.data[0] if 'gt_sem_seg' in sample else None
        return ('seg', numpy(sample.pred_sem_seg.data[0]),
                None if gt is None else numpy(gt))
    if 'pred_instances' in sample:
        p = sample.pred_instances
        pred = dict(bboxes=numpy(p.bboxes), labels=numpy(p.labels),
                    scores=numpy(p.scores))
        gt = None
        if 'gt_instances' in sample and 'bboxes' in sample.gt_instances:
            g = sample.gt_instances
            bboxes = g.bboxes.tensor if hasattr(g.bboxes, 'tensor') \
                else g.bboxes
            gt = dict(bboxes=numpy(bboxes), labels=numpy(g.labels))
        return 'det', pred, gt
    if 'pred_score' in sample:
        gt = sample.get('gt_label')
        return ('cls', numpy(sample.pred_score),
                None if gt is None or len(gt) == 0 else int(gt[0]))
    raise ValueError(f'cannot paint a {type(sample).__name__} without '
                     'pred_sem_seg, pred_instances or pred_score')


def save_picture(picture, path):
    """Write ``picture`` (RGB array) as a PNG (folders made)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    Image.fromarray(picture).save(path)
    return path


@HOOKS.register_module()
class PaintPredictionsHook(Hook):
    """Paints every test prediction with :func:`paint` (input | ground truth
    | prediction, legend) to ``<out_dir>/<image name>.png`` and logs where.
    ``tools/test.py --show-dir DIR`` adds it (:func:`add_paint_hook`)."""

    def __init__(self, out_dir, score_thr=0.3):
        self.out_dir = out_dir
        self.score_thr = score_thr
        self.count = 0

    def before_test(self, runner):
        meta = getattr(runner.test_dataloader.dataset, 'metainfo', {}) or {}
        self.classes = meta.get('classes')
        self.palette = meta.get('palette')
        self.count = 0

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        import mmcv
        for sample in outputs or []:
            path = sample.img_path
            task, pred, gt = from_data_sample(sample)
            picture = paint(mmcv.imread(path, channel_order='rgb'), task,
                            pred, gt, self.classes, self.palette,
                            self.score_thr, title=osp.basename(path))
            name = osp.splitext(osp.basename(path))[0] + '.png'
            save_picture(picture, osp.join(self.out_dir, name))
            self.count += 1

    def after_test(self, runner):
        runner.logger.info(f'{self.count} pictures (input | ground truth | '
                           f'prediction) written to {self.out_dir}')


def add_paint_hook(cfg, out_dir, score_thr=0.3):
    """Add :class:`PaintPredictionsHook` writing to ``out_dir`` to the
    config's ``custom_hooks`` (what ``tools/test.py --show-dir`` does)."""
    hook = dict(type='PaintPredictionsHook', out_dir=osp.abspath(out_dir),
                score_thr=score_thr)
    cfg.custom_hooks = [*(cfg.get('custom_hooks') or []), hook]
    return cfg
