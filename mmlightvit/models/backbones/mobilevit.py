"""MobileViT backbone: `MobileViT: Light-weight, General-purpose, and
Mobile-friendly Vision Transformer <https://arxiv.org/abs/2110.02178>`_
(ICLR 2022), official code apple/ml-cvnets; timm's ``mobilevit_xxs/xs/s``
hold Apple's weights converted.
"""
import math
import re
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ..checkpoint import load_pretrained_weights


def _make_divisible(value, divisor=8, min_ratio=0.9):
    """Round ``value`` to a multiple of ``divisor`` (not below ``min_ratio``
    of it), as ml-cvnets / timm ``make_divisible``."""
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


class InvertedResidual(BaseModule):
    """MobileNetV2 block: ``expand_conv`` (1x1, BN, act; absent when
    ``expand_ratio == 1``) -> ``depthwise_conv`` (3x3, BN, act) ->
    ``linear_conv`` (1x1, BN), with a residual connection when ``stride == 1``
    and ``in_channels == out_channels``. The hidden width is
    ``in_channels * expand_ratio`` rounded to a multiple of 8.
    """

    def __init__(self, in_channels, out_channels, stride=1, expand_ratio=4,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
                 init_cfg=None):
        super().__init__(init_cfg)
        mid_channels = _make_divisible(round(in_channels * expand_ratio))
        self.with_residual = stride == 1 and in_channels == out_channels
        self.expand_conv = ConvModule(
            in_channels, mid_channels, 1, norm_cfg=norm_cfg,
            act_cfg=act_cfg) if expand_ratio != 1 else None
        if expand_ratio == 1:
            mid_channels = in_channels
        self.depthwise_conv = ConvModule(
            mid_channels, mid_channels, 3, stride=stride, padding=1,
            groups=mid_channels, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.linear_conv = ConvModule(
            mid_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x):
        out = self.expand_conv(x) if self.expand_conv is not None else x
        out = self.linear_conv(self.depthwise_conv(out))
        return x + out if self.with_residual else out


class MultiheadSelfAttention(BaseModule):
    """Multi-head self-attention over ``(N, L, C)`` tokens: ``qkv`` Linear
    (with bias; output ``[q, k, v]``, each ``num_heads x head_dim``) ->
    scaled dot-product attention per head (``F.scaled_dot_product_attention``)
    -> ``proj`` Linear."""

    def __init__(self, embed_dims, num_heads, attn_drop=0., init_cfg=None):
        super().__init__(init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} are not divisible by '
                             f'num_heads {num_heads}')
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(embed_dims, 3 * embed_dims)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, x):
        B, L, C = x.shape
        qkv = self.qkv(x).reshape(B, L, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        return self.proj(x.transpose(1, 2).reshape(B, L, C))


class TransformerEncoderLayer(BaseModule):
    """Pre-norm transformer layer: ``x + attn(norm1(x))``, then
    ``x + ffn(norm2(x))`` (mmcv ``FFN``: Linear -> act -> Linear), stochastic
    depth on both branches."""

    def __init__(self, embed_dims, num_heads, feedforward_channels,
                 drop_path_rate=0., act_cfg=dict(type='SiLU'),
                 norm_cfg=dict(type='LN'), init_cfg=None):
        super().__init__(init_cfg)
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = MultiheadSelfAttention(embed_dims, num_heads)
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.ffn = FFN(
            embed_dims, feedforward_channels, num_fcs=2, act_cfg=act_cfg,
            add_identity=False)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.ffn(self.norm2(x)))


