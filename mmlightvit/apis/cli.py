"""What tools/train.py and tools/test.py share: turning parsed command-line
arguments into a ready mmengine Config, the mmseg/mmdet way."""
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from ..compat import CheckpointError
from ..datasets import (check_coco_annotations, check_dataset_folders,
                        prepare_sample_checks)
from ..datasets.coco import DatasetConfigError
from ..datasets.transforms import BadSampleError
from ..engine import WorkDirBusyError
from ..models.checks import ChannelMismatchError
from .checks import ConfigError, check_config
from .fast import cpu_bf16_support

# the user's mistakes: run_cli ends the tool with their message alone
USER_ERRORS = (FileNotFoundError, CheckpointError, ChannelMismatchError,
               WorkDirBusyError, ConfigError, DatasetConfigError,
               BadSampleError)

SCOPES = ('mmseg', 'mmdet', 'mmpretrain')
# --amp: the mixed-precision form of each optimizer wrapper, per device
AMP_WRAPPERS = {
    'cuda': {'OptimWrapper': 'AmpOptimWrapper',
             'AGCOptimWrapper': 'AmpAGCOptimWrapper'},
    'cpu': {'OptimWrapper': 'CPUAmpOptimWrapper',
            'AGCOptimWrapper': 'CPUAmpAGCOptimWrapper'},
}


def load_config(args, dataloaders):
    """Config from ``args.config`` with ``--cfg-options``, ``--work-dir`` and
    ``--launcher`` applied, and checked. (SyncBN stays in the config: the
    Runner turns it into BN in a single process, and :mod:`mmlightvit.compat`
    in a distributed run without CUDA, whichever tool starts the run.)

    The checks, for the datasets of ``dataloaders`` (e.g.
    ``('train_dataloader', 'val_dataloader')``): near-miss top-level keys
    (warned), hook arguments, heads' ``num_classes`` against the datasets'
    classes, ``persistent_workers`` without workers, frozen parts of a random
    backbone (:mod:`mmlightvit.apis.checks`); dataset folders, COCO
    annotation files, and the sample checks of the pipelines
    (:mod:`mmlightvit.datasets`). ``args.skip_bad_samples`` (if the tool
    has it) drops broken evaluation samples from the metrics, counted."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    scope = cfg.get('default_scope')
    if scope not in SCOPES:
        raise ValueError(f'{args.config}: default_scope must be one of '
                         f'{SCOPES}, got {scope!r}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    check_config(cfg, dataloaders)
    check_dataset_folders(cfg, dataloaders)
    prepare_sample_checks(cfg, dataloaders,
                          getattr(args, 'skip_bad_samples', False))
    check_coco_annotations(cfg, dataloaders)
    return cfg


def _last_line(error):
    """A worker's exception arrives with its whole traceback: its last
    line."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and 'Original Traceback' in str(error):
        return lines[-1].split(': ', 1)[-1]
    return str(error)


def run_cli(main):
    """Run a tool's ``main``; the user's mistakes (a missing file or folder, a
    refused or corrupt checkpoint, heads that do not fit the backbone or the
    dataset, a config error, a broken sample, a busy work dir) end it with
    their message, no traceback."""
    try:
        return main()
    except USER_ERRORS as e:
        sys.exit(f'error: {_last_line(e)}')


def enable_amp(cfg):
    """Switch the config's optimizer wrapper to mixed precision (--amp): fp16
    with dynamic loss scaling on CUDA (mmengine's ``AmpOptimWrapper``), else
    bf16 autocast on a CPU with AMX / AVX512-BF16
    (:class:`mmlightvit.amp.CPUAmpOptimWrapper`).

    Raises:
        ConfigError: neither CUDA nor a bf16 CPU, or an optimizer wrapper
            AMP does not apply to.
    """
    wrapper = cfg.optim_wrapper.type
    if wrapper in AMP_WRAPPERS['cuda'].values() or \
            wrapper in AMP_WRAPPERS['cpu'].values():
        print_log('AMP training is already enabled in your config.',
                  logger='current')
        return
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        ok, reason = cpu_bf16_support()
        if not ok:
            raise ConfigError(f'--amp needs a CUDA GPU (fp16) or a CPU with '
                              f'AMX or AVX512-BF16 (bf16), and {reason}: '
                              f'run without --amp')
    amp = AMP_WRAPPERS[device]
    if wrapper not in amp:
        raise ConfigError(f'--amp is only supported with OptimWrapper or '
                          f'AGCOptimWrapper, but the config uses {wrapper}')
    cfg.optim_wrapper.type = amp[wrapper]
    if device == 'cuda':
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.dtype = 'bfloat16'
        print_log(f'--amp: no CUDA GPU, bf16 autocast on the CPU ({reason})',
                  logger='current')
