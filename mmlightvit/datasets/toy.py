"""Procedural toy datasets laid out exactly like the real ones.

They let the real configs, dataset classes and pipelines run end to end on a
laptop (CPU, a few minutes) without downloading anything:

* :func:`make_toy_ade20k` writes ``<root>/ADEChallengeData2016`` in the
  ADE20K layout read by mmseg's ``ADE20KDataset`` (``reduce_zero_label=True``).

Every image is drawn from its own random generator seeded by
``(seed, split, index)``: the data are identical from run to run and machine to
machine, and image ``i`` does not depend on how many images are written.

COCO (mmdet ``CocoDataset``) and ImageNet toy sets belong here too, as
``make_toy_coco`` / ``make_toy_imagenet``; they are not written yet.
"""
import os
import os.path as osp
import shutil

import cv2
import numpy as np

__all__ = ['ADE20K_TOY_CLASSES', 'make_toy_ade20k']

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


def _paint(rng, img, mask, value, h, w):
    """Paint the pixels of ``mask`` with the colour and texture of ``value``."""
    _, colour, kind = ADE20K_TOY_CLASSES[value]
    colour = np.asarray(colour, np.float32) + rng.uniform(-15, 15, 3)  # per object
    layer = colour[None, None, :] + 28.0 * _texture(rng, kind, h, w)[..., None]
    img[mask] = layer[mask]


def _random_shape_mask(rng, h, w):
    """A random filled rectangle, ellipse, triangle or polygon."""
    mask = np.zeros((h, w), np.uint8)
    short = min(h, w)
    cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
    rx = int(rng.integers(short // 10, short // 3))
    ry = int(rng.integers(short // 10, short // 3))
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


def _toy_ade20k_sample(rng, h, w):
    """One (BGR uint8 image, uint8 annotation) pair."""
    img = np.zeros((h, w, 3), np.float32)
    ann = np.zeros((h, w), np.uint8)
    full = np.ones((h, w), bool)

    bg = int(rng.choice(_BACKGROUND_VALUES))
    _paint(rng, img, full, bg, h, w)
    ann[:] = bg

    # 2-4 objects; later ones occlude earlier ones.
    for _ in range(int(rng.integers(2, 5))):
        value = int(rng.choice(_OBJECT_VALUES))
        mask = _random_shape_mask(rng, h, w)
        _paint(rng, img, mask, value, h, w)
        ann[mask] = value

    # Unlabelled clutter (value 0, ignored by the loss and the metric), like
    # the "other" regions of ADE20K: a dull blob of random grey-ish colour.
    if rng.random() < 0.6:
        mask = _random_shape_mask(rng, h, w)
        grey = rng.uniform(60, 200)
        img[mask] = grey + rng.uniform(-20, 20, 3)
        ann[mask] = 0

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
    sky) with 2-4 shapes of the object classes in :data:`ADE20K_TOY_CLASSES`
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
    h, w = (size, size) if np.isscalar(size) else size
    h, w = int(h), int(w)
    if h < 16 or w < 16:
        raise ValueError(f'size must be at least 16 pixels, got {size!r}')
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
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
