"""Config mistakes caught at start-up, each with one line.

* A top-level key that no one reads but that is a near miss of one that is
  read (``trian_cfg``): a warning naming the closest valid key. Variables a
  config defines for itself (``crop_size``, ``my_lr``, ``train_pipeline_s``)
  are left alone.
* A hook argument its class does not take (``checkpoint.intreval``): an
  error naming the closest valid argument (mmengine's ``CheckpointHook``
  takes ``**kwargs`` and fails only at its first save).
* Heads whose ``num_classes`` differ from the number of classes of the
  dataset (``metainfo.classes`` or the dataset type's).
* ``persistent_workers=True`` with ``num_workers=0``: switched off, logged.
* ``norm_eval=True`` / ``frozen_stages`` on a backbone that starts from
  random weights: a warning.
"""
import difflib
import inspect
import logging

from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from ..datasets.checks import dataset_classes, leaf_datasets, resolve_type

__all__ = ['ConfigError', 'KNOWN_KEYS', 'check_config']


class ConfigError(ValueError):
    """A config value that cannot work."""


# Top-level keys the runner, the tools and the inference APIs read, and the
# variables OpenMMLab configs conventionally define.
KNOWN_KEYS = frozenset(
    [p for p in inspect.signature(Runner.__init__).parameters
     if p not in ('self', 'cfg')] + [
        'model_wrapper_cfg', 'compile', 'runner_type', 'custom_imports',
        'tta_model', 'tta_pipeline', 'train_pipeline', 'val_pipeline',
        'test_pipeline', 'dataset_type', 'data_root', 'backend_args',
        'crop_size', 'img_scale', 'img_size', 'input_size', 'img_ratios',
        'metainfo', 'num_classes', 'norm_cfg', 'checkpoint', 'pretrained',
        'max_iters', 'max_epochs', 'base_lr', 'vis_backends',
        'allow_partial_load'])


def _closest(word, candidates, cutoff=0.75):
    match = difflib.get_close_matches(word, list(candidates), 1, cutoff)
    return match[0] if match else None


def _extends(key, known):
    """``train_pipeline_s``, ``my_train_cfg``: a name of its own built on a
    known one, not a typo."""
    return key.startswith(known + '_') or key.endswith('_' + known)


def check_top_level_keys(cfg):
    """Warn about each unknown top-level key that is a near miss of a known
    one (not an extension of it); return the ``(key, closest)`` pairs."""
    found = []
    for key in cfg.keys():
        close = None if key in KNOWN_KEYS else _closest(key, KNOWN_KEYS, 0.8)
        if close is not None and not _extends(key, close):
            found.append((key, close))
            print_log(f'config key {key!r} is not read by anything: did you '
                      f'mean {close!r}?', logger='current',
                      level=logging.WARNING)
    return found


def _hook_cfgs(cfg):
    hooks = cfg.get('default_hooks') or {}
    for name, hook in hooks.items():
        yield f'default_hooks.{name}', hook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield f'custom_hooks[{i}]', hook


def check_hook_args(cfg):
    """Raise :class:`ConfigError` for the first hook argument its class does
    not take (with **kwargs: one that is a near miss of a named one)."""
    scope = cfg.get('default_scope')
    for where, hook in _hook_cfgs(cfg):
        if not hasattr(hook, 'get') or 'type' not in hook:
            continue
        cls = resolve_type(HOOKS, hook['type'], scope)
        if cls is None:
            raise ConfigError(f'{where}: no hook type {hook["type"]!r} in '
                              f'the {scope} or mmengine registry')
        params = inspect.signature(cls).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        named = [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD]
        for arg in hook:
            if arg in ('type', 'priority') or arg in named:
                continue
            close = _closest(arg, named)
            if takes_any and close is None:
                continue  # passed on through **kwargs
            hint = f'did you mean {close!r}?' if close else \
                f'it takes {", ".join(named)}'
            raise ConfigError(f'{where}: {cls.__name__} has no argument '
                              f'{arg!r}; {hint}')


def _heads(model):
    """``(where, head cfg)`` for every head with ``num_classes``."""
    places = [(f'model.{k}', model.get(k)) for k in
              ('decode_head', 'auxiliary_head', 'bbox_head', 'head')]
    roi_head = model.get('roi_head') or {}
    places += [(f'model.roi_head.{k}', roi_head.get(k))
               for k in ('bbox_head', 'mask_head')]
    for where, heads in places:
        many = isinstance(heads, (list, tuple))
        for i, head in enumerate(heads if many else [heads]):
            if hasattr(head, 'get') and 'num_classes' in head:
                yield (f'{where}[{i}]' if many else where), head


def check_num_classes(cfg, dataloaders):
    """Raise :class:`ConfigError` when a head's ``num_classes`` is not the
    number of classes of a dataset the run uses."""
    scope = cfg.get('default_scope')
    heads = list(_heads(cfg.get('model') or {}))
    for name in dataloaders:
        loader = cfg.get(name)
        if not heads or not hasattr(loader, 'get'):
            continue
        for where, ds in leaf_datasets(loader.get('dataset'),
                                       f'{name}.dataset'):
            classes = dataset_classes(ds, scope)
            if not classes:
                continue
            for head_where, head in heads:
                if head['num_classes'] != len(classes):
                    raise ConfigError(
                        f'{head_where}.num_classes is {head["num_classes"]}, '
                        f'but {where} has {len(classes)} classes '
                        f'({", ".join(map(str, classes[:5]))}'
                        f'{", ..." if len(classes) > 5 else ""}): set '
                        f'{head_where}.num_classes={len(classes)} (or the '
                        f'dataset\'s metainfo.classes)')


def fix_dataloaders(cfg):
    """``persistent_workers`` off (logged) where ``num_workers`` is 0."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if hasattr(loader, 'get') and loader.get('persistent_workers') and \
                not loader.get('num_workers', 0):
            loader['persistent_workers'] = False
            print_log(f'{name}: persistent_workers=True needs worker '
                      'processes and num_workers is 0: set '
                      'persistent_workers=False', logger='current')


def _pretrained(cfg):
    model = cfg.get('model') or {}
    init = (model.get('backbone') or {}).get('init_cfg')
    inits = init if isinstance(init, (list, tuple)) else [init]
    return bool(cfg.get('load_from') or cfg.get('resume')
                or model.get('pretrained')
                or any(hasattr(i, 'get') and i.get('type') == 'Pretrained'
                       for i in inits))


def warn_untrained_backbone(cfg):
    """Warn (once) when ``norm_eval=True`` or ``frozen_stages`` keeps parts
    of a randomly initialised backbone fixed; True if it warned."""
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    frozen = backbone.get('frozen_stages', -1)
    fixed = ['norm_eval=True keeps its BatchNorm statistics'] \
        if backbone.get('norm_eval') else []
    if isinstance(frozen, int) and frozen >= 0:
        fixed.append(f'frozen_stages={frozen} keeps its first levels')
    if not fixed or _pretrained(cfg):
        return False
    print_log(f'model.backbone starts from random weights (no init_cfg='
              f'Pretrained, load_from or resume), but {" and ".join(fixed)} '
              'as initialised: set norm_eval=False / frozen_stages=-1 to '
              'train from scratch', logger='current', level=logging.WARNING)
    return True


def check_config(cfg, dataloaders):
    """All of the above for a run that uses ``dataloaders``."""
    check_top_level_keys(cfg)
    check_hook_args(cfg)
    check_num_classes(cfg, dataloaders)
    fix_dataloaders(cfg)
    if 'train_dataloader' in dataloaders:
        warn_untrained_backbone(cfg)
