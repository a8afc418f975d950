"""Evaluation that leaves broken samples out of the metrics and counts them.

At evaluation time a checking transform with ``on_error='drop'`` keeps a
broken sample, marked with ``bad_sample`` in its meta information (see
:mod:`mmlightvit.datasets.transforms`): the loop goes on with the same number
of samples on every rank, and nothing is replaced by another sample.
:class:`DropBadSamplesEvaluator` makes sure no metric counts the marked
samples and adds their number to the results as ``dropped_samples``.
"""
import logging

from mmengine.dist import all_gather_object
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.registry import EVALUATOR

from .transforms import BAD_SAMPLE_KEY

# Metrics a marked sample cannot reach: IoUMetric (its label map is all
# ignore_index), CocoMetric (evaluated on the images that are not marked),
# and dumps of the raw predictions (the marked ones carry ``bad_sample``).
_NEUTRAL = ('IoUMetric', 'DumpResults', 'DumpDetResults', 'DumpSegResults')
_BY_IMAGE_ID = ('CocoMetric', )
DROPPED_KEY = 'dropped_samples'


def _kind(metric):
    """The first supported class name in the metric's class hierarchy."""
    for cls in type(metric).__mro__:
        if cls.__name__ in _NEUTRAL + _BY_IMAGE_ID:
            return cls.__name__
    return None


@EVALUATOR.register_module()
class DropBadSamplesEvaluator(Evaluator):
    """An ``Evaluator`` whose metrics never count samples marked
    ``bad_sample``; the results gain ``dropped_samples`` (how many distinct
    files were left out) and the log names them.

    Args:
        metrics (dict | BaseMetric | Sequence): As mmengine's ``Evaluator``.
            Supported: ``IoUMetric``, ``CocoMetric`` and result dumps; any
            other metric would count the dropped samples and is refused.
    """

    def __init__(self, metrics):
        super().__init__(metrics)
        for metric in self.metrics:
            if _kind(metric) is None:
                raise ValueError(
                    f'broken samples can be dropped from IoUMetric and '
                    f'CocoMetric only; {type(metric).__name__} would count '
                    f'them: use on_error=\'raise\' in its pipeline')
        self._seen_ids, self._bad = set(), {}

    def process(self, data_samples, data_batch=None):
        for sample in data_samples:
            meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
            if BAD_SAMPLE_KEY in meta:
                self._bad[meta.get('img_path')] = (meta.get('img_id'),
                                                   meta[BAD_SAMPLE_KEY])
            elif 'img_id' in meta:
                self._seen_ids.add(meta['img_id'])
        super().process(data_samples, data_batch)

    def evaluate(self, size):
        bad, seen = {}, set()
        for rank_bad, rank_seen in all_gather_object(
                (self._bad, self._seen_ids)):
            bad.update(rank_bad)
            seen |= rank_seen
        self._seen_ids, self._bad = set(), {}
        bad_ids = {img_id for img_id, _ in bad.values()}
        for metric in self.metrics:
            if _kind(metric) in _BY_IMAGE_ID:  # None: all of its images
                metric.img_ids = sorted(seen - bad_ids) if bad else None
        results = super().evaluate(size)
        results[DROPPED_KEY] = len(bad)
        if bad:
            print_log(
                f'{len(bad)} broken sample(s) left out of the metrics '
                f'(on_error=\'drop\'): ' + '; '.join(
                    message for _, message in bad.values()),
                logger='current', level=logging.WARNING)
        return results
