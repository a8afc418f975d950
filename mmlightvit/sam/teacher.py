"""SAM teachers (ViT-H/L/B, or any ``ImageEncoderViT``) from a checkpoint.

The shape of a SAM ViT encoder is read off its weights (width, depth, heads
from the relative position tables, window size and global-attention blocks,
input size from the position embedding), so any checkpoint of
``segment-anything``'s ``ImageEncoderViT`` builds without naming its type.
When the shape is one of SAM's published three, the model is built through
``segment_anything.sam_model_registry`` as SAM's own code builds it.
"""
import re
from functools import partial

import torch.nn as nn
from segment_anything import sam_model_registry
from segment_anything.modeling import ImageEncoderViT

from ..compat import CheckpointError
from .build import ENCODER_STRIDE, load_state_dict_exactly, read_state_dict
from .build import sam_around

# segment_anything/build_sam.py: (embed_dim, depth, num_heads, global attn)
# of the published teachers; all: 1024 px, patch 16, window 14, mlp ratio 4.
SAM_VITS = {
    'vit_h': dict(embed_dim=1280, depth=32, num_heads=16,
                  global_attn_indexes=(7, 15, 23, 31)),
    'vit_l': dict(embed_dim=1024, depth=24, num_heads=16,
                  global_attn_indexes=(5, 11, 17, 23)),
    'vit_b': dict(embed_dim=768, depth=12, num_heads=12,
                  global_attn_indexes=(2, 5, 8, 11)),
}
_SAM_VIT_COMMON = dict(img_size=1024, patch_size=16, window_size=14,
                       mlp_ratio=4.0, out_chans=256, qkv_bias=True,
                       use_rel_pos=True)


def sam_vit_encoder(name, img_size=1024):
    """SAM's ViT-H/L/B image encoder (``name`` = 'vit_h' ...) built as
    ``sam_model_registry`` builds it, at another input size if asked
    (random weights)."""
    config = dict(_SAM_VIT_COMMON, **SAM_VITS[name], img_size=img_size)
    return ImageEncoderViT(norm_layer=partial(nn.LayerNorm, eps=1e-6),
                           **config)


def vit_config(state_dict, source='checkpoint'):
    """The ``ImageEncoderViT`` arguments of a SAM state_dict (keys
    ``image_encoder.*``); ``CheckpointError`` naming ``source`` when they
    cannot be read off it."""
    p = 'image_encoder.'
    needed = [p + 'patch_embed.proj.weight', p + 'pos_embed',
              p + 'blocks.0.mlp.lin1.weight', p + 'blocks.0.attn.rel_pos_h',
              p + 'neck.0.weight']
    absent = [k for k in needed if k not in state_dict]
    if absent:
        raise CheckpointError(
            f'{source} is not a SAM ViT checkpoint (with absolute and '
            f'relative position embeddings): no {", ".join(absent)}')
    embed_dim, _, patch, _ = state_dict[needed[0]].shape
    grid = state_dict[needed[1]].shape[1]
    depth = 1 + max(int(m.group(1)) for k in state_dict
                    if (m := re.match(r'image_encoder\.blocks\.(\d+)\.', k)))
    rel = [state_dict[f'{p}blocks.{i}.attn.rel_pos_h'].shape
           for i in range(depth)]
    windows = {(n + 1) // 2 for n, _ in rel if n != 2 * grid - 1}
    if len(windows) > 1:
        raise CheckpointError(f'{source}: blocks of several window sizes '
                              f'{sorted(windows)}')
    return dict(
        img_size=grid * patch, patch_size=patch, embed_dim=embed_dim,
        depth=depth, num_heads=embed_dim // rel[0][1],
        mlp_ratio=state_dict[needed[2]].shape[0] / embed_dim,
        out_chans=state_dict[needed[4]].shape[0],
        qkv_bias=p + 'blocks.0.attn.qkv.bias' in state_dict,
        use_rel_pos=True, window_size=windows.pop() if windows else 0,
        global_attn_indexes=tuple(
            i for i, (n, _) in enumerate(rel) if n == 2 * grid - 1))


def registry_name(config):
    """'vit_h' / 'vit_l' / 'vit_b' when ``config`` is that SAM's, else
    None."""
    for name, shape in SAM_VITS.items():
        if config == dict(_SAM_VIT_COMMON, **shape):
            return name
    return None


def build_teacher(checkpoint):
    """``(sam, info)``: the SAM of a ViT checkpoint file, eval mode, weights
    loaded strictly; ``info`` = ``dict(type=<vit_h|vit_l|vit_b|custom>,
    config=<ImageEncoderViT arguments>)``."""
    state_dict, _ = read_state_dict(checkpoint)
    config = vit_config(state_dict, checkpoint)
    if config['patch_size'] != ENCODER_STRIDE or config['out_chans'] != 256:
        raise CheckpointError(
            f'{checkpoint}: a teacher needs patch size {ENCODER_STRIDE} and '
            f'256 output channels (as the student), got '
            f'{config["patch_size"]} and {config["out_chans"]}')
    name = registry_name(config)
    if name is not None:
        sam = sam_model_registry[name]()
    else:
        sam = sam_around(ImageEncoderViT(
            norm_layer=partial(nn.LayerNorm, eps=1e-6), **config))
    load_state_dict_exactly(sam, state_dict, checkpoint)
    info = dict(type=name or 'custom', config=dict(
        config, global_attn_indexes=list(config['global_attn_indexes'])))
    return sam.eval(), info
