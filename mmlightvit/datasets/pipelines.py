"""What mmlightvit's tools do to a config's pipelines before a run.

The configs keep the checking transforms in their training and validation
pipelines, and plain ``LoadImageFromFile`` / ``LoadAnnotations`` in
``test_pipeline``, the names mmseg's and mmdet's inference code looks for
(``inference_model``, ``MMSegInferencer``, ``DetInferencer``).
:func:`prepare_sample_checks` then, for the dataloaders a tool uses:

* gives every ``CheckSegLabels`` without ``num_classes`` the number of
  classes of its dataset (``metainfo.classes``, or the dataset type's);
* checks the samples of evaluation pipelines that do not check them
  (``LoadImageFromFile`` -> ``CheckedLoadImageFromFile``, ``CheckSegLabels``
  / ``CheckBoxes`` after ``LoadAnnotations``);
* at evaluation, turns ``on_error='skip'`` (or every check, with
  ``drop_bad_samples=True``) into ``'drop'``: the broken sample is kept,
  marked, and :class:`~mmlightvit.datasets.evaluation.
  DropBadSamplesEvaluator`, which replaces the evaluator, leaves it out of
  the metrics and counts it. A broken sample is never replaced by another.
"""
import inspect

from mmengine.registry import TRANSFORMS

from .checks import dataset_classes, leaf_datasets, resolve_type
from .transforms import BAD_SAMPLE_KEY

__all__ = ['EVALUATORS', 'prepare_sample_checks']

# evaluation dataloader -> its evaluator
EVALUATORS = {'val_dataloader': 'val_evaluator',
              'test_dataloader': 'test_evaluator'}
_CHECKS = ('CheckedLoadImageFromFile', 'CheckSegLabels', 'CheckBoxes')
_WRAPPER = 'DropBadSamplesEvaluator'


def _name(step):
    return str(step.get('type', '')).split('.')[-1]


def _steps(pipeline):
    return [s for s in pipeline or [] if hasattr(s, 'get')]


def _add_checks(pipeline, scope, ignore_index):
    """Check the samples of a plain evaluation pipeline (in place)."""
    names = [_name(s) for s in _steps(pipeline)]
    for i, step in reversed(list(enumerate(pipeline))):
        if not hasattr(step, 'get'):
            continue
        if _name(step) == 'LoadImageFromFile':
            step['type'] = 'CheckedLoadImageFromFile'
        elif _name(step) == 'LoadAnnotations':
            if scope == 'mmseg' and 'CheckSegLabels' not in names:
                pipeline.insert(i + 1, dict(type='CheckSegLabels',
                                            ignore_index=ignore_index))
            elif scope == 'mmdet' and step.get('with_bbox') and \
                    'CheckBoxes' not in names:
                pipeline.insert(i + 1, dict(type='CheckBoxes'))


def _add_meta_key(step, scope):
    """``bad_sample`` among the meta keys a ``Pack*Inputs`` step packs."""
    keys = step.get('meta_keys')
    if keys is None:
        cls = resolve_type(TRANSFORMS, step['type'], scope)
        keys = inspect.signature(cls).parameters['meta_keys'].default
    if BAD_SAMPLE_KEY not in keys:
        step['meta_keys'] = (*keys, BAD_SAMPLE_KEY)


def _prepare(ds, scope, evaluating, drop_bad_samples):
    """Prepare one dataset config; True when it may drop samples."""
    pipeline = ds.get('pipeline')
    if not isinstance(pipeline, list):
        return False
    if evaluating and scope in ('mmseg', 'mmdet'):
        _add_checks(pipeline, scope, ds.get('ignore_index', 255))
    classes = dataset_classes(ds, scope)
    dropping = False
    for step in _steps(pipeline):
        if _name(step) == 'CheckSegLabels' and classes and \
                step.get('num_classes') is None:
            step['num_classes'] = len(classes)
        if evaluating and _name(step) in _CHECKS and (
                drop_bad_samples or step.get('on_error') == 'skip'):
            step['on_error'] = 'drop'
        dropping |= evaluating and step.get('on_error') == 'drop'
    if dropping:
        for step in _steps(pipeline):
            if _name(step).startswith('Pack'):
                _add_meta_key(step, scope)
    return dropping


def _wrap_evaluator(evaluator):
    if hasattr(evaluator, 'get') and 'metrics' in evaluator:
        evaluator['type'] = _WRAPPER
        return evaluator
    return dict(type=_WRAPPER, metrics=evaluator)


def prepare_sample_checks(cfg, dataloaders, drop_bad_samples=False):
    """Prepare the sample checks of ``cfg``'s dataloaders (in place; see the
    module docstring).

    Args:
        cfg (mmengine.Config): The config.
        dataloaders (Sequence[str]): The dataloader keys the run uses.
        drop_bad_samples (bool): At evaluation, drop every broken sample
            from the metrics (and count it) instead of stopping.
    """
    scope = cfg.get('default_scope')
    for name in dataloaders:
        loader = cfg.get(name)
        if not hasattr(loader, 'get'):
            continue
        evaluating = name in EVALUATORS
        dropping = False
        for _, ds in leaf_datasets(loader.get('dataset'), name):
            dropping |= _prepare(ds, scope, evaluating, drop_bad_samples)
        if dropping and cfg.get(EVALUATORS[name]) is not None:
            cfg[EVALUATORS[name]] = _wrap_evaluator(cfg[EVALUATORS[name]])
