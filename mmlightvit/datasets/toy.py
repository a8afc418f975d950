"""Procedural toy datasets laid out exactly like the real ones.

They let the real configs, dataset classes and pipelines run end to end on a
laptop (CPU, a few minutes) without downloading anything:

* :func:`make_toy_ade20k` writes ``<root>/ADEChallengeData2016`` in the
  ADE20K layout read by mmseg's ``ADE20KDataset`` (``reduce_zero_label=True``).

Every image is drawn from its own random generator seeded by
``(seed, split, index)``: the data are identical from run to run and machine to
machine, and image ``i`` does not depend on how many images are written.

* :func:`make_toy_coco` writes ``<root>/{train2017,val2017,annotations}``
  in the COCO 2017 layout read by mmdet's ``CocoDataset``.

* :func:`make_toy_imagenet` writes ``<root>/{train,val,meta}`` in the
  ImageNet layout read by mmpretrain's ``ImageNet`` (labels: a subset of the
  1000 ImageNet-1k classes).
"""
import os
import os.path as osp
import shutil

import cv2
import numpy as np

__all__ = ['ADE20K_TOY_CLASSES', 'make_toy_ade20k', 'COCO_CATEGORIES',
           'COCO_TOY_CLASSES', 'make_toy_coco']

ADE20K_DIRNAME = 'ADEChallengeData2016'

# The ADE20K classes drawn in the toy scenes. The key is the annotation value
# as stored in the PNGs (1..150, 0 = "other"/ignore); with
# ``reduce_zero_label=True`` mmseg trains on ``value - 1``, i.e. the index in
# ``ADE20KDataset.METAINFO['classes']`` (``1 -> 'wall'``, ``21 -> 'car'``).
# Each class has its own colour (BGR, as cv2 writes it) and texture, so it can
# be told from the pixels alone; the hues are far enough apart to survive
# PhotoMetricDistortion's hue jitter. Shapes are drawn with random geometry,
# so the shape says nothing about the class.
ADE20K_TOY_CLASSES = {
    # value: (name, BGR colour, texture)
    1: ('wall', (150, 150, 150), 'flat'),        # background only
    3: ('sky', (240, 205, 160), 'gradient'),     # background only
    5: ('tree', (40, 140, 40), 'speckle'),
    13: ('person', (60, 90, 220), 'flat'),
    15: ('door', (30, 70, 120), 'stripes'),
    21: ('car', (200, 60, 40), 'flat'),
    23: ('painting', (180, 40, 190), 'checker'),
    44: ('signboard', (20, 220, 230), 'stripes'),
}
_BACKGROUND_VALUES = (1, 3)
_OBJECT_VALUES = (5, 13, 15, 21, 23, 44)


