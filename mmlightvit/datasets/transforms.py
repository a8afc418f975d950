"""Transforms that refuse broken samples with the file name, or skip them.

``on_error`` says what happens to a broken sample:

* ``'raise'`` (default): stop with a :class:`BadSampleError` naming the file.
* ``'skip'`` (training): log the message and return ``None``, on which
  mmengine's datasets draw another sample, so training goes on with the rest.
* ``'drop'`` (evaluation): log the message and keep the sample, marked with
  ``bad_sample`` (the message) in its meta information: an undecodable image
  becomes a blank one, a segmentation label map all ``ignore_index``. The
  :class:`~mmlightvit.datasets.evaluation.DropBadSamplesEvaluator` leaves
  marked samples out of every metric and reports how many there were. A
  broken sample is never replaced by another one at evaluation time.
  mmlightvit's tools turn ``'skip'`` into ``'drop'`` in validation and test
  pipelines and wrap the evaluators (:mod:`mmlightvit.datasets.pipelines`).
"""
import logging

import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine.logging import print_log
from mmengine.registry import TRANSFORMS

ON_ERROR = ('raise', 'skip', 'drop')
BAD_SAMPLE_KEY = 'bad_sample'  # meta key of samples kept only to be dropped
# size of the blank image that stands in for an undecodable one (when the
# annotations do not give the image size)
_BLANK_SIZE = 32


class BadSampleError(ValueError):
    """A sample whose files cannot be used as they are."""


def _check_on_error(on_error):
    if on_error not in ON_ERROR:
        raise ValueError(f'on_error must be one of {ON_ERROR}, got '
                         f'{on_error!r}')
    return on_error


def _refuse(on_error, message, results):
    """Raise, skip (``None``) or mark ``results`` as a bad sample."""
    if on_error == 'raise':
        raise BadSampleError(message)
    if on_error == 'skip':
        print_log(f'skipped: {message}', logger='current',
                  level=logging.WARNING)
        return None
    if BAD_SAMPLE_KEY not in results:  # the first reason is the one kept
        print_log(f'dropped from the metric: {message}', logger='current',
                  level=logging.WARNING)
        results[BAD_SAMPLE_KEY] = message
    return results


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that names the file it cannot decode."""

    def __init__(self, on_error='raise', **kwargs):
        super().__init__(**kwargs)
        self.on_error = _check_on_error(on_error)

    def transform(self, results):
        try:
            out = super().transform(results)
            reason = None if out is not None else 'cannot decode the image'
        except Exception as e:  # unreadable, truncated, not an image
            reason = f'cannot decode the image ({type(e).__name__}: {e})'
        if reason is None:
            return out
        out = _refuse(self.on_error, f'{results["img_path"]}: {reason}',
                      results)
        if out is not None:  # dropped: a blank image of the annotated size
            img = np.zeros((results.get('height', _BLANK_SIZE),
                            results.get('width', _BLANK_SIZE), 3),
                           np.float32 if self.to_float32 else np.uint8)
            out.update(img=img, img_shape=img.shape[:2],
                       ori_shape=img.shape[:2])
        return out


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """After ``LoadAnnotations``: the label map has the size of the image as
    loaded (``ori_shape``, so it may follow a ``Resize``) and its labels are
    ``< num_classes`` or ``ignore_index``.

    ``num_classes=None`` checks the size only; mmlightvit's tools set it to
    the number of classes of the dataset (its ``metainfo.classes``). A
    sample without a label map (inference) passes unchecked. A dropped
    sample's label map is all ``ignore_index``: no metric counts it.
    """

    def __init__(self, num_classes=None, ignore_index=255, on_error='raise'):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.on_error = _check_on_error(on_error)

    def _problem(self, results):
        seg, path = results['gt_seg_map'], results.get('seg_map_path')
        h, w = results.get('ori_shape', results['img'].shape[:2])
        if seg.shape[:2] != (h, w):
            return (f'{path}: label map is {seg.shape[1]}x{seg.shape[0]} but '
                    f'its image {results["img_path"]} is {w}x{h}')
        if self.num_classes is None:
            return None
        labels = np.unique(seg)
        bad = labels[(labels >= self.num_classes)
                     & (labels != self.ignore_index)]
        if bad.size:
            return (f'{path}: labels {bad.tolist()} are outside '
                    f'0..{self.num_classes - 1} (and ignore '
                    f'{self.ignore_index})')
        return None

    def transform(self, results):
        if 'gt_seg_map' not in results:
            return results
        problem = self._problem(results)
        if problem is not None:
            results = _refuse(self.on_error, problem, results)
        if results is not None and BAD_SAMPLE_KEY in results:
            results['gt_seg_map'] = np.full(
                results.get('ori_shape', results['img'].shape[:2]),
                self.ignore_index, np.uint8)
        return results


@TRANSFORMS.register_module()
class CheckBoxes(BaseTransform):
    """Right after ``LoadAnnotations``: every box lies inside its image as
    loaded (``ori_shape``, so it may follow a ``Resize`` that came before
    ``LoadAnnotations``, as in test pipelines), with ``tolerance`` pixels of
    slack, and has a positive size.

    ``bad_images`` (``[[img_id, message], ...]``) lists images that the
    annotation-file check
    (:func:`~mmlightvit.datasets.coco.check_coco_annotations`) found broken
    (boxes mmdet drops silently, unknown category ids, missing files);
    mmlightvit's tools fill it when ``on_error`` is not ``'raise'``.
    """

    def __init__(self, tolerance=1.0, on_error='raise', bad_images=()):
        self.tolerance = tolerance
        self.on_error = _check_on_error(on_error)
        self.bad_images = {img_id: message for img_id, message in bad_images}

    def _problem(self, results):
        if results.get('img_id') in self.bad_images:
            return self.bad_images[results['img_id']]
        boxes = results.get('gt_bboxes')
        if boxes is None or len(boxes) == 0:
            return None
        boxes = np.asarray(boxes.tensor if hasattr(boxes, 'tensor') else boxes)
        h, w = results.get('ori_shape', results['img'].shape[:2])
        t = self.tolerance
        bad = ((boxes[:, 0] < -t) | (boxes[:, 1] < -t) | (boxes[:, 2] > w + t)
               | (boxes[:, 3] > h + t) | (boxes[:, 2] <= boxes[:, 0])
               | (boxes[:, 3] <= boxes[:, 1]))
        if bad.any():
            return (f'{results["img_path"]}: box '
                    f'{boxes[bad][0].round(1).tolist()} (x1, y1, x2, y2) lies '
                    f'outside the {w}x{h} image')
        return None

    def transform(self, results):
        problem = self._problem(results)
        if problem is None:
            return results
        return _refuse(self.on_error, problem, results)
