"""Quiet logs: everything ``import mmlightvit`` changes in what the stack
logs, in one place. Nothing is lost: demoted records still show with
``log_level = 'DEBUG'``.

* mmengine's ``DefaultOptimWrapperConstructor`` logs one INFO line per
  parameter that ``paramwise_cfg`` (``custom_keys``, ``norm_decay_mult``...)
  touches, ``paramwise_options -- backbone.x.weight:weight_decay=0.0``
  (90 lines for a toy EMO run): demoted to DEBUG.
* Notices of the stack that say nothing about the run, logged through
  mmengine (demoted to DEBUG): ``"FileClient" will be deprecated``,
  ``"HardDiskBackend" is the alias of "LocalBackend"`` (mmengine's own
  loaders use them), ``The prefix is not set in metric class``, and the
  inferencers' ``Failed to search registry with scope "mmseg"`` (or
  "mmdet") ``in the "function" registry tree`` (neither toolbox has one:
  mmengine's collate function is the right one).
* Python warnings of the same kind (ignored): mmseg's ``build_loss would be
  deprecated soon`` (its own heads call it), ```reduce_zero_label` will be
  deprecated`` (the configs set it on the dataset too, as mmseg asks),
  ``Default avg_non_ignore is False`` (the configs keep mmseg's default on
  purpose, as the official recipes do) and ``The draw is False`` (the
  visualization hook is off unless ``tools/test.py --show`` turns it on;
  ``--show-dir`` paints with :mod:`mmlightvit.visualization`); mmengine's
  ``Failed to add LocalVisBackend, please provide the save_dir`` (the
  inferencers build the config's visualizer without a folder, and nothing
  is saved through it).
* mmseg's per-class table (``IoUMetric``) lists every class of the dataset,
  150 rows of ``nan`` on a small validation set: rows of classes absent from
  both the ground truth and the prediction (IoU ``nan``: not in the mIoU)
  are left out, and a last line says how many; every class the mIoU
  averages keeps its row (the metrics themselves are mmseg's, unchanged).
"""
import logging
import re
import warnings

# beginnings of log messages demoted to DEBUG
QUIET_LOG_PREFIXES = (
    'paramwise_options -- ',
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    'The prefix is not set in metric class',
    'Failed to search registry with scope "mmseg" in the "function" registry',
    'Failed to search registry with scope "mmdet" in the "function" registry',
)
# (category, beginning of the message) of the Python warnings ignored
QUIET_WARNINGS = (
    (UserWarning, '``build_loss`` would be deprecated soon'),
    (UserWarning, '`reduce_zero_label` will be deprecated'),
    (UserWarning, 'Default ``avg_non_ignore`` is False'),
    (UserWarning, 'The draw is False, it means that the hook for '
     'visualization will not take effect'),
    (UserWarning, "Failed to add <class 'mmengine.visualization.vis_backend."
     "LocalVisBackend'>, please provide the `save_dir` argument"),
)


def is_quiet(record):
    """Whether ``record`` is one of the messages demoted to DEBUG."""
    return record.levelno in (logging.INFO, logging.WARNING) and \
        isinstance(record.msg, str) and \
        record.msg.startswith(QUIET_LOG_PREFIXES)


def drop_absent_classes(text):
    """``text`` without the rows of a mmseg per-class table whose ``IoU`` is
    ``nan`` (classes neither in the ground truth nor predicted), plus a line
    counting them; any other text unchanged."""
    lines = text.split('\n')
    header = next((i for i, line in enumerate(lines)
                   if line.startswith('| Class ')), None)
    if header is None:
        return text
    cells = [c.strip() for c in lines[header].split('|')]
    if 'IoU' not in cells:
        return text
    iou = cells.index('IoU')
    kept = [line for line in lines[header + 1:]
            if not line.startswith('|') or
            line.split('|')[iou].strip() != 'nan']
    dropped = len(lines) - header - 1 - len(kept)
    if not dropped:
        return text
    note = (f'({dropped} classes absent from both the ground truth and the '
            'prediction not shown)')
    return '\n'.join(lines[:header + 1] + kept + [note])


def _demoting(factory):
    """A log record factory making records with ``factory`` and demoting
    the quiet ones (mmengine's MMLogger instances are created per run, so
    the factory, shared by every logger, is the one place to catch them)."""
    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        if is_quiet(record):
            record.levelno, record.levelname = logging.DEBUG, 'DEBUG'
        elif isinstance(record.msg, str) and '| Class ' in record.msg:
            record.msg = drop_absent_classes(record.msg)
        return record
    make_record.mmlightvit_quiet = True
    return make_record


def install():
    """Install the demotion and the warning filters (once)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, 'mmlightvit_quiet', False):
        logging.setLogRecordFactory(_demoting(factory))
    for category, message in QUIET_WARNINGS:
        warnings.filterwarnings('ignore', message=re.escape(message),
                                category=category)


install()
