"""Transforms that refuse broken samples with the file name, or skip them.

``on_error='raise'`` (default) stops with a message naming the file;
``on_error='skip'`` logs that message and returns ``None``, on which
mmengine's datasets draw another sample, so training goes on with the rest.
"""
import logging

import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine.logging import print_log
from mmengine.registry import TRANSFORMS

_ON_ERROR = ('raise', 'skip')


class BadSampleError(ValueError):
    """A sample whose files cannot be used as they are."""


def _check_on_error(on_error):
    if on_error not in _ON_ERROR:
        raise ValueError(f'on_error must be one of {_ON_ERROR}, got '
                         f'{on_error!r}')
    return on_error


def _refuse(on_error, message):
    if on_error == 'raise':
        raise BadSampleError(message)
    print_log(f'skipped: {message}', logger='current', level=logging.WARNING)
    return None


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that names the file it cannot decode."""

    def __init__(self, on_error='raise', **kwargs):
        super().__init__(**kwargs)
        self.on_error = _check_on_error(on_error)

    def transform(self, results):
        try:
            out = super().transform(results)
        except Exception as e:  # unreadable, truncated, not an image
            return _refuse(self.on_error, f'{results["img_path"]}: cannot '
                           f'decode the image ({type(e).__name__}: {e})')
        if out is None:
            return _refuse(self.on_error,
                           f'{results["img_path"]}: cannot decode the image')
        return out


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """After ``LoadAnnotations``: the label map has the size of the image as
    loaded (``ori_shape``, so it may follow a ``Resize``) and its labels are
    ``< num_classes`` or ``ignore_index``."""

    def __init__(self, num_classes, ignore_index=255, on_error='raise'):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.on_error = _check_on_error(on_error)

    def transform(self, results):
        seg, path = results['gt_seg_map'], results.get('seg_map_path')
        h, w = results.get('ori_shape', results['img'].shape[:2])
        if seg.shape[:2] != (h, w):
            return _refuse(
                self.on_error, f'{path}: label map is {seg.shape[1]}x'
                f'{seg.shape[0]} but its image {results["img_path"]} is '
                f'{w}x{h}')
        labels = np.unique(seg)
        bad = labels[(labels >= self.num_classes)
                     & (labels != self.ignore_index)]
        if bad.size:
            return _refuse(
                self.on_error, f'{path}: labels {bad.tolist()} are outside '
                f'0..{self.num_classes - 1} (and ignore {self.ignore_index})')
        return results


@TRANSFORMS.register_module()
class CheckBoxes(BaseTransform):
    """After ``LoadAnnotations``: every box lies inside its image (with
    ``tolerance`` pixels of slack) and has a positive size."""

    def __init__(self, tolerance=1.0, on_error='raise'):
        self.tolerance = tolerance
        self.on_error = _check_on_error(on_error)

    def transform(self, results):
        boxes = results.get('gt_bboxes')
        if boxes is None or len(boxes) == 0:
            return results
        boxes = np.asarray(boxes.tensor if hasattr(boxes, 'tensor') else boxes)
        h, w = results['img'].shape[:2]
        t = self.tolerance
        bad = ((boxes[:, 0] < -t) | (boxes[:, 1] < -t) | (boxes[:, 2] > w + t)
               | (boxes[:, 3] > h + t) | (boxes[:, 2] <= boxes[:, 0])
               | (boxes[:, 3] <= boxes[:, 1]))
        if bad.any():
            return _refuse(
                self.on_error, f'{results["img_path"]}: box '
                f'{boxes[bad][0].round(1).tolist()} (x1, y1, x2, y2) lies '
                f'outside the {w}x{h} image')
        return results
