"""MobileViT backbone: `MobileViT: Light-weight, General-purpose, and
Mobile-friendly Vision Transformer <https://arxiv.org/abs/2110.02178>`_
(ICLR 2022), official code apple/ml-cvnets; timm's ``mobilevit_xxs/xs/s``
hold Apple's weights converted.
"""
import re
from collections import Counter, OrderedDict

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS
from mmpretrain.models.backbones.mobilevit import MobileVitBlock
from mmpretrain.models.utils import InvertedResidual, make_divisible

from ..checkpoint import select_prefix
from .base import BaseBackbone


@MODELS.register_module('MobileViTBackbone')
class MobileViT(BaseBackbone):
    """MobileViT backbone (v1), registered as ``'MobileViTBackbone'``
    (mmpretrain registers its own ``'MobileViT'``, with other key names and
    output indices; this one loads ml-cvnets, timm and mmpretrain weights).

    Outputs (``out_indices``, see :mod:`~mmlightvit.models.backbones.base`):
    0 = the stem + ``layer1`` (stride 2), 1-4 = ``layer2``..``layer5``
    (strides 4, 8, 16, 32); channels in ``out_channels[index]``.

    ``final_conv=True`` builds the classifier's 1x1 expansion conv (official
    ``conv_1x1_exp``, timm ``final_conv``: BN + SiLU, ``min(4 * C5, 960)``
    channels) after ``layer5``: index 4 is then its output, and an ImageNet
    classifier is ``global average pool -> Linear`` on it. Dense backbones
    leave it out (and ignore its weights in checkpoints).

    Blocks are mmpretrain's: ``InvertedResidual`` (MobileNetV2 block, hidden
    width ``make_divisible(in * expand_ratio, 8)`` as ml-cvnets) and
    ``MobileVitBlock`` (local conv -> unfold -> transformer layers -> fold
    -> fusion). Feature maps whose size is not a multiple of the patch size
    (2) are bilinearly resized to the next multiple before unfolding and back
    after folding, as in ml-cvnets (and timm), so inputs of any size work.

    Args:
        arch (str): 'xxs', 'xs' or 's' (also the ml-cvnets / mmpretrain names
            'xx_small', 'x_small', 'small').
        in_channels (int): Input channels.
        out_indices (Sequence[int]): Outputs, from 0..4.
        frozen_stages (int): Freeze levels 0 (stem and ``layer1``) .. ``k``
            (4 = also the final conv); -1 = none.
        norm_eval (bool): Keep all BN layers in eval mode while training.
        final_conv (bool): Build the final 1x1 conv on index 4 (see above).
        final_channels (int | None): Its width; None = the official
            ``min(4 * C5, 960)``.
        drop_path_rate (float): Stochastic depth of the transformer layers,
            linearly increased over the three MobileViT blocks (the official
            models use none).
        drop_rate (float): Dropout of the transformer layers after the
            attention and after the FFN (ml-cvnets ``mit.dropout``; 0.1 in
            its ImageNet and VOC recipes).
        attn_drop_rate (float): Dropout of the attention weights (ml-cvnets
            ``mit.attn_dropout``).
        ffn_drop_rate (float): Dropout between the two FFN layers (ml-cvnets
            ``mit.ffn_dropout``).
        output_stride (int): 32 (default), 16 or 8, as ml-cvnets' backbone
            for segmentation: 16 removes the stride of ``layer5``'s
            downsampling block, 8 also ``layer4``'s; a block whose stride is
            removed dilates its depthwise conv by the stride removed before
            it (``layer5``'s by 2 at output stride 8). The output indices
            keep naming the layers (``out_indices`` 3 and 4 are then at
            stride ``min(16, output_stride)`` and ``output_stride``).
        norm_cfg (dict): Norm of all convolutions (e.g. SyncBN). The
            transformer layers use LayerNorm.
        init_cfg (dict | None): ``dict(type='Pretrained', checkpoint=...)``
            loads an ml-cvnets, timm, mmpretrain or converted checkpoint
            (layout detected, see :func:`convert_mobilevit`).
    """
    # Output channels of layer1..layer5, transformer widths of layer3..layer5,
    # MobileNetV2 expansion ratio; from ml-cvnets
    # ``config/mobilevit.py`` (modes xx_small, x_small, small).
    arch_settings = {
        'xxs': dict(channels=(16, 24, 48, 64, 80),
                    transformer_dims=(64, 80, 96), expand_ratio=2),
        'xs': dict(channels=(32, 48, 64, 80, 96),
                   transformer_dims=(96, 120, 144), expand_ratio=4),
        's': dict(channels=(32, 64, 96, 128, 160),
                  transformer_dims=(144, 192, 240), expand_ratio=4),
    }  # yapf: disable
    arch_aliases = {'xx_small': 'xxs', 'x_small': 'xs', 'small': 's'}
    levels = {0: ('stem', 'layer1'), 1: ('layer2', ), 2: ('layer3', ),
              3: ('layer4', ), 4: ('layer5', 'final_conv')}
    out_levels = (0, 1, 2, 3, 4)
    stem_channels = 16
    num_ir_blocks = (1, 3)  # MobileNetV2 blocks of layer1, layer2
    strides = (1, 2, 2, 2, 2)  # first block of layer1..layer5
    transformer_depths = (2, 4, 3)  # layer3..layer5
    ffn_ratio = 2
    num_heads = 4
    patch_size = 2
    act_cfg = dict(type='SiLU')

    def __init__(self, arch='s', in_channels=3, out_indices=(1, 2, 3, 4),
                 frozen_stages=-1, norm_eval=False, final_conv=False,
                 final_channels=None, drop_path_rate=0.,
                 norm_cfg=dict(type='BN'), init_cfg=None, drop_rate=0.,
                 attn_drop_rate=0., ffn_drop_rate=0., output_stride=32):
        super().__init__(arch, out_indices, frozen_stages, norm_eval,
                         init_cfg)
        if output_stride not in (8, 16, 32):
            raise ValueError(f'output_stride of {type(self).__name__} must '
                             f'be 8, 16 or 32, got {output_stride!r}')
        self.output_stride = output_stride
        setting = self.arch_settings[self.arch]
        channels = setting['channels']
        if final_channels is None:
            final_channels = setting.get('final_channels',
                                         min(4 * channels[-1], 960))
        self.norm_cfg = norm_cfg
        self.out_channels = dict(enumerate(channels))
        if final_conv:
            self.out_channels[4] = final_channels

        act_cfg = self.act_cfg
        self.stem = ConvModule(
            in_channels, self.stem_channels, 3, stride=2, padding=1,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        dprs = torch.linspace(0, drop_path_rate, 3).tolist()
        # the last layers whose downsampling stride goes (ml-cvnets)
        dilated = {32: (), 16: (4, ), 8: (3, 4)}[output_stride]
        dilation = 1
        c = self.stem_channels
        for i, out_c in enumerate(channels):
            blocks = []
            for j in range(self.num_ir_blocks[i] if i < 2 else 1):
                in_c = c if j == 0 else out_c
                stride = self.strides[i] if j == 0 else 1
                block_dilation = dilation
                if i in dilated:
                    dilation, stride = dilation * stride, 1
                blocks.append(InvertedResidual(
                    in_c, out_c,
                    make_divisible(round(in_c * setting['expand_ratio']), 8),
                    stride=stride, norm_cfg=norm_cfg, act_cfg=act_cfg))
                dilate_(blocks[-1].depthwise_conv.conv, block_dilation)
            if i >= 2:  # MobileViT block after the downsampling block
                dim = setting['transformer_dims'][i - 2]
                blocks.append(MobileVitBlock(
                    out_c, dim, self.ffn_ratio * dim, out_c,
                    norm_cfg=norm_cfg, act_cfg=act_cfg,
                    num_transformer_blocks=self.transformer_depths[i - 2],
                    patch_size=self.patch_size, num_heads=self.num_heads,
                    drop_rate=drop_rate, attn_drop_rate=attn_drop_rate,
                    drop_path_rate=dprs[i - 2]))
                for layer in blocks[-1].global_rep[:-1]:
                    layer.ffn.layers[0][-1].p = ffn_drop_rate
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            c = out_c
        self.final_conv = ConvModule(
            c, final_channels, 1, norm_cfg=norm_cfg,
            act_cfg=act_cfg) if final_conv else None
        self._freeze_stages()

    def _unbuilt_prefixes(self):
        """Key prefixes of optional (classifier-side) modules that this
        instance did not build; dropped silently when loading weights."""
        return ('final_conv.', ) if self.final_conv is None else ()

    def convert_checkpoint(self, state_dict):
        unbuilt = self._unbuilt_prefixes()
        return OrderedDict((k, v)
                           for k, v in convert_mobilevit(state_dict).items()
                           if not k.startswith(unbuilt))


def dilate_(conv, dilation):
    """Dilate a (stride-1, odd-kernel) conv in place, keeping its output
    size."""
    conv.dilation = (dilation, dilation)
    conv.padding = tuple(dilation * (k // 2) for k in conv.kernel_size)


# --- checkpoint conversion ---------------------------------------------------
# (pattern, replacement) renames to mmlightvit keys; every rule of a layout
# is applied to every key, in order.
_TIMM_RENAMES = (
    (r'^stages\.(\d+)\.', lambda m: f'layer{int(m.group(1)) + 1}.'),
    (r'\.conv1_1x1\.', '.expand_conv.'),
    (r'\.conv2_kxk\.', '.depthwise_conv.'),
    (r'\.conv3_1x1\.', '.linear_conv.'),
    (r'\.conv_kxk\.', '.local_rep.0.'),
    (r'\.conv_1x1\.weight$', '.local_rep.1.conv.weight'),
    (r'\.transformer\.(\d+)\.norm1\.', r'.global_rep.\1.ln1.'),
    (r'\.transformer\.(\d+)\.norm2\.', r'.global_rep.\1.ln2.'),
    (r'\.transformer\.(\d+)\.attn\.', r'.global_rep.\1.attn.'),
    (r'\.transformer\.(\d+)\.mlp\.fc1\.', r'.global_rep.\1.ffn.layers.0.0.'),
    (r'\.transformer\.(\d+)\.mlp\.fc2\.', r'.global_rep.\1.ffn.layers.1.'),
    # the block's final LayerNorm (``norm``) follows its transformer layers
    # in ``global_rep``: its index is filled in by ``_number_final_norms``
    (r'^(layer\d+\.1)\.norm\.', r'\1.global_rep.FINAL.'),
)
_CVNETS_RENAMES = (
    (r'^conv_1\.', 'stem.'),
    (r'^conv_1x1_exp\.', 'final_conv.'),
    (r'^layer_(\d+)\.', r'layer\1.'),
    (r'\.block\.exp_1x1\.', '.expand_conv.'),
    (r'\.block\.conv_3x3\.', '.depthwise_conv.'),
    (r'\.block\.red_1x1\.', '.linear_conv.'),
    (r'\.local_rep\.conv_3x3\.', '.local_rep.0.'),
    (r'\.local_rep\.conv_1x1\.', '.local_rep.1.'),
    (r'\.fusion\.', '.conv_fusion.'),
    (r'\.pre_norm_mha\.0\.', '.ln1.'),
    (r'\.pre_norm_mha\.1\.qkv_proj\.', '.attn.qkv.'),
    (r'\.pre_norm_mha\.1\.out_proj\.', '.attn.proj.'),
    (r'\.pre_norm_ffn\.0\.', '.ln2.'),
    (r'\.pre_norm_ffn\.1\.', '.ffn.layers.0.0.'),
    (r'\.pre_norm_ffn\.4\.', '.ffn.layers.1.'),
    (r'\.block\.conv\.', '.conv.'),  # ConvLayer -> ConvModule
    (r'\.block\.norm\.', '.bn.'),
)
# mmpretrain's MobileViT: the same blocks but MobileNetV2's InvertedResidual
# (``conv.0`` expand, ``conv.1`` depthwise, ``conv.2`` linear)
_MMPRETRAIN_RENAMES = (
    (r'^layers\.(\d+)\.', lambda m: f'layer{int(m.group(1)) + 1}.'),
    (r'^conv_1x1_exp\.', 'final_conv.'),
    (r'^(layer\d+\.\d+)\.conv\.0\.', r'\1.expand_conv.'),
    (r'^(layer\d+\.\d+)\.conv\.1\.', r'\1.depthwise_conv.'),
    (r'^(layer\d+\.\d+)\.conv\.2\.', r'\1.linear_conv.'),
)
# layout: (renames, prefix of its classifier)
_LAYOUTS = {
    'ml-cvnets': (_CVNETS_RENAMES, 'classifier.'),
    'timm': (_TIMM_RENAMES, 'head.'),
    'mmpretrain': (_MMPRETRAIN_RENAMES, 'head.'),
    'mmlightvit': ((), 'head.'),
}


def checkpoint_layout(state_dict):
    """'ml-cvnets', 'timm', 'mmpretrain' or 'mmlightvit', from the key names
    (of the ``backbone.`` part of a whole OpenMMLab model)."""
    keys = list(select_prefix(state_dict, 'backbone.'))
    if any(k.startswith(('conv_1.block.', 'layer_1.', 'encoder.conv_1.'))
           for k in keys):
        return 'ml-cvnets'
    if any(k.startswith('stages.') for k in keys):
        return 'timm'
    if any(k.startswith(('layers.', 'conv_1x1_exp.')) for k in keys):
        return 'mmpretrain'
    return 'mmlightvit'


def _number_final_norms(state_dict):
    """``global_rep.FINAL`` -> ``global_rep.<number of transformer layers of
    that block>``, the place of the final LayerNorm in mmpretrain's
    ``MobileVitBlock``."""
    depths = Counter(
        m.group(1) for k in state_dict
        if (m := re.match(r'(.*\.global_rep)\.\d+\.ln1\.weight$', k)))
    return OrderedDict(
        (re.sub(r'^(.*\.global_rep)\.FINAL\.',
                lambda m: f'{m.group(1)}.{depths[m.group(1)]}.', k), v)
        for k, v in state_dict.items())


def convert_mobilevit(state_dict):
    """MobileViT state_dict of apple/ml-cvnets, timm, mmpretrain or a
    downstream OpenMMLab model (``backbone.`` prefix) -> :class:`MobileViT`
    keys; the layout is detected from the key names. Drops the classifier
    (ml-cvnets ``classifier.*``, timm / mmpretrain ``head.*``) and the
    non-backbone parts of detection/segmentation models (OpenMMLab
    ``backbone.``, ml-cvnets ``encoder.`` prefixes). Converted keys pass
    through unchanged."""
    state_dict = select_prefix(state_dict, 'backbone.')
    layout = checkpoint_layout(state_dict)
    if layout == 'ml-cvnets':  # e.g. deeplabv3_mobilevit_*: encoder + head
        state_dict = select_prefix(state_dict, 'encoder.')
    renames, classifier = _LAYOUTS[layout]
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(classifier):
            continue
        for pattern, repl in renames:
            key = re.sub(pattern, repl, key)
        converted[key] = value
    return _number_final_norms(converted)
