"""Convert a RepViT checkpoint (official THU-MIG/RepViT, e.g.
``repvit_m1_1_distill_300e.pth``, or timm's ``repvit_*`` state_dict) into a
checkpoint that ``mmlightvit``'s ``RepViT`` loads directly.

    python tools/model_converters/repvit2mmlightvit.py \
        repvit_m1_1_distill_300e.pth repvit_m1_1.pth

The layout (official / timm) is detected from the keys; the classifier heads
(distillation head included) are dropped. The result is ``{'state_dict': ...,
'meta': ...}``; the arch is inferred from the weights (or ``--arch``) and any
missing or unexpected key is reported. Use it with
``init_cfg=dict(type='Pretrained', checkpoint='repvit_m1_1.pth')`` or
``RepViT(arch).load_state_dict(ckpt['state_dict'])``.
"""
import argparse
import os
import os.path as osp

import torch

from mmlightvit.compat import load_checkpoint_file
from mmlightvit.models.backbones.repvit import (RepViT, checkpoint_layout,
                                                convert_repvit, infer_arch,
                                                is_deploy_state_dict)
from mmlightvit.models.checkpoint import unwrap_state_dict


def check(state_dict, arch=None):
    """Load converted weights into a :class:`RepViT` of ``arch`` (inferred
    if None) and return ``(arch, missing_keys, unexpected_keys)``; ``arch``
    is None (and nothing is checked) when no known arch matches."""
    arch = arch or infer_arch(state_dict)
    if arch is None:
        return None, [], []
    model = RepViT(arch, deploy=is_deploy_state_dict(state_dict))
    result = model.load_state_dict(state_dict, strict=False)
    return arch, result.missing_keys, result.unexpected_keys


def convert(src, dst, arch=None, log=print):
    """Convert ``src``, save it to ``dst`` and report through ``log``;
    returns the converted state_dict."""
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    source = unwrap_state_dict(checkpoint)
    state_dict = convert_repvit(source)
    dropped = len(source) - len(state_dict)
    log(f'{src}: {checkpoint_layout(source)} layout, {len(source)} tensors; '
        f'dropped {dropped} classifier tensor(s)')
    arch, missing, unexpected = check(state_dict, arch)
    if arch is None:
        log('WARNING: no RepViT arch matches these weights (pass --arch to '
            'check against one)')
    else:
        form = 'deploy' if is_deploy_state_dict(state_dict) else 'training'
        log(f'arch {arch} ({form} form)')
    for kind, keys in (('missing', missing), ('unexpected', unexpected)):
        if keys:
            log(f'WARNING: {len(keys)} {kind} key(s): {", ".join(keys)}')
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    meta = dict(source=osp.basename(src), converter='repvit2mmlightvit',
                arch=arch)
    torch.save(dict(state_dict=state_dict, meta=meta), dst)
    log(f'saved {len(state_dict)} tensors to {dst}')
    return state_dict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official or timm RepViT checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--arch', choices=list(RepViT.arch_settings),
        help='arch to check the keys against (default: inferred)')
    args = parser.parse_args()
    convert(args.src, args.dst, args.arch)


if __name__ == '__main__':
    main()
