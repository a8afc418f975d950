"""Convert an ml-cvnets, timm or mmpretrain MobileViT checkpoint for
mmlightvit.

    python tools/model_converters/mobilevit2mmlightvit.py SRC.pt DST.pth

SRC: apple/ml-cvnets (e.g. mobilevit_s.pt, also deeplabv3_mobilevit_*.pt),
timm (mobilevit_xxs/xs/s) or mmpretrain (mobilevit-*_3rdparty_in1k) weights;
the layout is detected from the key names. The result is ``{'state_dict':
..., 'meta': ...}`` in ``MobileViT``'s key names, without the classifier's
Linear layer (the final 1x1 conv is kept as ``final_conv.*``:
``MobileViT(final_conv=True)`` uses it, other models ignore it). Use it with
``init_cfg=dict(type='Pretrained', checkpoint='DST.pth')`` or
``MobileViT(arch, final_conv=True).load_state_dict(ckpt['state_dict'])``.
"""
import argparse
import os
import os.path as osp

import torch

from mmlightvit.compat import load_checkpoint_file
from mmlightvit.models.backbones.mobilevit import (checkpoint_layout,
                                                   convert_mobilevit)
from mmlightvit.models.checkpoint import unwrap_state_dict


def convert(src, dst):
    """Convert ``src`` and save it to ``dst``; returns the state_dict."""
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    state_dict = unwrap_state_dict(checkpoint)
    layout = checkpoint_layout(state_dict)
    state_dict = convert_mobilevit(state_dict)
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    meta = dict(source=osp.basename(src), layout=layout,
                converter='mobilevit2mmlightvit')
    torch.save(dict(state_dict=state_dict, meta=meta), dst)
    return state_dict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', help='ml-cvnets, timm or mmpretrain MobileViT checkpoint')
    parser.add_argument('dst', help='output path')
    args = parser.parse_args()
    state_dict = convert(args.src, args.dst)
    print(f'saved {len(state_dict)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
