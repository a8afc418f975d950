"""Whole SAM models on this project's encoders: SAM's own prompt encoder and
mask decoder (PyPI ``segment-anything``) around a :class:`SamImageEncoder`.

* :func:`build_sam` builds one (``build_sam('repvit')`` = RepViT-SAM as
  published) and loads a checkpoint strictly;
* :func:`convert_sam_state_dict` maps the published ``repvit_sam.pt`` (flat,
  ``image_encoder.features.N...``) to this project's keys;
* :func:`save_sam` / :func:`load_sam` write and read checkpoints that carry
  the encoder config, so tools rebuild the right model from the file alone.
"""
import copy
from collections import OrderedDict

from mmengine.registry import MODELS
from segment_anything.modeling import (MaskDecoder, PromptEncoder, Sam,
                                       TwoWayTransformer)

from ..compat import CheckpointError, load_checkpoint_file, save_checkpoint
from ..models.backbones.repvit import convert_repvit
from ..models.checkpoint import unwrap_state_dict
from .encoder import FAMILIES

# SAM's pre-processing (RGB, 0-255) and prompt/decoder sizes (build_sam.py of
# segment-anything; RepViT-SAM uses the same).
PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)
PROMPT_EMBED_DIM = 256
ENCODER_STRIDE = 16
META_KEY = 'sam_encoder'  # checkpoint['meta'][META_KEY]: encoder config


def encoder_config(encoder='repvit', img_size=1024, **trunk_kwargs):
    """The :class:`SamImageEncoder` config of a family name (``FAMILIES``)
    or a trunk config dict, with ``trunk_kwargs`` overriding trunk keys
    (e.g. ``arch='m0_9'``)."""
    if isinstance(encoder, str):
        if encoder not in FAMILIES:
            raise ValueError(f'Unknown SAM encoder {encoder!r}; valid: '
                             f'{", ".join(FAMILIES)}')
        encoder = FAMILIES[encoder]
    trunk = dict(copy.deepcopy(encoder), **trunk_kwargs)
    return dict(type='SamImageEncoder', trunk=trunk, img_size=img_size)


def sam_around(image_encoder):
    """SAM's prompt encoder and mask decoder (sized for
    ``image_encoder.img_size``) around ``image_encoder``, in eval mode."""
    size = image_encoder.img_size
    sam = Sam(
        image_encoder=image_encoder,
        prompt_encoder=PromptEncoder(
            embed_dim=PROMPT_EMBED_DIM,
            image_embedding_size=(size // ENCODER_STRIDE, ) * 2,
            input_image_size=(size, size),
            mask_in_chans=16),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=2, embedding_dim=PROMPT_EMBED_DIM, mlp_dim=2048,
                num_heads=8),
            transformer_dim=PROMPT_EMBED_DIM,
            iou_head_depth=3,
            iou_head_hidden_dim=256),
        pixel_mean=list(PIXEL_MEAN),
        pixel_std=list(PIXEL_STD))
    return sam.eval()


def sam_from_config(cfg):
    """SAM around the :class:`SamImageEncoder` of config ``cfg`` (kept as
    ``sam.encoder_cfg``, which :func:`save_sam` writes)."""
    sam = sam_around(MODELS.build(copy.deepcopy(cfg)))
    sam.encoder_cfg = copy.deepcopy(cfg)
    return sam


def build_sam(encoder='repvit', checkpoint=None, img_size=1024,
              **trunk_kwargs):
    """A ``segment_anything.modeling.Sam`` on one of this project's
    backbones.

    Args:
        encoder (str | dict): 'repvit' (RepViT-SAM as published: RepViT-M2.3),
            'emo', 'mobilevit', or a trunk config dict.
        checkpoint (str | None): A whole-SAM checkpoint (path or URL),
            loaded strictly: the published ``repvit_sam.pt`` or a file of
            :func:`save_sam`.
        img_size (int): SAM's input side (1024; smaller for quick tests).
        **trunk_kwargs: Overrides of the trunk config (``arch=...``).
    """
    sam = sam_from_config(encoder_config(encoder, img_size, **trunk_kwargs))
    if checkpoint is not None:
        load_sam_weights(sam, checkpoint)
    return sam


