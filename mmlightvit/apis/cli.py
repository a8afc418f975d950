"""What tools/train.py and tools/test.py share: turning parsed command-line
arguments into a ready mmengine Config, the mmseg/mmdet way."""
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from ..compat import CheckpointError, sync_bn_to_bn
from ..datasets.checks import check_dataset_folders
from ..engine import WorkDirBusyError
from ..models.checks import ChannelMismatchError

SCOPES = ('mmseg', 'mmdet', 'mmpretrain')


def load_config(args, dataloaders):
    """Config from ``args.config`` with ``--cfg-options``, ``--work-dir`` and
    ``--launcher`` applied, the folders of the datasets of ``dataloaders``
    (e.g. ``('train_dataloader', 'val_dataloader')``) checked, and SyncBN
    turned into BN when the run is a single process."""
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
    if args.launcher == 'none' or not torch.cuda.is_available():
        # one process, or no CUDA (torch's SyncBN is CUDA-only): plain BN
        cfg.model = sync_bn_to_bn(cfg.model)
    check_dataset_folders(cfg, dataloaders)
    return cfg


def run_cli(main):
    """Run a tool's ``main``; the user's mistakes (a missing file or folder, a
    refused or corrupt checkpoint, heads that do not fit the backbone) end it
    with their message, no traceback."""
    try:
        return main()
    except (FileNotFoundError, CheckpointError, ChannelMismatchError,
            WorkDirBusyError) as e:
        sys.exit(f'error: {e}')
    finally:
        # a gloo process group left alive at exit can abort the process
        # ("terminate called without an active exception")
        if torch.distributed.is_available() and \
                torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def enable_amp(cfg):
    """Switch the config's optimizer wrapper to mixed precision (--amp)."""
    wrapper = cfg.optim_wrapper.type
    if wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current')
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp is only supported with OptimWrapper, but '
                         f'the config uses {wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'