class MobileViTBlock(BaseModule):
    """MobileViT block (local -> global -> fusion), as ml-cvnets
    ``MobileViTBlock``.

    ``conv_kxk`` (BN, act) -> ``conv_1x1`` (no bias/norm/act) to
    ``transformer_dim`` -> unfold into ``patch_size x patch_size`` patches
    (tokens at the same position in every patch attend to each other) ->
    ``transformer`` layers -> ``norm`` -> fold -> ``conv_proj`` (1x1, BN, act)
    -> ``conv_fusion`` (kxk, BN, act) of ``concat(input, x)``.

    Feature maps whose height/width are not multiples of ``patch_size`` are
    resized with bilinear interpolation (``align_corners=False``) up to the
    next multiple before unfolding and back to their size after folding,
    exactly as the official code does.
    """

    def __init__(self, channels, transformer_dim, ffn_channels, depth,
                 num_heads=4, patch_size=2, kernel_size=3, drop_path_rates=0.,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
                 transformer_norm_cfg=dict(type='LN'), init_cfg=None):
        super().__init__(init_cfg)
        if isinstance(drop_path_rates, (int, float)):
            drop_path_rates = [drop_path_rates] * depth
        self.patch_size = patch_size
        self.conv_kxk = ConvModule(
            channels, channels, kernel_size, padding=kernel_size // 2,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv_1x1 = nn.Conv2d(channels, transformer_dim, 1, bias=False)
        self.transformer = nn.Sequential(*[
            TransformerEncoderLayer(
                transformer_dim, num_heads, ffn_channels,
                drop_path_rate=drop_path_rates[i], act_cfg=act_cfg,
                norm_cfg=transformer_norm_cfg) for i in range(depth)
        ])
        self.norm = build_norm_layer(transformer_norm_cfg, transformer_dim)[1]
        self.conv_proj = ConvModule(
            transformer_dim, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv_fusion = ConvModule(
            2 * channels, channels, kernel_size, padding=kernel_size // 2,
            norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        shortcut = x
        x = self.conv_1x1(self.conv_kxk(x))

        B, C, H, W = x.shape
        p = self.patch_size
        new_h, new_w = math.ceil(H / p) * p, math.ceil(W / p) * p
        resize = (new_h, new_w) != (H, W)
        if resize:
            x = F.interpolate(x, size=(new_h, new_w), mode='bilinear',
                              align_corners=False)
        nh, nw = new_h // p, new_w // p
        # unfold: [B, C, nh*p, nw*p] -> [B*p*p, nh*nw, C]
        x = x.reshape(B, C, nh, p, nw, p).permute(0, 3, 5, 2, 4, 1)
        x = x.reshape(B * p * p, nh * nw, C)
        x = self.norm(self.transformer(x))
        # fold: [B*p*p, nh*nw, C] -> [B, C, nh*p, nw*p]
        x = x.reshape(B, p, p, nh, nw, C).permute(0, 5, 3, 1, 4, 2)
        x = x.reshape(B, C, new_h, new_w)
        if resize:
            x = F.interpolate(x, size=(H, W), mode='bilinear',
                              align_corners=False)

        x = self.conv_proj(x)
        return self.conv_fusion(torch.cat((shortcut, x), dim=1))


@MODELS.register_module()
class MobileViT(BaseModule):
    """MobileViT backbone (v1).

    Outputs (``out_indices``): 0-4 = ``layer1`` .. ``layer5`` (strides 2, 4, 8,
    16, 32; ``layer1`` includes the stride-2 stem). Index 5 is the
    classifier's 1x1 expansion conv after ``layer5`` (official
    ``conv_1x1_exp``, timm ``final_conv``: stride 32, ``min(4 * C5, 960)``
    channels); it is only built when requested, so dense backbones carry no
    unused parameters. A classifier is ``global average pool -> Linear`` on
    index 5. Outputs come in increasing index order; channels are in
    ``self.out_channels[index]``.

    Inputs of any size work: inside every MobileViT block, feature maps whose
    size is not a multiple of the patch size (2) are bilinearly resized to the
    next multiple before unfolding into patches and resized back after
    folding, as in the official ml-cvnets code (and timm).

    Args:
        arch (str): 'xxs', 'xs' or 's' (also the ml-cvnets names 'xx_small',
            'x_small', 'small').
        in_channels (int): Input channels.
        out_indices (Sequence[int]): Outputs, from 0..5 (see above).
        frozen_stages (int): Freeze levels 0 (stem and ``layer1``) .. ``i``
            (5 = also the final conv); -1 = none.
        norm_eval (bool): Keep all BN layers in eval mode while training.
        drop_path_rate (float): Stochastic depth of the transformer layers,
            linearly increased over all of them (the official models use
            none).
        norm_cfg (dict): Norm of all convolutions (e.g. SyncBN). The
            transformer layers use LayerNorm.
        init_cfg (dict | None): ``dict(type='Pretrained', checkpoint=...)``
            loads an ml-cvnets, timm or converted checkpoint (layout detected,
            see :func:`convert_mobilevit`).
        final_channels (int | None): Width of the final 1x1 conv (index 5);
            None = the official ``min(4 * C5, 960)``.
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
    stem_channels = 16
    num_ir_blocks = (1, 3)  # MobileNetV2 blocks of layer1, layer2
    strides = (1, 2, 2, 2, 2)  # first block of layer1..layer5
    transformer_depths = (2, 4, 3)  # layer3..layer5
    ffn_ratio = 2
    num_heads = 4
    patch_size = 2
    act_cfg = dict(type='SiLU')
    num_levels = 6  # layer1..layer5 + final conv

    def __init__(self,
                 arch='s',
                 in_channels=3,
                 out_indices=(0, 1, 2, 3, 4),
                 frozen_stages=-1,
                 norm_eval=False,
                 drop_path_rate=0.,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None,
                 final_channels=None):
        super().__init__(init_cfg)
        arch = self.arch_aliases.get(arch, arch)
        if arch not in self.arch_settings:
            raise ValueError(
                f'Unknown {type(self).__name__} arch {arch!r}; valid archs: '
                f'{", ".join(self.arch_settings)}')
        out_indices = self._check_out_indices(out_indices)
        if frozen_stages not in range(-1, self.num_levels):
            raise ValueError(
                f'frozen_stages must be in range -1..{self.num_levels - 1} '
                f'(-1 = none, 0 = stem and layer1), got {frozen_stages}')
        setting = self.arch_settings[arch]
        channels = setting['channels']
        if final_channels is None:
            final_channels = min(4 * channels[-1], 960)
        self.arch = arch
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_channels = [*channels, final_channels]

        act_cfg = self.act_cfg
        self.stem = ConvModule(
            in_channels, self.stem_channels, 3, stride=2, padding=1,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        depths = self.transformer_depths
        dprs = [drop_path_rate * i / max(sum(depths) - 1, 1)
                for i in range(sum(depths))]
        c = self.stem_channels
        for i, out_c in enumerate(channels):
            ir_kwargs = dict(expand_ratio=setting['expand_ratio'],
                             norm_cfg=norm_cfg, act_cfg=act_cfg)
            if i < 2:  # MobileNetV2 layers
                blocks = [
                    InvertedResidual(c if j == 0 else out_c, out_c,
                                     self.strides[i] if j == 0 else 1,
                                     **ir_kwargs)
                    for j in range(self.num_ir_blocks[i])
                ]
            else:  # downsampling MobileNetV2 block + MobileViT block
                dim = setting['transformer_dims'][i - 2]
                depth = depths[i - 2]
                start = sum(depths[:i - 2])
                blocks = [
                    InvertedResidual(c, out_c, self.strides[i], **ir_kwargs),
                    MobileViTBlock(
                        out_c, dim, self.ffn_ratio * dim, depth,
                        num_heads=self.num_heads, patch_size=self.patch_size,
                        drop_path_rates=dprs[start:start + depth],
                        norm_cfg=norm_cfg, act_cfg=act_cfg)
                ]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            c = out_c
        self.final_conv = ConvModule(
            c, final_channels, 1, norm_cfg=norm_cfg,
            act_cfg=act_cfg) if self._with_final_conv() else None
        self._freeze_stages()

    def _check_out_indices(self, out_indices, allow_empty=False):
        out_indices = (out_indices, ) if isinstance(out_indices, int) \
            else tuple(out_indices)
        last = self.num_levels - 1
        if not all(isinstance(i, int) and 0 <= i <= last
                   for i in out_indices):
            raise ValueError(
                f'out_indices must be in range 0..{last} (0-4 = layer1..'
                f'layer5, 5 = final 1x1 conv), got {out_indices}')
        if not out_indices and not allow_empty:
            raise ValueError('out_indices must not be empty')
        return tuple(sorted(set(out_indices)))

    def _with_final_conv(self):
        return 5 in self.out_indices

    def _unbuilt_prefixes(self):
        """Key prefixes of optional (classifier-side) modules that this
        instance did not build; dropped silently when loading weights."""
        return ('final_conv.', ) if self.final_conv is None else ()

    def _convert_checkpoint(self, state_dict):
        unbuilt = self._unbuilt_prefixes()
        return OrderedDict((k, v)
                           for k, v in convert_mobilevit(state_dict).items()
                           if not k.startswith(unbuilt))

    def init_weights(self):
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            load_pretrained_weights(
                self, cfg['checkpoint'], convert=self._convert_checkpoint)
            self._is_init = True
        else:
            super().init_weights()

    def forward_levels(self, x):
        """All levels: ``[layer1, ..., layer5]`` plus the final conv output
        when it is built."""
        x = self.stem(x)
        levels = []
        for i in range(5):
            x = getattr(self, f'layer{i + 1}')(x)
            levels.append(x)
        if self.final_conv is not None:
            levels.append(self.final_conv(x))
        return levels

    def forward(self, x):
        levels = self.forward_levels(x)
        return tuple(levels[i] for i in self.out_indices)

    def _level_modules(self, index):
        if index == 0:
            return [self.stem, self.layer1]
        if index < 5:
            return [getattr(self, f'layer{index + 1}')]
        return [self.final_conv] if self.final_conv is not None else []

    def _freeze_stages(self):
        for i in range(self.frozen_stages + 1):
            for module in self._level_modules(i):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


# --- checkpoint conversion ---------------------------------------------------
# (pattern, replacement) renames to mmlightvit keys; every rule of a layout
# is applied to every key, in order.
_TIMM_RENAMES = (
    (r'^stages\.(\d+)\.', lambda m: f'layer{int(m.group(1)) + 1}.'),
    (r'\.conv1_1x1\.', '.expand_conv.'),
    (r'\.conv2_kxk\.', '.depthwise_conv.'),
    (r'\.conv3_1x1\.', '.linear_conv.'),
    (r'\.mlp\.fc1\.', '.ffn.layers.0.0.'),
    (r'\.mlp\.fc2\.', '.ffn.layers.1.'),
)
_CVNETS_RENAMES = (
    (r'^conv_1\.', 'stem.'),
    (r'^conv_1x1_exp\.', 'final_conv.'),
    (r'^layer_(\d+)\.', r'layer\1.'),
    (r'\.block\.exp_1x1\.', '.expand_conv.'),
    (r'\.block\.conv_3x3\.', '.depthwise_conv.'),
    (r'\.block\.red_1x1\.', '.linear_conv.'),
    (r'\.local_rep\.conv_3x3\.', '.conv_kxk.'),
    (r'\.local_rep\.conv_1x1\.block\.conv\.', '.conv_1x1.'),
    (r'\.fusion\.', '.conv_fusion.'),
    (r'\.global_rep\.(\d+)\.pre_norm_mha\.0\.', r'.transformer.\1.norm1.'),
    (r'\.global_rep\.(\d+)\.pre_norm_mha\.1\.qkv_proj\.',
     r'.transformer.\1.attn.qkv.'),
    (r'\.global_rep\.(\d+)\.pre_norm_mha\.1\.out_proj\.',
     r'.transformer.\1.attn.proj.'),
    (r'\.global_rep\.(\d+)\.pre_norm_ffn\.0\.', r'.transformer.\1.norm2.'),
    (r'\.global_rep\.(\d+)\.pre_norm_ffn\.1\.',
     r'.transformer.\1.ffn.layers.0.0.'),
    (r'\.global_rep\.(\d+)\.pre_norm_ffn\.4\.',
     r'.transformer.\1.ffn.layers.1.'),
    (r'\.global_rep\.\d+\.(weight|bias)$', r'.norm.\1'),  # final LayerNorm
    (r'\.block\.conv\.', '.conv.'),  # ConvLayer -> ConvModule
    (r'\.block\.norm\.', '.bn.'),
)


def _detect_layout(state_dict):
    keys = list(state_dict)
    if any(k.startswith('backbone.') for k in keys):
        return 'mm'  # a model trained with mmpretrain/mmseg/mmdet
    if any(k.startswith(('conv_1.block.', 'layer_1.', 'encoder.conv_1.'))
           for k in keys):
        return 'ml-cvnets'
    if any(k.startswith('stages.') for k in keys):
        return 'timm'
    return 'mmlightvit'


def convert_mobilevit(state_dict):
    """MobileViT state_dict of apple/ml-cvnets, timm or a downstream
    OpenMMLab model (``backbone.`` prefix) -> :class:`MobileViT` keys; the
    layout is detected from the key names. Drops the classifier (ml-cvnets
    ``classifier.*``, timm ``head.*``) and the non-backbone parts of
    detection/segmentation models (OpenMMLab ``backbone.``, ml-cvnets
    ``encoder.`` prefixes). Converted keys pass through unchanged."""
    layout = _detect_layout(state_dict)
    encoder = layout == 'ml-cvnets' and any(
        k.startswith('encoder.') for k in state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        if layout == 'mm':
            if not key.startswith('backbone.'):
                continue
            key = key[len('backbone.'):]
        elif layout == 'ml-cvnets':
            if encoder:  # e.g. deeplabv3_mobilevit_*: encoder + seg_head
                if not key.startswith('encoder.'):
                    continue
                key = key[len('encoder.'):]
            if key.startswith('classifier.'):
                continue
            for pattern, repl in _CVNETS_RENAMES:
                key = re.sub(pattern, repl, key)
        elif layout == 'timm':
            if key.startswith('head.'):
                continue
            for pattern, repl in _TIMM_RENAMES:
                key = re.sub(pattern, repl, key)
        converted[key] = value
    return converted