def convert_sam_state_dict(state_dict):
    """Official RepViT-SAM keys (``image_encoder.features.N...``) -> this
    project's (``image_encoder.trunk...`` through :func:`convert_repvit`);
    ``image_encoder.neck.*``, ``prompt_encoder.*``, ``mask_decoder.*`` and
    converted keys pass through."""
    prefix = 'image_encoder.'
    official = OrderedDict(
        (k[len(prefix):], v) for k, v in state_dict.items()
        if k.startswith(prefix + 'features.'))
    converted = OrderedDict(
        (k, v) for k, v in state_dict.items()
        if not k.startswith(prefix + 'features.'))
    for key, value in convert_repvit(official).items():
        converted[f'{prefix}trunk.{key}'] = value
    return converted


def _examples(keys, n=3):
    keys = list(keys)
    more = f', ... ({len(keys)} in all)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def load_state_dict_exactly(module, state_dict, source):
    """``module.load_state_dict(state_dict, strict=True)`` with one readable
    ``CheckpointError`` naming ``source`` when keys or shapes differ."""
    own = module.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k} {tuple(state_dict[k].shape)} (model {tuple(v.shape)})'
              for k, v in own.items()
              if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or shapes:
        what = [f'{len(missing)} missing key(s): {_examples(missing)}'
                if missing else '',
                f'{len(unexpected)} unexpected key(s): '
                f'{_examples(unexpected)}' if unexpected else '',
                f'{len(shapes)} of another shape: {_examples(shapes)}'
                if shapes else '']
        raise CheckpointError(
            f'{source} does not fit {type(module).__name__}: '
            + '; '.join(w for w in what if w))
    module.load_state_dict(state_dict, strict=True)


def read_state_dict(checkpoint):
    """``(state_dict, meta)`` of a checkpoint (local file or URL;
    weights-only loading)."""
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointError(f'{checkpoint} holds a {type(ckpt).__name__}, '
                              'not a state_dict')
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    return unwrap_state_dict(ckpt), meta


def read_sam_checkpoint(checkpoint):
    """``(state_dict in this project's keys, meta)`` of a whole-SAM
    checkpoint file; ``CheckpointError`` if it is not one."""
    state_dict, meta = read_state_dict(checkpoint)
    if not any(k.startswith('mask_decoder.') for k in state_dict):
        raise CheckpointError(
            f'{checkpoint} has no mask_decoder.* weights: it is not a whole '
            'SAM checkpoint (a distilled encoder alone is made whole with '
            'tools/sam/evaluate.py --save-sam)')
    return convert_sam_state_dict(state_dict), meta


def load_sam_weights(sam, checkpoint):
    """Load a whole-SAM checkpoint file into ``sam`` strictly."""
    load_state_dict_exactly(sam, read_sam_checkpoint(checkpoint)[0],
                            checkpoint)


def save_sam(sam, filename):
    """Save ``sam`` (built by :func:`build_sam` / :func:`load_sam`, or any
    ``Sam`` with ``encoder_cfg``) with its encoder config in the meta."""
    cfg = copy.deepcopy(sam.encoder_cfg)
    if getattr(sam.image_encoder.trunk, 'deploy', False):
        cfg['trunk']['deploy'] = True  # re-parameterised RepViT
    save_checkpoint(dict(meta={META_KEY: cfg}, state_dict=sam.state_dict()),
                    filename)


def load_sam(checkpoint, encoder='repvit', img_size=1024, **trunk_kwargs):
    """The SAM of a checkpoint file: built from the encoder config saved in
    it (:func:`save_sam`), otherwise from the arguments (defaults: the
    published RepViT-SAM)."""
    state_dict, meta = read_sam_checkpoint(checkpoint)
    cfg = meta.get(META_KEY)
    if cfg is None:
        cfg = encoder_config(encoder, img_size, **trunk_kwargs)
    sam = sam_from_config(cfg)
    load_state_dict_exactly(sam, state_dict, checkpoint)
    return sam
