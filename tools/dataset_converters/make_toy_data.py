"""Write a small procedural dataset in a real dataset's folder layout.

    python tools/dataset_converters/make_toy_data.py ade20k
        -> data/ade/ADEChallengeData2016 (mmseg's default ADE20K data_root)
    python tools/dataset_converters/make_toy_data.py ade20k --out data/toy/ade
        -> data/toy/ade/ADEChallengeData2016 (the CPU demo config's data_root)

An existing non-empty dataset folder is left as it is unless --overwrite.
"""
import argparse
import os
import os.path as osp
import sys
import time

# Runnable from a checkout without installing the package.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmlightvit.datasets.toy import (ADE20K_TOY_CLASSES,  # noqa: E402
                                     make_toy_ade20k)


def _count(folder):
    return len(os.listdir(folder)) if osp.isdir(folder) else 0


def _ade20k(args):
    data_root = osp.join(args.out, 'ADEChallengeData2016')
    existed = osp.isdir(data_root) and bool(os.listdir(data_root))
    start = time.time()
    data_root = make_toy_ade20k(
        args.out, num_train=args.num_train, num_val=args.num_val,
        size=args.size, seed=args.seed, overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{data_root} already exists and is not empty: left unchanged '
              '(pass --overwrite to regenerate it).')
        return
    print(f'Wrote toy ADE20K to {data_root} in {time.time() - start:.1f}s '
          f'(seed {args.seed}, {args.size}x{args.size}):')
    for sub in ('images/training', 'annotations/training',
                'images/validation', 'annotations/validation'):
        print(f'  {osp.join(data_root, sub)}/: {_count(osp.join(data_root, sub))} files')
    classes = ', '.join(f'{v}={name}'
                        for v, (name, _, _) in ADE20K_TOY_CLASSES.items())
    print(f'  label values: 0=other/ignore, {classes} '
          '(read with reduce_zero_label=True)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    ade = sub.add_parser('ade20k', help='ADE20K layout (ADEChallengeData2016)')
    ade.add_argument('--out', default='data/ade',
                     help='folder that receives ADEChallengeData2016 '
                     '(default: data/ade)')
    ade.add_argument('--num-train', type=int, default=64)
    ade.add_argument('--num-val', type=int, default=16)
    ade.add_argument('--size', type=int, default=128, help='image side')
    ade.add_argument('--seed', type=int, default=0)
    ade.add_argument('--overwrite', action='store_true',
                     help='replace an existing non-empty dataset folder')
    ade.set_defaults(func=_ade20k)
    # coco / imagenet toy sets: add sub-commands here when they exist.
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.func(args)


if __name__ == '__main__':
    main()