def _texture(rng, kind, h, w):
    """A (h, w) float pattern in about [-1, 1] for one texture kind."""
    if kind == 'flat':
        return np.zeros((h, w), np.float32)
    if kind == 'gradient':
        return np.repeat(np.linspace(-1, 1, h, dtype=np.float32)[:, None], w, 1)
    if kind == 'speckle':
        small = rng.standard_normal((max(h // 4, 1), max(w // 4, 1)))
        return cv2.resize(small.astype(np.float32), (w, h),
                          interpolation=cv2.INTER_NEAREST)
    yy, xx = np.mgrid[0:h, 0:w]
    period = int(rng.integers(6, 10))
    if kind == 'stripes':
        along = xx if rng.random() < 0.5 else yy
        return np.where((along // (period // 2)) % 2 == 0, 1.0, -1.0).astype(np.float32)
    if kind == 'checker':
        return np.where(((xx // period) + (yy // period)) % 2 == 0, 1.0, -1.0).astype(np.float32)
    raise ValueError(f'unknown texture {kind!r}')


def _paint(rng, img, mask, value, h, w, table=ADE20K_TOY_CLASSES):
    """Paint the pixels of ``mask`` with the colour and texture of ``value``
    (``table``: value -> (name, BGR colour, texture))."""
    _, colour, kind = table[value]
    colour = np.asarray(colour, np.float32) + rng.uniform(-15, 15, 3)  # per object
    layer = colour[None, None, :] + 28.0 * _texture(rng, kind, h, w)[..., None]
    img[mask] = layer[mask]


def _random_shape_mask(rng, h, w, min_frac, max_frac):
    """A random filled rectangle, ellipse, triangle or polygon whose half
    sizes are ``min_frac..max_frac`` of the image's short side."""
    mask = np.zeros((h, w), np.uint8)
    short = min(h, w)
    cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
    rx, ry = (int(r) for r in rng.uniform(min_frac, max_frac, 2) * short)
    kind = rng.integers(4)
    if kind == 0:  # rectangle
        cv2.rectangle(mask, (cx - rx, cy - ry), (cx + rx, cy + ry), 1, -1)
    elif kind == 1:  # ellipse
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(mask, (cx, cy), (rx, ry), angle, 0, 360, 1, -1)
    else:  # triangle (3 vertices) or convex-ish polygon (5-6 vertices)
        n = 3 if kind == 2 else int(rng.integers(5, 7))
        # evenly spread vertices, jittered: no degenerate slivers
        angles = (rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(n) / n +
                  rng.uniform(-0.25, 0.25, n) * 2 * np.pi / n)
        radii = rng.uniform(0.6, 1.0, n)
        pts = np.stack([cx + rx * radii * np.cos(angles),
                        cy + ry * radii * np.sin(angles)], 1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(bool)


def _toy_ade20k_sample(rng, h, w, table=ADE20K_TOY_CLASSES,
                       backgrounds=_BACKGROUND_VALUES,
                       objects=_OBJECT_VALUES, ignore=0):
    """One (BGR uint8 image, uint8 annotation) pair: a background of
    ``backgrounds``, objects of ``objects`` (values of ``table``) and
    sometimes an unlabelled blob of value ``ignore``."""
    img = np.zeros((h, w, 3), np.float32)
    ann = np.zeros((h, w), np.uint8)
    full = np.ones((h, w), bool)

    bg = int(rng.choice(backgrounds))
    _paint(rng, img, full, bg, h, w, table)
    ann[:] = bg

    # 3-5 objects; later ones occlude earlier ones.
    for _ in range(int(rng.integers(3, 6))):
        value = int(rng.choice(objects))
        mask = _random_shape_mask(rng, h, w, 0.15, 0.4)
        _paint(rng, img, mask, value, h, w, table)
        ann[mask] = value

    # Unlabelled clutter (value 0, ignored by the loss and the metric), like
    # the "other" regions of ADE20K: a dull blob of random grey-ish colour.
    if rng.random() < 0.6:
        mask = _random_shape_mask(rng, h, w, 0.06, 0.2)
        grey = rng.uniform(60, 200)
        img[mask] = grey + rng.uniform(-20, 20, 3)
        ann[mask] = ignore

    # Sensor-like noise, then a light blur so edges are not perfectly sharp.
    img += rng.normal(0, 8, img.shape)
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), ann


def _is_nonempty_dir(path):
    return osp.isdir(path) and len(os.listdir(path)) > 0


def make_toy_ade20k(root='data/ade', num_train=64, num_val=16, size=128,
                    seed=0, overwrite=False):
    """Write a small procedural dataset in the ADE20K layout.

    Layout (the real ADEChallengeData2016 one)::

        <root>/ADEChallengeData2016/
            images/training/ADE_train_00000001.jpg ...
            images/validation/ADE_val_00000001.jpg ...
            annotations/training/ADE_train_00000001.png ...  (uint8, 0..150)
            annotations/validation/ADE_val_00000001.png ...

    Annotations use the ADE20K convention: 0 is "other"/ignore and class ``k``
    of ``ADE20KDataset.METAINFO['classes']`` is stored as ``k + 1``; read them
    with ``reduce_zero_label=True``. Each scene is a background class (wall or
    sky) with 3-5 shapes of the object classes in :data:`ADE20K_TOY_CLASSES`
    and sometimes an unlabelled (0) blob.

    Args:
        root (str): Folder that receives ``ADEChallengeData2016``
            (``data/ade`` gives mmseg's default ``data_root``).
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        size (int | tuple[int, int]): Image size, ``S`` or ``(H, W)``.
        seed (int): Seed; the same seed gives the same files.
        overwrite (bool): Replace an existing non-empty
            ``ADEChallengeData2016`` folder. If False (default) such a folder
            is left untouched.

    Returns:
        str: The dataset folder ``<root>/ADEChallengeData2016`` (a config's
        ``data_root``).
    """
    h, w = _checked_size(size, num_train, num_val, 16)
    data_root = osp.join(root, ADE20K_DIRNAME)
    if _is_nonempty_dir(data_root):
        if not overwrite:
            return data_root
        shutil.rmtree(data_root)

    for split_id, (split, prefix, num) in enumerate(
            [('training', 'ADE_train', num_train),
             ('validation', 'ADE_val', num_val)]):
        img_dir = osp.join(data_root, 'images', split)
        ann_dir = osp.join(data_root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(1, num + 1):
            rng = np.random.default_rng([seed, split_id, i])
            img, ann = _toy_ade20k_sample(rng, h, w)
            stem = f'{prefix}_{i:08d}'
            if not cv2.imwrite(osp.join(img_dir, stem + '.jpg'), img,
                               [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f'could not write {osp.join(img_dir, stem)}.jpg')
            if not cv2.imwrite(osp.join(ann_dir, stem + '.png'), ann):
                raise OSError(f'could not write {osp.join(ann_dir, stem)}.png')
    return data_root


# --------------------------------------------------------------- toy COCO

# The 80 COCO 2017 detection categories: (id, name, supercategory), with the
# real (non-contiguous) ids of instances_*2017.json; the names are those of
# mmdet's ``CocoDataset.METAINFO['classes']``, in the same order.
COCO_CATEGORIES = (
    (1, 'person', 'person'), (2, 'bicycle', 'vehicle'), (3, 'car', 'vehicle'),
    (4, 'motorcycle', 'vehicle'), (5, 'airplane', 'vehicle'),
    (6, 'bus', 'vehicle'), (7, 'train', 'vehicle'), (8, 'truck', 'vehicle'),
    (9, 'boat', 'vehicle'), (10, 'traffic light', 'outdoor'),
    (11, 'fire hydrant', 'outdoor'), (13, 'stop sign', 'outdoor'),
    (14, 'parking meter', 'outdoor'), (15, 'bench', 'outdoor'),
    (16, 'bird', 'animal'), (17, 'cat', 'animal'), (18, 'dog', 'animal'),
    (19, 'horse', 'animal'), (20, 'sheep', 'animal'), (21, 'cow', 'animal'),
    (22, 'elephant', 'animal'), (23, 'bear', 'animal'),
    (24, 'zebra', 'animal'), (25, 'giraffe', 'animal'),
    (27, 'backpack', 'accessory'), (28, 'umbrella', 'accessory'),
    (31, 'handbag', 'accessory'), (32, 'tie', 'accessory'),
    (33, 'suitcase', 'accessory'), (34, 'frisbee', 'sports'),
    (35, 'skis', 'sports'), (36, 'snowboard', 'sports'),
    (37, 'sports ball', 'sports'), (38, 'kite', 'sports'),
    (39, 'baseball bat', 'sports'), (40, 'baseball glove', 'sports'),
    (41, 'skateboard', 'sports'), (42, 'surfboard', 'sports'),
    (43, 'tennis racket', 'sports'), (44, 'bottle', 'kitchen'),
    (46, 'wine glass', 'kitchen'), (47, 'cup', 'kitchen'),
    (48, 'fork', 'kitchen'), (49, 'knife', 'kitchen'),
    (50, 'spoon', 'kitchen'), (51, 'bowl', 'kitchen'),
    (52, 'banana', 'food'), (53, 'apple', 'food'), (54, 'sandwich', 'food'),
    (55, 'orange', 'food'), (56, 'broccoli', 'food'), (57, 'carrot', 'food'),
    (58, 'hot dog', 'food'), (59, 'pizza', 'food'), (60, 'donut', 'food'),
    (61, 'cake', 'food'), (62, 'chair', 'furniture'),
    (63, 'couch', 'furniture'), (64, 'potted plant', 'furniture'),
    (65, 'bed', 'furniture'), (67, 'dining table', 'furniture'),
    (70, 'toilet', 'furniture'), (72, 'tv', 'electronic'),
    (73, 'laptop', 'electronic'), (74, 'mouse', 'electronic'),
    (75, 'remote', 'electronic'), (76, 'keyboard', 'electronic'),
    (77, 'cell phone', 'electronic'), (78, 'microwave', 'appliance'),
    (79, 'oven', 'appliance'), (80, 'toaster', 'appliance'),
    (81, 'sink', 'appliance'), (82, 'refrigerator', 'appliance'),
    (84, 'book', 'indoor'), (85, 'clock', 'indoor'), (86, 'vase', 'indoor'),
    (87, 'scissors', 'indoor'), (88, 'teddy bear', 'indoor'),
    (89, 'hair drier', 'indoor'), (90, 'toothbrush', 'indoor'),
)

# The COCO categories drawn in the toy scenes: COCO category id ->
# (name, BGR colour, shape). Colour and shape both identify the class (the
# hues are far apart and saturated; the background is a dull, low-saturation
# texture), so a detector can learn them in a few hundred images' worth of
# iterations.
COCO_TOY_CLASSES = {
    1: ('person', (50, 50, 215), 'tall_ellipse'),    # red
    3: ('car', (215, 90, 30), 'wide_rectangle'),     # blue
    13: ('stop sign', (30, 215, 230), 'octagon'),    # yellow
    37: ('sports ball', (40, 185, 40), 'circle'),    # green
    47: ('cup', (190, 40, 190), 'triangle'),         # magenta
}
COCO_DIRNAMES = ('annotations', 'train2017', 'val2017')


def _toy_coco_polygon(shape, cx, cy, rx, ry):
    """Vertices (N, 2) of one toy object shape, centred at (cx, cy), whose
    half extents are about (rx, ry)."""
    if shape in ('tall_ellipse', 'circle'):
        if shape == 'circle':
            rx = ry = min(rx, ry)
        else:  # taller than wide
            rx, ry = min(rx, ry) * 0.6, max(rx, ry)
        return cv2.ellipse2Poly((int(cx), int(cy)), (int(rx), int(ry)), 0, 0,
                                360, 10)
    if shape == 'wide_rectangle':
        rx, ry = max(rx, ry), min(rx, ry) * 0.55
        pts = [(-rx, -ry), (rx, -ry), (rx, ry), (-rx, ry)]
    elif shape == 'octagon':
        r = min(rx, ry)
        angles = np.pi / 8 + np.arange(8) * np.pi / 4
        pts = np.stack([r * np.cos(angles), r * np.sin(angles)], 1)
    elif shape == 'triangle':  # pointing up
        pts = [(0, -ry), (rx, ry), (-rx, ry)]
    else:
        raise ValueError(f'unknown shape {shape!r}')
    pts = np.asarray(pts, np.float64) + (cx, cy)
    return np.round(pts).astype(np.int32)


def _toy_coco_background(rng, h, w):
    """A dull, low-saturation textured background (float32 BGR)."""
    base = rng.uniform(70, 180)
    tint = rng.uniform(-12, 12, 3)
    small = rng.standard_normal((4, 4)).astype(np.float32)
    smooth = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = base + tint[None, None, :] + 22.0 * smooth[..., None]
    # a fine texture (stripes or speckle), dull as well
    kind = ('stripes', 'speckle', 'flat')[int(rng.integers(3))]
    img += 10.0 * _texture(rng, kind, h, w)[..., None]
    return img.astype(np.float32)


def _toy_coco_sample(rng, h, w, max_objects=5, object_size=(0.12, 0.32),
                     classes=COCO_TOY_CLASSES):
    """One BGR uint8 image and its objects ``[(category_id, bbox_xywh,
    area, polygon)]``: 1..``max_objects`` non-overlapping shapes (sizes
    ``object_size`` of the short side) that lie fully inside the image, so
    every box is exact. ``classes``: id -> (name, BGR colour, shape)."""
    img = _toy_coco_background(rng, h, w)
    short = min(h, w)
    objects, taken = [], np.zeros((h, w), bool)
    num = int(rng.integers(1, max_objects + 1))
    for _ in range(num * 15):  # rejection sampling of free places
        if len(objects) == num:
            break
        cat = int(rng.choice(list(classes)))
        _, colour, shape = classes[cat]
        rx, ry = rng.uniform(*object_size, 2) * short / 2
        cx = rng.uniform(rx + 1, w - rx - 1)
        cy = rng.uniform(ry + 1, h - ry - 1)
        poly = _toy_coco_polygon(shape, cx, cy, rx, ry)
        poly[:, 0] = np.clip(poly[:, 0], 0, w - 1)
        poly[:, 1] = np.clip(poly[:, 1], 0, h - 1)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [poly], 1)
        mask = mask.astype(bool)
        # keep a gap of a few pixels to the other objects
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8))
        if not mask.any() or (grown.astype(bool) & taken).any():
            continue
        taken |= mask
        col = np.asarray(colour, np.float32) + rng.uniform(-15, 15, 3)
        img[mask] = col + rng.normal(0, 6, (int(mask.sum()), 3))
        ys, xs = np.nonzero(mask)
        x0, y0 = int(xs.min()), int(ys.min())
        bbox = [float(x0), float(y0), float(xs.max() + 1 - x0),
                float(ys.max() + 1 - y0)]
        objects.append((cat, bbox, float(mask.sum()),
                        [float(v) for v in poly.reshape(-1)]))
    img += rng.normal(0, 5, img.shape)
    img = cv2.GaussianBlur(img, (3, 3), 0.5)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), objects


def make_toy_coco(root='data/coco', num_train=64, num_val=32, size=128,
                  seed=0, max_objects=5, object_size=(0.12, 0.32),
                  overwrite=False):
    """Write a small procedural detection dataset in the COCO 2017 layout.

    Layout (the real one, as read by mmdet's ``CocoDataset`` with
    ``data_root=root``)::

        <root>/
            annotations/instances_train2017.json
            annotations/instances_val2017.json
            train2017/000000000001.jpg ...
            val2017/000000100001.jpg ...

    The annotation files are COCO format: ``images``, ``annotations``
    (``bbox`` ``[x, y, w, h]``, ``area``, ``iscrowd`` 0, polygon
    ``segmentation``) and all 80 COCO ``categories`` with their real ids.
    Each image has 1..``max_objects`` non-overlapping objects of the
    categories in :data:`COCO_TOY_CLASSES` (a colour and a shape per class)
    on a dull textured background; every object lies fully inside the image
    and its box is the exact bounding box of its pixels.

    Args:
        root (str): The dataset folder (a config's ``data_root``;
            ``data/coco`` is mmdet's default).
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        size (int | tuple[int, int]): Image size, ``S`` or ``(H, W)``.
        seed (int): Seed; the same seed gives the same files. Image ``i`` of
            a split does not depend on how many images are written.
        max_objects (int): Most objects per image (at least 1 each).
        object_size (tuple[float, float]): Range of an object's size (the
            long side of its shape) as a fraction of the image's short side.
            The default (15-41 pixels in 128x128 images) suits SSDLite's
            finer levels at 128x128: a from-scratch SSDLite learns it on a
            CPU in a few minutes' worth of iterations.
        overwrite (bool): Replace existing ``annotations``, ``train2017``
            and ``val2017`` folders (nothing else in ``root`` is touched).
            If False (default) and any of them exists and is not empty,
            nothing is written.

    Returns:
        str: ``root``.
    """
    import json
    h, w = _checked_size(size, num_train, num_val, 32)
    if max_objects < 1:
        raise ValueError('max_objects must be >= 1')
    parts = [osp.join(root, d) for d in COCO_DIRNAMES]
    if any(_is_nonempty_dir(p) for p in parts):
        if not overwrite:
            return root
        for p in parts:
            if osp.isdir(p):
                shutil.rmtree(p)

    categories = [dict(supercategory=sup, id=cid, name=name)
                  for cid, name, sup in COCO_CATEGORIES]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split_id, (split, num) in enumerate([('train2017', num_train),
                                             ('val2017', num_val)]):
        img_dir = osp.join(root, split)
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        for i in range(1, num + 1):
            rng = np.random.default_rng([seed, 100 + split_id, i])
            img, objects = _toy_coco_sample(rng, h, w, max_objects,
                                            object_size)
            image_id = split_id * 100000 + i
            file_name = f'{image_id:012d}.jpg'
            if not cv2.imwrite(osp.join(img_dir, file_name), img,
                               [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f'could not write {osp.join(img_dir, file_name)}')
            images.append(dict(id=image_id, file_name=file_name, height=h,
                               width=w, license=1))
            for k, (cat, bbox, area, poly) in enumerate(objects, 1):
                annotations.append(dict(  # ids unique over both splits
                    id=image_id * 100 + k, image_id=image_id,
                    category_id=cat, bbox=bbox, area=area, iscrowd=0,
                    segmentation=[poly]))
        data = dict(
            info=dict(description='mmlightvit procedural toy COCO '
                      f'({split}, seed {seed})', version='1.0', year=2017,
                      contributor='mmlightvit', url='',
                      date_created='2017/09/01'),
            licenses=[dict(id=1, name='CC0 1.0 (procedural data)', url='')],
            images=images, annotations=annotations, categories=categories)
        ann_file = osp.join(root, 'annotations',
                            f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(data, f)
    return root


# --- ImageNet (mmpretrain ``ImageNet``) --------------------------------------
# The ImageNet-1k classes of the toy set: every 50th class, as
# ``(label, wnid)``. The label is the class index of ImageNet-1k (the sorted
# wnids, i.e. ``mmpretrain.datasets.ImageNet.METAINFO['classes'][label]``),
# so a 1000-class model trains on them as they are; the toy set uses the
# first ``num_classes`` of them.
IMAGENET_TOY_CLASSES = (
    (0, 'n01440764'), (50, 'n01698640'), (100, 'n01860187'),
    (150, 'n02077923'), (200, 'n02097474'), (250, 'n02110185'),
    (300, 'n02165105'), (350, 'n02417914'), (400, 'n02669723'),
    (450, 'n02860847'), (500, 'n03042490'), (550, 'n03297495'),
    (600, 'n03532672'), (650, 'n03759954'), (700, 'n03887697'),
    (750, 'n04033995'), (800, 'n04243546'), (850, 'n04399382'),
    (900, 'n04562935'), (950, 'n07747607'),
)
_IMAGENET_TEXTURES = ('flat', 'stripes', 'checker', 'speckle')


def _imagenet_class_look(index, num_classes):
    """(BGR colour, texture) of toy class ``index`` of ``num_classes``: hues
    spread evenly around the circle, saturated and mid-bright, so that the
    colour alone tells the classes apart; textures alternate."""
    hue = int(round(180 * index / num_classes)) % 180  # OpenCV: 0..179
    hsv = np.uint8([[[hue, 210, 200]]])
    colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)
    return colour, _IMAGENET_TEXTURES[index % len(_IMAGENET_TEXTURES)]


def _toy_imagenet_sample(rng, index, num_classes, h, w):
    """One BGR uint8 image of toy class ``index``: a large object of the
    class colour and texture (random shape, place and size, covering much of
    the image so that random crops keep it) on a dull grey background with a
    small grey distractor."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = rng.uniform(70, 180) + rng.uniform(-12, 12, 3)  # dull, low sat.
    img += 20.0 * _texture(rng, str(rng.choice(['flat', 'gradient'])),
                           h, w)[..., None]
    colour, kind = _imagenet_class_look(index, num_classes)
    colour = colour + rng.uniform(-12, 12, 3)  # per image
    for _ in range(20):  # at least 15% of the image (almost always at once)
        mask = _random_shape_mask(rng, h, w, 0.3, 0.55)
        if mask.mean() >= 0.15:
            break
    layer = colour[None, None, :] + 25.0 * _texture(rng, kind, h, w)[..., None]
    img[mask] = layer[mask]
    if rng.random() < 0.5:  # an uninformative grey blob, may occlude a bit
        blob = _random_shape_mask(rng, h, w, 0.05, 0.15)
        img[blob] = rng.uniform(60, 200)
    img += rng.normal(0, 6, img.shape)
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_toy_imagenet(root='data/imagenet', num_classes=10, per_class=16,
                      size=64, seed=0, val_per_class=None, overwrite=False):
    """Write a small procedural classification dataset in the ImageNet
    layout read by mmpretrain's ``ImageNet`` (``data_root=root``,
    ``split='train'`` / ``'val'``).

    Layout (the real one, with mmpretrain's annotation files)::

        <root>/
            train/n01440764/n01440764_1.JPEG ...   (one folder per wnid)
            val/ILSVRC2012_val_00000001.JPEG ...
            meta/train.txt   lines "n01440764/n01440764_1.JPEG 0"
            meta/val.txt     lines "ILSVRC2012_val_00000001.JPEG 0"

    Labels are ImageNet-1k class indices (see :data:`IMAGENET_TOY_CLASSES`):
    the toy classes are a subset of the 1000, so the real 1000-class configs
    and models run on it unchanged. Each class is learnable from the pixels:
    its images show a large object of the class's own colour (hues spread
    evenly over the classes) and texture, of random shape, place and size,
    on a dull grey background.

    Args:
        root (str): The dataset folder (a config's ``data_root``;
            ``data/imagenet`` is mmpretrain's default).
        num_classes (int): Number of classes, 2..20.
        per_class (int): Training images per class.
        size (int | tuple[int, int]): Image size, ``S`` or ``(H, W)``.
        seed (int): Seed; the same seed and ``num_classes`` give the same
            files. Image ``j`` of a class and split does not depend on how
            many are written (the class colours depend on ``num_classes``).
        val_per_class (int | None): Validation images per class; None =
            ``max(1, per_class // 4)``.
        overwrite (bool): Replace existing ``train``, ``val`` and ``meta``
            folders (nothing else in ``root`` is touched). If False (default)
            and any of them exists and is not empty, nothing is written.

    Returns:
        str: ``root``.
    """
    h, w = _checked_size(size, per_class, per_class, 16)
    if not 2 <= num_classes <= len(IMAGENET_TOY_CLASSES):
        raise ValueError(f'num_classes must be in 2..'
                         f'{len(IMAGENET_TOY_CLASSES)}, got {num_classes}')
    if val_per_class is None:
        val_per_class = max(1, per_class // 4)
    if per_class < 1 or val_per_class < 0:
        raise ValueError('per_class must be >= 1 and val_per_class >= 0')
    parts = [osp.join(root, d) for d in ('train', 'val', 'meta')]
    if any(_is_nonempty_dir(p) for p in parts):
        if not overwrite:
            return root
        for p in parts:
            if osp.isdir(p):
                shutil.rmtree(p)
    for p in parts:
        os.makedirs(p, exist_ok=True)

    def write(path, img):
        if not cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f'could not write {path}')

    classes = IMAGENET_TOY_CLASSES[:num_classes]
    train_lines, val_lines = [], []
    for index, (label, wnid) in enumerate(classes):
        os.makedirs(osp.join(root, 'train', wnid), exist_ok=True)
        for j in range(1, per_class + 1):
            rng = np.random.default_rng([seed, 0, label, j])
            name = f'{wnid}/{wnid}_{j}.JPEG'
            write(osp.join(root, 'train', name),
                  _toy_imagenet_sample(rng, index, num_classes, h, w))
            train_lines.append(f'{name} {label}')
    for j in range(1, val_per_class + 1):  # classes interleaved
        for index, (label, _) in enumerate(classes):
            rng = np.random.default_rng([seed, 1, label, j])
            name = f'ILSVRC2012_val_{len(val_lines) + 1:08d}.JPEG'
            write(osp.join(root, 'val', name),
                  _toy_imagenet_sample(rng, index, num_classes, h, w))
            val_lines.append(f'{name} {label}')
    for split, lines in (('train', train_lines), ('val', val_lines)):
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write(''.join(line + '\n' for line in lines))
    return root


__all__ += ['IMAGENET_TOY_CLASSES', 'make_toy_imagenet']


# --- your own data: the YOLO detection layout and a segmentation folder -----
# 20 classes, each a colour and a shape: 5 saturated hues far apart (they
# survive YOLOXHSVRandomAug's hue jitter) x 4 shapes of distinct outline and
# aspect (disc, triangle, bar = wide rectangle, egg = tall ellipse), on the
# dull textured background of the toy COCO. Class index -> (name, BGR
# colour, shape); the index is the class id of the YOLO label files.
_YOLO_TOY_COLOURS = (('red', (40, 40, 220)), ('yellow', (30, 210, 230)),
                     ('green', (40, 185, 40)), ('blue', (215, 90, 30)),
                     ('magenta', (190, 40, 190)))
_YOLO_TOY_SHAPES = (('disc', 'circle'), ('triangle', 'triangle'),
                    ('bar', 'wide_rectangle'), ('egg', 'tall_ellipse'))
YOLO_TOY_CLASSES = {
    i * len(_YOLO_TOY_SHAPES) + j: (f'{colour} {shape}', bgr, kind)
    for i, (colour, bgr) in enumerate(_YOLO_TOY_COLOURS)
    for j, (shape, kind) in enumerate(_YOLO_TOY_SHAPES)
}
YOLO_SPLITS = ('train', 'val')

# The 5 classes of the toy segmentation folder, by mask value: a background
# class and four "materials", each a colour and a texture (value -> (name,
# BGR colour, texture)). 0 is a class here (reduce_zero_label=False);
# unlabelled blobs are 255 (ignored).
FOLDER_SEG_TOY_CLASSES = {
    0: ('background', (150, 150, 150), 'flat'),
    1: ('leaf', (40, 140, 40), 'speckle'),
    2: ('water', (200, 120, 30), 'gradient'),
    3: ('brick', (50, 60, 190), 'checker'),
    4: ('sand', (90, 200, 225), 'stripes'),
}
FOLDER_SEG_IGNORE = 255


def _checked_size(size, num_train, num_val, minimum):
    """``(h, w)`` of ``size`` (``S`` or ``(H, W)``), checked with the image
    counts."""
    h, w = (size, size) if np.isscalar(size) else size
    h, w = int(h), int(w)
    if h < minimum or w < minimum:
        raise ValueError(f'size must be at least {minimum} pixels, got '
                         f'{size!r}')
    if num_train < 0 or num_val < 0:
        raise ValueError('image counts must be >= 0, got '
                         f'{num_train} and {num_val}')
    return h, w


def _clear_parts(parts, overwrite):
    """False when one of ``parts`` (folders or files) holds data and
    ``overwrite`` is off: nothing is to be written. Else removes them."""
    def holds_data(p):
        return osp.isfile(p) or _is_nonempty_dir(p)
    if not any(holds_data(p) for p in parts):
        return True
    if not overwrite:
        return False
    for p in parts:
        if osp.isdir(p):
            shutil.rmtree(p)
        elif osp.isfile(p):
            os.remove(p)
    return True


def _write_image(path, img, ext='.jpg'):
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == '.jpg' else []
    if not cv2.imwrite(path, img, params):
        raise OSError(f'could not write {path}')


def make_toy_yolo(root='data/yolo', num_train=96, num_val=24, size=128,
                  seed=0, max_objects=8, object_size=(0.15, 0.35),
                  overwrite=False):
    """Write a small procedural 20-class detection dataset in the YOLO
    layout (the one ultralytics reads and most labelling tools export)::

        <root>/
            data.yaml                   names: the 20 class names, nc: 20
            images/train/000001.jpg ...
            labels/train/000001.txt ... one line per object:
                                        "class cx cy w h" (normalised 0..1)
            images/val/... labels/val/...

    Each image has 1..``max_objects`` non-overlapping objects of the classes
    in :data:`YOLO_TOY_CLASSES` (a colour and a shape per class) lying fully
    inside the image: every box is the exact box of the object's pixels.

    Args: as :func:`make_toy_coco`; ``overwrite`` replaces ``images``,
        ``labels`` and ``data.yaml`` (nothing else in ``root``). The defaults
        (128x128, up to 8 objects of 19-45 pixels) suit RTMDet-tiny's
        strides 8-32: trained from scratch on the 96 images for 48
        iterations, it detects them (bbox mAP about 0.09).

    Returns:
        str: ``root``.
    """
    import yaml
    h, w = _checked_size(size, num_train, num_val, 32)
    if max_objects < 1:
        raise ValueError('max_objects must be >= 1')
    parts = [osp.join(root, d) for d in ('images', 'labels', 'data.yaml')]
    if not _clear_parts(parts, overwrite):
        return root
    for split_id, (split, num) in enumerate(zip(YOLO_SPLITS,
                                                (num_train, num_val))):
        for kind in ('images', 'labels'):
            os.makedirs(osp.join(root, kind, split), exist_ok=True)
        for i in range(1, num + 1):
            rng = np.random.default_rng([seed, 200 + split_id, i])
            img, objects = _toy_coco_sample(rng, h, w, max_objects,
                                            object_size, YOLO_TOY_CLASSES)
            _write_image(osp.join(root, 'images', split, f'{i:06d}.jpg'), img)
            lines = [f'{label} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} '
                     f'{bw / w:.6f} {bh / h:.6f}\n'
                     for label, (x, y, bw, bh), _, _ in objects]
            with open(osp.join(root, 'labels', split, f'{i:06d}.txt'),
                      'w') as f:
                f.writelines(lines)
    names = [name for name, _, _ in YOLO_TOY_CLASSES.values()]
    with open(osp.join(root, 'data.yaml'), 'w') as f:
        f.write('# mmlightvit procedural toy set (YOLO layout), seed '
                f'{seed}\n')
        yaml.safe_dump(dict(train='images/train', val='images/val',
                            nc=len(names), names=names), f,
                       sort_keys=False)
    return root


def make_toy_folder_seg(root='data/folder_seg', num_train=64, num_val=16,
                        size=128, seed=0, overwrite=False):
    """Write a small procedural 5-class segmentation dataset as a plain
    folder of images and PNG masks with a class list::

        <root>/
            classes.txt                 one class name a line (mask value =
                                        line number from 0)
            palette.txt                 one "R G B" colour a line (optional)
            images/train/000001.jpg ...
            masks/train/000001.png ...  uint8: 0..4 = the classes,
                                        255 = unlabelled (ignored)
            images/val/... masks/val/...

    Every scene is the background class with 3-5 shapes of the other
    classes (:data:`FOLDER_SEG_TOY_CLASSES`, a colour and a texture each)
    and sometimes an unlabelled blob. Read it with ``reduce_zero_label=False``
    (0 is a class).

    Args: as :func:`make_toy_ade20k`; ``overwrite`` replaces ``images``,
        ``masks``, ``classes.txt`` and ``palette.txt`` (nothing else in
        ``root``).

    Returns:
        str: ``root``.
    """
    h, w = _checked_size(size, num_train, num_val, 16)
    parts = [osp.join(root, d) for d in ('images', 'masks', 'classes.txt',
                                         'palette.txt')]
    if not _clear_parts(parts, overwrite):
        return root
    values = sorted(FOLDER_SEG_TOY_CLASSES)
    for split_id, (split, num) in enumerate(zip(YOLO_SPLITS,
                                                (num_train, num_val))):
        for kind in ('images', 'masks'):
            os.makedirs(osp.join(root, kind, split), exist_ok=True)
        for i in range(1, num + 1):
            rng = np.random.default_rng([seed, 300 + split_id, i])
            img, mask = _toy_ade20k_sample(
                rng, h, w, FOLDER_SEG_TOY_CLASSES, values[:1], values[1:],
                ignore=FOLDER_SEG_IGNORE)
            _write_image(osp.join(root, 'images', split, f'{i:06d}.jpg'), img)
            _write_image(osp.join(root, 'masks', split, f'{i:06d}.png'), mask,
                         '.png')
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.writelines(f'{FOLDER_SEG_TOY_CLASSES[v][0]}\n' for v in values)
    with open(osp.join(root, 'palette.txt'), 'w') as f:  # RGB, as mmseg
        f.writelines('{2} {1} {0}\n'.format(*FOLDER_SEG_TOY_CLASSES[v][1])
                     for v in values)
    return root


__all__ += ['FOLDER_SEG_TOY_CLASSES', 'YOLO_TOY_CLASSES',
            'make_toy_folder_seg', 'make_toy_yolo']


# ------------------------------------------------------------ toy PASCAL VOC

VOC_DIRNAME = osp.join('VOCdevkit', 'VOC2012')
# The PASCAL VOC 2012 classes drawn in the toy scenes: label -> (name, BGR
# colour, texture); 0 is the background ('background' of PascalVOCDataset),
# 255 the "void" band VOC draws along object borders (ignored).
VOC_TOY_CLASSES = {
    0: ('background', (120, 130, 125), 'speckle'),
    1: ('aeroplane', (200, 60, 40), 'flat'),
    3: ('bird', (40, 140, 40), 'speckle'),
    7: ('car', (60, 90, 220), 'flat'),
    8: ('cat', (30, 70, 120), 'stripes'),
    15: ('person', (180, 40, 190), 'checker'),
    20: ('tvmonitor', (20, 220, 230), 'stripes'),
}
VOC_IGNORE = 255


def voc_palette():
    """The 256-colour palette of VOC's SegmentationClass PNGs (RGB, flat):
    label ``i`` gets the colour made of the bits of ``i``."""
    palette = []
    for i in range(256):
        rgb, label = [0, 0, 0], i
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((label >> channel) & 1) << shift
            label >>= 3
        palette += rgb
    return palette


def _toy_voc_sample(rng, h, w):
    """One (BGR image, label map) pair: a background with 3-5 objects of
    :data:`VOC_TOY_CLASSES`, sometimes a void blob, and the 255 band along
    the borders."""
    objects = [v for v in VOC_TOY_CLASSES if v]
    img, ann = _toy_ade20k_sample(rng, h, w, VOC_TOY_CLASSES,
                                  backgrounds=(0, ), objects=objects,
                                  ignore=VOC_IGNORE)
    edges = cv2.morphologyEx(ann, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    ann[edges > 0] = VOC_IGNORE
    return img, ann


def make_toy_voc(root='data', num_train=32, num_aug=32, num_val=16, size=128,
                 seed=0, overwrite=False):
    """Write a small procedural dataset in the PASCAL VOC 2012 layout, with
    the SBD-augmented set as mmseg's ``pascal_voc12_aug.py`` reads it::

        <root>/VOCdevkit/VOC2012/
            JPEGImages/2007_000001.jpg ...
            SegmentationClass/2007_000001.png ...  palette PNGs, 0..20 + 255
            SegmentationClassAug/2007_000001.png ... (train, aug: grey PNGs)
            ImageSets/Segmentation/{train,val,trainval,aug}.txt

    Labels: 0 background, 1..20 the VOC classes (those of
    :data:`VOC_TOY_CLASSES` are drawn), 255 the void band along object
    borders; read by mmseg's ``PascalVOCDataset``.

    Args:
        root (str): Folder that receives ``VOCdevkit/VOC2012`` (``data``
            gives mmseg's default ``data_root``).
        num_train, num_aug, num_val (int): Images of VOC's train list, of
            the augmented list (SBD, listed in ``aug.txt``) and of val.
        size (int | tuple[int, int]): Image size, ``S`` or ``(H, W)``.
        seed (int): Seed; the same seed gives the same files.
        overwrite (bool): Replace an existing non-empty ``VOC2012`` folder.

    Returns:
        str: The dataset folder ``<root>/VOCdevkit/VOC2012``.
    """
    from PIL import Image
    h, w = _checked_size(size, num_train + num_aug, num_val, 16)
    data_root = osp.join(root, VOC_DIRNAME)
    if _is_nonempty_dir(data_root):
        if not overwrite:
            return data_root
        shutil.rmtree(data_root)
    dirs = {d: osp.join(data_root, d) for d in (
        'JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
        osp.join('ImageSets', 'Segmentation'))}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    lists = {}
    for split_id, (split, year, num) in enumerate(
            [('train', 2007, num_train), ('aug', 2008, num_aug),
             ('val', 2010, num_val)]):
        lists[split] = []
        for i in range(1, num + 1):
            stem = f'{year}_{i:06d}'
            img, ann = _toy_voc_sample(
                np.random.default_rng([seed, split_id, i]), h, w)
            _write_image(osp.join(dirs['JPEGImages'], stem + '.jpg'), img)
            if split != 'aug':  # VOC's own masks: palette PNGs
                mask = Image.fromarray(ann)
                mask.putpalette(voc_palette())  # 'L' -> 'P', same values
                mask.save(osp.join(dirs['SegmentationClass'], stem + '.png'))
            if split != 'val':  # the augmented set's: grey PNGs
                _write_image(osp.join(dirs['SegmentationClassAug'],
                                      stem + '.png'), ann, '.png')
            lists[split].append(stem)
    lists['trainval'] = lists['train'] + lists['val']
    for name, stems in lists.items():
        with open(osp.join(dirs[osp.join('ImageSets', 'Segmentation')],
                           name + '.txt'), 'w') as f:
            f.write(''.join(s + '\n' for s in stems))
    return data_root
