"""Whole-model checkpoints of the authors' downstream code, loaded as they are.

RepViT's published Semantic FPN (``repvit_m*_ade20k.pth``, mmseg 0.30) and
Mask R-CNN (``repvit_m*_coco.pth``, mmdet 2.28) checkpoints are mmcv 1.x
files (``meta`` + ``state_dict``). Their neck and head keys are already the
names of mmseg 1.x / mmdet 3.x (FPN ``neck.lateral_convs.i.conv.*`` and
``neck.fpn_convs.i.conv.*``; FPNHead ``decode_head.scale_heads.*`` and
``decode_head.conv_seg.*``; RPNHead ``rpn_head.rpn_conv/rpn_cls/rpn_reg``;
Shared2FCBBoxHead ``roi_head.bbox_head.shared_fcs/fc_cls/fc_reg``; FCNMaskHead
``roi_head.mask_head.convs/upsample/conv_logits``): those modules kept their
names from 0.x/2.x to 1.x/3.x, so no model-level rename is needed. Only the
backbone is in the authors' layout (``backbone.features.N...``).

:func:`convert_model_state_dict` maps the part of a whole-model state_dict
that belongs to each mmlightvit backbone through that backbone's
``convert_checkpoint`` (when its keys are not already the backbone's own), so
a published checkpoint loads with nothing missing or left over:

* by ``load_state_dict`` of the model (``load_from``, ``tools/test.py CONFIG
  CKPT``, ``init_model`` / ``init_detector``, fine-tuning), through the
  backbones' load-state-dict pre-hook (:func:`register_conversion_hook`);
* by the checkpoint checks of ``tools/train.py`` / ``tools/test.py``
  (``CheckpointFitHook``), which convert before they compare keys;
* offline, with ``tools/model_converters/repvit_downstream2mmlightvit.py``.
"""
from collections import OrderedDict

from .backbones.base import BaseBackbone

__all__ = ['convert_model_state_dict', 'convert_part',
           'register_conversion_hook']


def convert_part(backbone, state_dict, prefix=''):
    """Convert, in place, the entries of ``state_dict`` under ``prefix`` (the
    backbone's name in the model, with its dot) to ``backbone``'s key names
    through ``backbone.convert_checkpoint``; left alone when they already are
    the backbone's own keys. Returns ``state_dict``."""
    keys = [k for k in state_dict if k.startswith(prefix)]
    part = OrderedDict((k[len(prefix):], state_dict[k]) for k in keys)
    own = backbone.state_dict().keys()
    if not part or all(k in own for k in part):
        return state_dict
    converted = backbone.convert_checkpoint(part)
    for key in keys:
        del state_dict[key]
    state_dict.update((prefix + k, v) for k, v in converted.items())
    return state_dict


def convert_model_state_dict(model, state_dict):
    """Convert, in place, the parts of a whole-model ``state_dict`` (keys
    relative to ``model``, e.g. ``backbone.features.0.0.c.weight``) that are
    in a layout of the authors to the key names of ``model``'s mmlightvit
    backbones; every other key is kept as it is. Returns ``state_dict``."""
    for name, module in model.named_modules():
        if isinstance(module, BaseBackbone):
            convert_part(module, state_dict, f'{name}.' if name else '')
    return state_dict


def _convert_on_load(module, state_dict, prefix, *args):
    convert_part(module, state_dict, prefix)


def register_conversion_hook(backbone):
    """Make ``backbone`` convert its part of any state_dict loaded into a
    model that holds it (a load-state-dict pre-hook, run by torch's and
    mmengine's ``load_state_dict`` before the backbone's own weights are
    read)."""
    backbone.register_load_state_dict_pre_hook(_convert_on_load)
