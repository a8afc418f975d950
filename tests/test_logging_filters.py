"""Quiet logs (mmlightvit.logging_filters): paramwise_options lines and the
stack's known notices demoted to DEBUG, known deprecation warnings
ignored, everything else untouched."""
import logging
import warnings

import pytest
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from mmlightvit import logging_filters


class Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def records():
    logger = MMLogger.get_current_instance()
    handler = Records()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_paramwise_options_are_debug(records):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    constructor = DefaultOptimWrapperConstructor(
        dict(type='OptimWrapper',
             optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
        dict(norm_decay_mult=0., custom_keys={'0.': dict(lr_mult=0.5)}))
    constructor(model)
    lines = [r for r in records if r.getMessage().startswith(
        'paramwise_options -- ')]
    assert len(lines) >= 4  # conv weight/bias (lr), bn weight/bias (decay)
    assert {r.levelno for r in lines} == {logging.DEBUG}


def test_known_notices_demoted_others_kept(records):
    logger = MMLogger.get_current_instance()
    logger.warning('"FileClient" will be deprecated in future. Please use '
                   'io functions')
    logger.warning('The prefix is not set in metric class IoUMetric.')
    logger.warning('a warning of this run')
    logger.info('paramwise_options are a config key')  # not the prefix
    assert [r.levelno for r in records] == [
        logging.DEBUG, logging.DEBUG, logging.WARNING, logging.INFO]


def test_known_warnings_ignored_others_shown():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        logging_filters.install()  # pytest resets filters between phases
        warnings.warn('``build_loss`` would be deprecated soon, please use '
                      '``mmseg.registry.MODELS.build()``', UserWarning)
        warnings.warn('`reduce_zero_label` will be deprecated, if you ...',
                      UserWarning)
        warnings.warn('Default ``avg_non_ignore`` is False, if you would '
                      'like', UserWarning)
        warnings.warn('something else entirely', UserWarning)
        warnings.warn('``build_loss`` would be deprecated soon',
                      DeprecationWarning)  # another category: shown
    assert [str(w.message)[:16] for w in caught] == [
        'something else e', '``build_loss`` w']


def test_install_is_idempotent():
    logging_filters.install()
    factory = logging.getLogRecordFactory()
    logging_filters.install()
    assert logging.getLogRecordFactory() is factory


def test_per_class_table_shows_the_classes_of_the_mean(records):
    """mmseg's IoUMetric on 4 classes of which the ground truth holds 2 and
    the prediction one more: the logged table keeps the 3 rows the mIoU
    averages (the predicted-only class with IoU 0), leaves out the absent
    one and counts it; the metrics are unchanged."""
    import torch
    from mmseg.evaluation import IoUMetric
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData

    metric = IoUMetric()
    metric.dataset_meta = dict(classes=('sky', 'road', 'car', 'tree'))
    gt = torch.tensor([[0, 0], [1, 1]])
    pred = torch.tensor([[0, 2], [1, 1]])  # 'car' predicted, not in the gt
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt[None]),
                           pred_sem_seg=PixelData(data=pred[None]))
    metric.process([], [sample.to_dict()])
    results = metric.compute_metrics(metric.results)
    assert results['mIoU'] == pytest.approx(round(100 * (0.5 + 1 + 0) / 3, 2))
    (table, ) = [r.getMessage() for r in records
                 if '| Class ' in r.getMessage()]
    rows = [line.split('|')[1].strip() for line in table.split('\n')
            if line.startswith('| ') and not line.startswith('| Class ')]
    assert rows == ['sky', 'road', 'car']
    assert table.endswith(
        '(1 classes absent from both the ground truth and the prediction '
        'not shown)')
