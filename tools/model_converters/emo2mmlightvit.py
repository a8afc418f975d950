"""Convert an official EMO checkpoint (zhangzjn/EMO, e.g. EMO_5M/net.pth) into
a checkpoint that ``mmlightvit``'s ``EMO`` loads directly.

    python tools/model_converters/emo2mmlightvit.py EMO_5M/net.pth emo_5m.pth

The result is ``{'state_dict': ..., 'meta': ...}`` without the classifier;
use it with ``init_cfg=dict(type='Pretrained', checkpoint='emo_5m.pth')`` or
``EMO(arch).load_state_dict(ckpt['state_dict'])``.
"""
import argparse
import os
import os.path as osp

import torch

from mmlightvit.compat import load_checkpoint_file
from mmlightvit.models.backbones.emo import convert_official_emo
from mmlightvit.models.checkpoint import unwrap_state_dict


def convert(src, dst):
    """Convert ``src`` and save it to ``dst``; returns the state_dict."""
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    state_dict = convert_official_emo(unwrap_state_dict(checkpoint))
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    meta = dict(source=osp.basename(src), converter='emo2mmlightvit')
    torch.save(dict(state_dict=state_dict, meta=meta), dst)
    return state_dict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official EMO checkpoint')
    parser.add_argument('dst', help='output path')
    args = parser.parse_args()
    state_dict = convert(args.src, args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
