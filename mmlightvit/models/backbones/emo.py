"""EMO backbone: `Rethinking Mobile Block for Efficient Attention-based Models
<https://arxiv.org/abs/2301.01146>`_ (ICCV 2023), official code zhangzjn/EMO.
"""
import warnings
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from mmpretrain.models.utils import LayerNorm2d, SELayer

from .base import BaseBackbone


class IRMB(BaseModule):
    """Inverted Residual Mobile Block.

    ``norm -> [window attention (on the normed input)] -> v (1x1 conv + act)
    -> depthwise conv (BN + SiLU, inner residual) [-> SE] -> proj (1x1 conv)``
    plus the outer residual when ``skip`` (stride 1, same channels).

    Args:
        in_channels / out_channels / mid_channels (int): Channel numbers.
        kernel_size (int): Depthwise kernel size. stride (int): Its stride.
        skip (bool): Residual connections (needs stride 1 and in == out).
        with_attn (bool): Window self-attention before ``v``.
        with_v (bool): 1x1 expansion ``v``; if False ``mid == in``.
        dim_head (int): Channels per attention head.
        window_size (int): Attention window; ``<= 0`` = the whole map.
        se_ratio (float): Squeeze-excite ratio; 0 = no SE.
        drop_path_rate (float): Stochastic depth of the outer residual.
        norm_cfg (dict | None): Pre-norm; None = no pre-norm.
        dw_norm_cfg (dict): Norm of the depthwise conv.
        act_cfg (dict): Activation of ``v`` and SE.
    """

    def __init__(self, in_channels, out_channels, mid_channels, kernel_size=3,
                 stride=1, skip=True, with_attn=False, with_v=True,
                 dim_head=32, window_size=7, se_ratio=0., drop_path_rate=0.,
                 norm_cfg=dict(type='BN', eps=1e-6),
                 dw_norm_cfg=dict(type='BN', eps=1e-6),
                 act_cfg=dict(type='SiLU'), init_cfg=None):
        super().__init__(init_cfg)
        assert not skip or (stride == 1 and in_channels == out_channels)
        assert with_v or mid_channels == in_channels
        self.skip = skip
        self.with_attn = with_attn
        self.norm = (build_norm_layer(norm_cfg, in_channels)[1]
                     if norm_cfg else nn.Identity())
        if with_attn:
            if in_channels % dim_head:
                raise ValueError(f'channels {in_channels} are not divisible '
                                 f'by dim_head {dim_head}')
            self.num_heads = in_channels // dim_head
            self.dim_head = dim_head
            self.scale = dim_head**-0.5
            self.window_size = window_size
            self.qk = ConvModule(in_channels, 2 * in_channels, 1, act_cfg=None)
        self.v = ConvModule(
            in_channels, mid_channels, 1, bias=True,
            act_cfg=act_cfg) if with_v else nn.Identity()
        self.conv_local = ConvModule(
            mid_channels, mid_channels, kernel_size, stride=stride,
            padding=kernel_size // 2, groups=mid_channels,
            norm_cfg=dw_norm_cfg, act_cfg=dict(type='SiLU'))
        # timm's SqueezeExcite as the official code uses it: squeeze width
        # round(C * se_ratio), biased 1x1 convs, act, sigmoid gate
        self.se = SELayer(
            mid_channels, round(mid_channels * se_ratio),
            act_cfg=(act_cfg, dict(type='Sigmoid'))) \
            if se_ratio > 0 else nn.Identity()
        self.proj = ConvModule(
            mid_channels, out_channels, 1, bias=False, act_cfg=None)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()

    def attention(self, x):
        """Official EMO window attention, ``v`` included.

        Zero-pads right/bottom to a multiple of the window, then splits the
        map into ``n1 x n2`` *interleaved* windows (einops
        ``'b c (h1 n1) (w1 n2) -> (b n1 n2) c h1 w1'``: window ``(i, j)``
        holds pixels ``(i + n1 * a, j + n2 * b)``). Padded tokens are not
        masked. Attention weights come from ``qk``, values are the normed
        input itself, followed by ``v``.
        """
        B, C, H, W = x.shape
        channels_last = x.is_contiguous(
            memory_format=torch.channels_last) and not x.is_contiguous()
        wh, ww = (H, W) if self.window_size <= 0 else (self.window_size, ) * 2
        pad_b, pad_r = -H % wh, -W % ww
        n1, n2 = (H + pad_b) // wh, (W + pad_r) // ww
        b, heads, d = B * n1 * n2, self.num_heads, self.dim_head
        # every copy below moves whole channel vectors (channels last): the
        # windows' tokens (window, token, C) straight from (B, H, W, C)
        x = F.pad(x.permute(0, 2, 3, 1), (0, 0, 0, pad_r, 0, pad_b))
        x = x.view(B, wh, n1, ww, n2, C).permute(0, 2, 4, 1, 3, 5)
        x = x.reshape(b, wh, ww, C)

        # softmax(q k^T * scale) v in one fused kernel, which wants
        # (window, head, token, channel) with the channels contiguous
        qk = self.qk(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        q, k = qk.reshape(b, -1, 2, heads, d).permute(2, 0, 3, 1, 4)
        v = x.view(b, -1, heads, d).transpose(1, 2)
        x = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        x = x.transpose(1, 2).reshape(b, wh, ww, C)
        x = self.v(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)

        x = x.reshape(B, n1, n2, wh, ww, -1).permute(0, 3, 1, 4, 2, 5)
        x = x.reshape(B, wh * n1, ww * n2, -1)[:, :H, :W].permute(0, 3, 1, 2)
        return x.contiguous(memory_format=torch.channels_last
                            if channels_last else torch.contiguous_format)

    def forward(self, x):
        shortcut = x
        x = self.norm(x)
        x = self.attention(x) if self.with_attn else self.v(x)
        y = self.se(self.conv_local(x))
        x = self.proj(x + y if self.skip else y)
        return shortcut + self.drop_path(x) if self.skip else x


@MODELS.register_module()
class EMO(BaseBackbone):
    """EMO backbone.

    Outputs (``out_indices``, see :mod:`~mmlightvit.models.backbones.base`):
    0 = the stem (``stage0``, stride 2), 1-4 = ``stage1``..``stage4``
    (strides 4, 8, 16, 32); channels in ``out_channels[index]``.

    Args:
        arch (str): '1M', '2M', '5M' or '6M' (the official EMO_* models).
        in_channels (int): Input channels.
        out_indices (Sequence[int]): Outputs, from 0..4.
        frozen_stages (int): Freeze the stem (0) .. ``stage{k}``; -1 = none.
        norm_eval (bool): Keep all BN layers in eval mode while training.
        drop_path_rate (float | None): Stochastic depth, linearly increased
            over the stage blocks; None = the arch's official value.
        window_size (int): Attention window of stages 3-4; <= 0 = whole map.
        norm_cfg (dict): The BN of the stem, stages 1-2 and all depthwise
            convs (e.g. SyncBN); ``eps`` defaults to the official 1e-6.
            Stages 3-4 pre-norm is LayerNorm over channels (eps 1e-6).
        init_cfg (dict | None): ``dict(type='Pretrained', checkpoint=...)``
            loads an official or converted checkpoint (see
            :func:`convert_official_emo`).
    """
    # depths, widths, expansion ratios and head dims of stages 1-4, default
    # drop path rate; from the official EMO_1M .. EMO_6M.
    arch_settings = {
        '1M': dict(depths=(2, 2, 8, 3), widths=(32, 48, 80, 168),
                   exp_ratios=(2., 2.5, 3., 3.5), dim_heads=(16, 16, 20, 21),
                   drop_path_rate=0.04036),
        '2M': dict(depths=(3, 3, 9, 3), widths=(32, 48, 120, 200),
                   exp_ratios=(2., 2.5, 3., 3.5), dim_heads=(16, 16, 20, 20),
                   drop_path_rate=0.05),
        '5M': dict(depths=(3, 3, 9, 3), widths=(48, 72, 160, 288),
                   exp_ratios=(2., 3., 4., 4.), dim_heads=(24, 24, 32, 32),
                   drop_path_rate=0.05),
        '6M': dict(depths=(3, 3, 9, 3), widths=(48, 72, 160, 320),
                   exp_ratios=(2., 3., 4., 5.), dim_heads=(16, 24, 20, 32),
                   drop_path_rate=0.05),
    }  # yapf: disable
    levels = {i: (f'stage{i}', ) for i in range(5)}
    out_levels = (0, 1, 2, 3, 4)
    stem_channels = 24
    kernel_sizes = (3, 3, 5, 5)
    with_attn = (False, False, True, True)  # in non-first blocks only
    act_cfgs = (dict(type='SiLU'), dict(type='SiLU'), dict(type='GELU'),
                dict(type='GELU'))
    # pre-norm of stages 3-4: mmpretrain's LayerNorm2d (registered there as
    # 'LN2d'), given as a class so that every scope builds the same one
    ln_cfg = dict(type=LayerNorm2d, eps=1e-6)

    def __init__(self, arch='5M', in_channels=3, out_indices=(1, 2, 3, 4),
                 frozen_stages=-1, norm_eval=False, drop_path_rate=None,
                 window_size=7, norm_cfg=dict(type='BN', eps=1e-6),
                 init_cfg=None):
        super().__init__(arch, out_indices, frozen_stages, norm_eval,
                         init_cfg)
        setting = self.arch_settings[self.arch]
        if drop_path_rate is None:
            drop_path_rate = setting['drop_path_rate']
        norm_cfg = dict(norm_cfg)
        norm_cfg.setdefault('eps', 1e-6)
        self.out_channels = dict(enumerate((self.stem_channels,
                                            *setting['widths'])))

        c = self.stem_channels
        with warnings.catch_warnings():  # the official stem conv has a bias
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            stem_conv = ConvModule(
                in_channels, c, 3, stride=2, padding=1, bias=True,
                norm_cfg=norm_cfg, act_cfg=None)
        self.stage0 = nn.Sequential(
            stem_conv,
            IRMB(c, c, c, skip=False, with_v=False, se_ratio=1.,
                 norm_cfg=None, dw_norm_cfg=norm_cfg))

        dprs = torch.linspace(0, drop_path_rate, sum(setting['depths']))
        dprs = iter(dprs.tolist())
        for i in range(4):
            blocks = []
            for j in range(setting['depths'][i]):
                first = j == 0  # downsampling block: stride 2, 2x expansion
                exp_ratio = setting['exp_ratios'][i] * (2 if first else 1)
                blocks.append(IRMB(
                    c, setting['widths'][i], int(c * exp_ratio),
                    kernel_size=self.kernel_sizes[i],
                    stride=2 if first else 1,
                    skip=not first,
                    with_attn=self.with_attn[i] and not first,
                    dim_head=setting['dim_heads'][i],
                    window_size=window_size,
                    drop_path_rate=next(dprs),
                    norm_cfg=norm_cfg if i < 2 else self.ln_cfg,
                    dw_norm_cfg=norm_cfg,
                    act_cfg=self.act_cfgs[i]))
                c = setting['widths'][i]
            self.add_module(f'stage{i + 1}', nn.Sequential(*blocks))
        self._freeze_stages()

    def convert_checkpoint(self, state_dict):
        return convert_official_emo(state_dict)


# official key -> mmlightvit key (substring replacements, idempotent)
_OFFICIAL_RENAMES = (
    ('stage0.0.convs.0.0.', 'stage0.0.conv.'),  # stem conv
    ('stage0.0.convs.0.1.', 'stage0.0.bn.'),  # stem BN
    ('.conv_local.norm.', '.conv_local.bn.'),  # depthwise conv BN
    ('.norm.norm.', '.norm.'),  # LayerNorm2d wrapper of stages 3-4
    ('.se.conv_reduce.', '.se.conv1.conv.'),  # timm SqueezeExcite -> SELayer
    ('.se.conv_expand.', '.se.conv2.conv.'),
)
_CLASSIFIER_PREFIXES = ('head.', 'norm.', 'pre_head.')


def convert_official_emo(state_dict):
    """Official EMO state_dict (zhangzjn/EMO) -> :class:`EMO` keys; drops the
    classifier (``head``, final ``norm``, ``pre_head``). Converted keys pass
    through unchanged."""
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(_CLASSIFIER_PREFIXES):
            continue
        for old, new in _OFFICIAL_RENAMES:
            key = key.replace(old, new)
        converted[key] = value
    return converted
