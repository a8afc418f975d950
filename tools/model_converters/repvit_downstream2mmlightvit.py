"""Convert a published RepViT downstream checkpoint (THU-MIG/RepViT's
``repvit_m*_ade20k.pth``, mmseg 0.x Semantic FPN, or ``repvit_m*_coco.pth``,
mmdet 2.x Mask R-CNN; mmcv 1.x ``meta`` + ``state_dict`` files) into an
mmlightvit whole-model checkpoint.

    python tools/model_converters/repvit_downstream2mmlightvit.py \
        repvit_m1_1_ade20k.pth repvit_m1_1_ade20k_mmlightvit.pth

The backbone (``backbone.features.N...``) is renamed to mmlightvit's RepViT
keys (``backbone.stem.*``, ``backbone.stages.i.j.*``); the neck and head keys
are kept: mmseg 1.x / mmdet 3.x name those modules as 0.x / 2.x did. The
classes (and palette) of the mmcv 1.x ``meta`` become mmengine's
``meta['dataset_meta']``. The file is not needed to use the published
checkpoints (``tools/test.py``, ``load_from`` and the inference APIs convert
them on load); it gives a file in this project's own layout. With ``--config``
the result is loaded into the config's model first (every key must fit).
"""
import argparse
import importlib
import io
import os.path as osp
import sys
from collections import OrderedDict

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))

from mmlightvit.compat import (load_checkpoint_file,  # noqa: E402
                               sync_bn_to_bn, write_file_atomically)
from mmlightvit.models.backbones.repvit import (  # noqa: E402
    checkpoint_layout, convert_repvit, infer_arch)
from mmlightvit.models.checkpoint import select_prefix  # noqa: E402

PREFIX = 'backbone.'


def convert_state_dict(state_dict):
    """Whole-model state_dict with an official RepViT backbone -> the same
    with mmlightvit's backbone keys (other keys kept, in order)."""
    backbone = select_prefix(state_dict, PREFIX)
    if backbone is state_dict or checkpoint_layout(backbone) != 'official':
        raise ValueError(
            'expected a whole-model checkpoint with an official RepViT '
            f'backbone ({PREFIX}features.N...), got keys like '
            f'{", ".join(list(state_dict)[:3])}')
    converted = OrderedDict(
        (k, v) for k, v in state_dict.items() if not k.startswith(PREFIX))
    converted.update((PREFIX + k, v)
                     for k, v in convert_repvit(backbone).items())
    return converted


def dataset_meta(meta):
    """mmcv 1.x ``meta`` (``CLASSES``, ``PALETTE``) -> mmengine's
    ``dataset_meta`` (``classes``, ``palette``)."""
    return {new: list(meta[old]) for old, new in
            (('CLASSES', 'classes'), ('PALETTE', 'palette')) if old in meta}


def convert(src, dst, config=None, log=print):
    """Convert ``src`` into ``dst``; with ``config``, check that the result
    fits its model exactly. Returns the converted checkpoint."""
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise ValueError(f'{src}: not an mmcv/mmengine checkpoint (no '
                         'state_dict); ImageNet checkpoints convert with '
                         'repvit2mmlightvit.py')
    state_dict = convert_state_dict(checkpoint['state_dict'])
    arch = infer_arch(select_prefix(state_dict, PREFIX))
    meta = dict(dataset_meta=dataset_meta(checkpoint.get('meta', {})),
                source=osp.basename(src),
                converter='repvit_downstream2mmlightvit', arch=arch)
    log(f'{src}: RepViT-{arch} backbone, {len(state_dict)} tensors, '
        f'{len(meta["dataset_meta"].get("classes", []))} classes')
    if config is not None:
        check_fit(config, state_dict)
        log(f'every key fits the model of {config}')
    result = dict(meta=meta, state_dict=state_dict)
    with io.BytesIO() as f:
        torch.save(result, f)
        write_file_atomically(f.getvalue(), dst)
    log(f'saved {dst}')
    return result


def check_fit(config, state_dict):
    """Load ``state_dict`` into the model of ``config`` with strict=True."""
    cfg = Config.fromfile(config)
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    model_cfg = sync_bn_to_bn(cfg.model)
    model_cfg.backbone.init_cfg = None  # no ImageNet download for a check
    model = importlib.import_module(f'{scope}.registry').MODELS.build(
        model_cfg)
    model.load_state_dict(state_dict, strict=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='published repvit_m*_{ade20k,coco}.pth')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--config', help='check the result against the '
                        "model of this config (e.g. configs/repvit/"
                        'fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py)')
    args = parser.parse_args(argv)
    try:
        convert(args.src, args.dst, args.config)
    except (ValueError, RuntimeError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
