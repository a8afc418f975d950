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
