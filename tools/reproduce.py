"""Reproduce a published row of the model zoo: train and test its config
with the published GPU count, then write the published number beside the
reproduced one (mmlightvit.apis.reproduce).

    python tools/reproduce.py ROW [--gpus N] [--work-dir DIR]
        [--cfg-options k=v ...] [--dry-run]
    python tools/reproduce.py --list

ROW is a model name of configs/<family>/metafile.yml with published results,
e.g. deeplabv3_emo-1m_8xb4-80k_ade20k-512x512. Training and testing go
through tools/dist_train.sh and tools/dist_test.sh (N processes, N = the
<gpus> of the config's <gpus>xb<batch> unless --gpus); the table goes to
WORK_DIR/reproduce.md and WORK_DIR/reproduce.csv (default WORK_DIR:
work_dirs/reproduce/ROW).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(__file__), '..'))

from mmlightvit.apis.reproduce import (ReproduceError, list_rows,  # noqa: E402
                                       reproduce)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train + test a published row and compare its numbers')
    parser.add_argument('row', nargs='?', help='a model name of the '
                        'metafiles with published results (see --list)')
    parser.add_argument('--list', action='store_true',
                        help='show the rows with published numbers')
    parser.add_argument('--gpus', type=int,
                        help='processes (GPUs); default the published count')
    parser.add_argument('--work-dir', help='default work_dirs/reproduce/ROW')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='overrides passed to train.py and test.py')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands, run nothing')
    args = parser.parse_args(argv)
    if not args.list and not args.row:
        parser.error('give a ROW (or --list)')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        print('\n'.join(list_rows()))
        return None
    try:
        return reproduce(args.row, gpus=args.gpus, work_dir=args.work_dir,
                         cfg_options=args.cfg_options, dry_run=args.dry_run,
                         log=lambda line: print(line, flush=True))
    except ReproduceError as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
