"""RepViT backbone: `RepViT: Revisiting Mobile CNN From ViT Perspective
<https://arxiv.org/abs/2307.09283>`_ (CVPR 2024), official code THU-MIG/RepViT
(``model/repvit.py``); timm's ``repvit_*`` hold the same networks.

Stages. The official classifier is a flat list ``features`` (``features.0`` =
the stem, then one RepViT block per row of the official ``cfgs``). Its dense
prediction code (THU-MIG/RepViT ``detection/``, e.g. ``out_indices=[2, 6, 20,
24]`` for M1.1) taps the block *before* the last block of each resolution, and
timm's ``stages`` are cut at the same points (the last stride-1 block of a
resolution is timm's ``downsample.pre_block`` of the next stage). The stages
here follow that split, so ``stages[i]`` (strides 4, 8, 16, 32) ends where the
official detector and timm's ``forward_intermediates`` take their features:

* ``stages[0]``: ``depths[0]`` blocks at stride 4;
* ``stages[i]``, i > 0: one block at the previous width and resolution (no
  SE), the stride-2 downsampling block, then ``depths[i]`` blocks.

Taps. ``tap='timm'`` (default) outputs the stages as cut above. The
official *segmentation* code (THU-MIG/RepViT ``segmentation/``, e.g.
``out_indices=[3, 7, 21, 24]`` for M1.1) taps one block later at strides
4-16: the last block of each resolution, i.e. after the first block of the
next stage. ``tap='last'`` gives those features (same widths and strides);
the modules, their split into stages and the checkpoint keys do not change.

Re-parameterisation. :meth:`RepViT.switch_to_deploy` folds every Conv+BN into
one biased conv and each token mixer ``BN(dw3x3-BN(x) + dw1x1(x) + x)`` into a
single 3x3 depthwise conv; ``deploy=True`` builds that form directly.
"""
import re
from collections import OrderedDict

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from mmpretrain.models.utils import SELayer, make_divisible

from ..checkpoint import unwrap_state_dict
from ..downstream import register_conversion_hook
from ...compat import load_checkpoint_file
from .base import BaseBackbone


def squeeze_excite(channels, use_se=True):
    """timm's ``SqueezeExcite`` as RepViT uses it (official and timm): squeeze
    width ``C / 4`` rounded to the nearest multiple of 8 (never bumped up:
    ``min_ratio=0``), biased 1x1 convs, ReLU, sigmoid gate; or an
    ``Identity`` when not ``use_se``."""
    if not use_se:
        return nn.Identity()
    return SELayer(channels, make_divisible(channels * 0.25, 8, min_ratio=0.))


def conv_bn(in_channels, out_channels, kernel_size=1, stride=1, groups=1,
            norm_cfg=dict(type='BN'), act_cfg=None, deploy=False):
    """``conv (no bias) -> BN [-> act]`` as a ConvModule (``.conv``,
    ``.bn``); in deploy form a biased conv [-> act]."""
    return ConvModule(
        in_channels, out_channels, kernel_size, stride=stride,
        padding=kernel_size // 2, groups=groups, bias='auto',
        norm_cfg=None if deploy else norm_cfg, act_cfg=act_cfg)


def _bn_scale_shift(bn):
    """``BN(x) == x * scale + shift`` in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


@torch.no_grad()
def fuse_conv_bn(module):
    """A :func:`conv_bn` ConvModule -> its deploy form (same act, same
    device/dtype/training mode) computing the same function in eval mode."""
    if not module.with_norm:
        return module
    conv = module.conv
    scale, shift = _bn_scale_shift(module.norm)
    bias = shift if conv.bias is None else shift + conv.bias * scale
    fused = ConvModule(
        conv.in_channels, conv.out_channels, conv.kernel_size,
        stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
        groups=conv.groups, bias=True, conv_cfg=module.conv_cfg,
        norm_cfg=None, act_cfg=module.act_cfg)
    fused.to(device=conv.weight.device, dtype=conv.weight.dtype)
    fused.conv.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
    fused.conv.bias.copy_(bias)
    return fused.train(module.training)


class RepVGGDW(BaseModule):
    """RepViT token mixer ``BN(dw_kxk_bn(x) + dw_1x1(x) + x)`` (the official
    non-legacy ``RepVGGDW``); in deploy form one biased depthwise ``kxk``
    conv ``reparam_conv``.

    Args:
        channels (int): Channels (depthwise).
        kernel_size (int): Size of the main depthwise kernel (odd).
        norm_cfg (dict): The two BNs.
        deploy (bool): Build the fused form.
    """

    def __init__(self, channels, kernel_size=3, norm_cfg=dict(type='BN'),
                 deploy=False, init_cfg=None):
        super().__init__(init_cfg)
        self.channels = channels
        self.kernel_size = kernel_size
        self.deploy = deploy
        if deploy:
            self.reparam_conv = nn.Conv2d(
                channels, channels, kernel_size, padding=kernel_size // 2,
                groups=channels)
        else:
            self.conv = conv_bn(channels, channels, kernel_size,
                                groups=channels, norm_cfg=norm_cfg)
            self.conv1 = nn.Conv2d(channels, channels, 1, groups=channels)
            self.bn = build_norm_layer(norm_cfg, channels)[1]

    def forward(self, x):
        if self.deploy:
            return self.reparam_conv(x)
        return self.bn(self.conv(x) + self.conv1(x) + x)

    @torch.no_grad()
    def switch_to_deploy(self):
        if self.deploy:
            return
        k = self.kernel_size
        conv = fuse_conv_bn(self.conv).conv
        weight = conv.weight.clone()
        center = (slice(None), slice(None), slice(k // 2, k // 2 + 1),
                  slice(k // 2, k // 2 + 1))
        weight[center] += self.conv1.weight + 1  # 1x1 branch + identity
        bias = conv.bias + self.conv1.bias
        scale, shift = _bn_scale_shift(self.bn)
        self.reparam_conv = nn.Conv2d(
            self.channels, self.channels, k, padding=k // 2,
            groups=self.channels).to(device=weight.device, dtype=weight.dtype)
        self.reparam_conv.weight.copy_(weight * scale.view(-1, 1, 1, 1))
        self.reparam_conv.bias.copy_(bias * scale + shift)
        self.reparam_conv.train(self.training)
        del self.conv, self.conv1, self.bn
        self.deploy = True


class ChannelMixer(nn.Sequential):
    """``1x1 conv-BN -> GELU -> 1x1 conv-BN`` (hidden = ``ratio x``); the
    last BN starts at zero (official ``bn_weight_init=0``)."""

    def __init__(self, channels, hidden_channels, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), deploy=False):
        super().__init__(
            conv_bn(channels, hidden_channels, norm_cfg=norm_cfg,
                    act_cfg=act_cfg, deploy=deploy),
            conv_bn(hidden_channels, channels, norm_cfg=norm_cfg,
                    deploy=deploy))
        self.zero_init_last_norm()

    def zero_init_last_norm(self):
        if self[1].with_norm:
            nn.init.zeros_(self[1].norm.weight)

    def switch_to_deploy(self):
        for i in range(len(self)):
            self[i] = fuse_conv_bn(self[i])


class RepViTBlock(BaseModule):
    """Stride-1 RepViT block: ``x = SE(RepVGGDW(x)); x + FFN(x)``.

    Args:
        channels (int): Input = output channels.
        kernel_size (int): Depthwise kernel size.
        use_se (bool): Squeeze-excite (ratio 0.25, rounded to 8) after the
            token mixer.
        mlp_ratio (float): FFN hidden channels ratio.
        drop_path_rate (float): Stochastic depth of the FFN residual.
        norm_cfg (dict): Norm of all conv-BN pairs.
        act_cfg (dict): Activation of the FFN.
        deploy (bool): Build the re-parameterised form.
    """

    def __init__(self, channels, kernel_size=3, use_se=False, mlp_ratio=2,
                 drop_path_rate=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), deploy=False, init_cfg=None):
        super().__init__(init_cfg)
        self.token_mixer = RepVGGDW(channels, kernel_size, norm_cfg, deploy)
        self.se = squeeze_excite(channels, use_se)
        self.channel_mixer = ChannelMixer(
            channels, int(channels * mlp_ratio), norm_cfg, act_cfg, deploy)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()

    def forward(self, x):
        x = self.se(self.token_mixer(x))
        return x + self.drop_path(self.channel_mixer(x))

    def switch_to_deploy(self):
        self.token_mixer.switch_to_deploy()
        self.channel_mixer.switch_to_deploy()


class RepViTDownsample(BaseModule):
    """Stride-2 RepViT block: depthwise ``kxk`` stride-2 conv-BN [-> SE] ->
    1x1 conv-BN to ``out_channels``, then ``x + FFN(x)``.

    Args: as :class:`RepViTBlock`, with ``in_channels`` / ``out_channels``.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, use_se=False,
                 mlp_ratio=2, drop_path_rate=0., norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='GELU'), deploy=False, init_cfg=None):
        super().__init__(init_cfg)
        self.spatial_downsample = conv_bn(
            in_channels, in_channels, kernel_size, stride=2,
            groups=in_channels, norm_cfg=norm_cfg, deploy=deploy)
        self.se = squeeze_excite(in_channels, use_se)
        self.channel_downsample = conv_bn(
            in_channels, out_channels, norm_cfg=norm_cfg, deploy=deploy)
        self.channel_mixer = ChannelMixer(
            out_channels, int(out_channels * mlp_ratio), norm_cfg, act_cfg,
            deploy)
        self.drop_path = DropPath(drop_path_rate) \
            if drop_path_rate > 0 else nn.Identity()

    def forward(self, x):
        x = self.channel_downsample(self.se(self.spatial_downsample(x)))
        return x + self.drop_path(self.channel_mixer(x))

    def switch_to_deploy(self):
        self.spatial_downsample = fuse_conv_bn(self.spatial_downsample)
        self.channel_downsample = fuse_conv_bn(self.channel_downsample)
        self.channel_mixer.switch_to_deploy()


@MODELS.register_module()
class RepViT(BaseBackbone):
    """RepViT backbone.

    Outputs (``out_indices``, see :mod:`~mmlightvit.models.backbones.base`):
    1-4 = ``stages[0]``..``stages[3]`` at strides 4, 8, 16, 32, with
    ``out_channels[i]`` channels (see the module docstring for where the
    stages are cut: where the official detection code and timm's
    ``forward_intermediates`` take features). There is no stride-2 output
    (index 0): the official networks tap none. ``tap='last'`` moves the
    outputs 1-3 one block later (see ``tap``).

    Args:
        arch (str): 'm0_9', 'm1_0', 'm1_1', 'm1_5' or 'm2_3' (the official
            RepViT-M0.9 .. M2.3).
        in_channels (int): Input channels.
        out_indices (Sequence[int]): Outputs, from 1..4.
        frozen_stages (int): -1 = nothing frozen; 0 = the stem's first
            (stride-2) conv; ``k`` in 1..4 = the whole stem and
            ``stages[0..k-1]`` (``frozen_stages=1`` freezes everything up to
            the stride-4 output; with ``tap='last'`` also the block that
            output comes from, ``stages[k][0]``). Frozen parts get
            ``requires_grad=False`` and stay in eval mode (BN statistics
            fixed).
        norm_eval (bool): Keep all BN layers in eval mode while training.
        deploy (bool): Build the re-parameterised (fused) form, which loads
            checkpoints saved after :meth:`switch_to_deploy`.
        drop_path_rate (float): Stochastic depth of the FFN residuals,
            linearly increased over the blocks (official training: 0).
        norm_cfg (dict): Norm of all conv-BN pairs (e.g. SyncBN).
        tap (str): Where the outputs 1-3 (strides 4, 8, 16) are taken.
            'timm' (default): at the end of ``stages[0..2]``, where the
            official detection code (Mask R-CNN ``out_indices`` [2, 6, 20,
            24] for M1.1) and timm's ``forward_intermediates`` take them.
            'last': one block later, after the last block of that resolution
            (``stages[i][0]``, the stride-1 block before the next
            downsampling), where the official segmentation code (Semantic FPN
            ``out_indices`` [3, 7, 21, 24] for M1.1) takes them. Output 4 and
            all widths are the same; so are the modules and checkpoint keys.
        init_cfg (dict | None): ``dict(type='Pretrained', checkpoint=...)``
            loads an official (THU-MIG/RepViT), timm or converted checkpoint
            (see :func:`convert_repvit`); classifier heads are dropped.
    """
    # widths and depths (blocks after each stage's downsampling; see the
    # module docstring) of the official RepViT-M0.9 .. M2.3 (= timm's).
    arch_settings = {
        'm0_9': dict(widths=(48, 96, 192, 384), depths=(2, 2, 14, 2)),
        'm1_0': dict(widths=(56, 112, 224, 448), depths=(2, 2, 14, 2)),
        'm1_1': dict(widths=(64, 128, 256, 512), depths=(2, 2, 12, 2)),
        'm1_5': dict(widths=(64, 128, 256, 512), depths=(4, 4, 24, 4)),
        'm2_3': dict(widths=(80, 160, 320, 640), depths=(6, 6, 34, 2)),
    }
    levels = {0: ('stem.0', ), 1: ('stem.1', 'stages.0'), 2: ('stages.1', ),
              3: ('stages.2', ), 4: ('stages.3', )}
    out_levels = (1, 2, 3, 4)
    taps = ('timm', 'last')
    kernel_size = 3
    mlp_ratio = 2
    act_cfg = dict(type='GELU')

    def __init__(self,
                 arch='m1_1',
                 in_channels=3,
                 out_indices=(1, 2, 3, 4),
                 frozen_stages=-1,
                 norm_eval=False,
                 deploy=False,
                 drop_path_rate=0.,
                 norm_cfg=dict(type='BN'),
                 tap='timm',
                 init_cfg=None):
        super().__init__(arch, out_indices, frozen_stages, norm_eval,
                         init_cfg)
        if tap not in self.taps:
            taps = ', '.join(map(repr, self.taps))
            raise ValueError(
                f'tap of RepViT must be one of {taps} (\'last\' = the '
                f'official segmentation taps), got {tap!r}')
        self.tap = tap
        self._build_args = dict(
            arch=self.arch, in_channels=in_channels,
            out_indices=self.out_indices, frozen_stages=frozen_stages,
            norm_eval=norm_eval, tap=tap, drop_path_rate=drop_path_rate,
            norm_cfg=norm_cfg)
        setting = self.arch_settings[self.arch]
        widths, depths = setting['widths'], setting['depths']
        self.deploy = deploy
        self.out_channels = {i + 1: width for i, width in enumerate(widths)}

        block_args = dict(kernel_size=self.kernel_size,
                          mlp_ratio=self.mlp_ratio, norm_cfg=norm_cfg,
                          act_cfg=self.act_cfg, deploy=deploy)
        self.stem = nn.Sequential(
            conv_bn(in_channels, widths[0] // 2, 3, stride=2,
                    norm_cfg=norm_cfg, act_cfg=self.act_cfg, deploy=deploy),
            conv_bn(widths[0] // 2, widths[0], 3, stride=2,
                    norm_cfg=norm_cfg, deploy=deploy))
        num_blocks = sum(depths) + 2 * (len(depths) - 1)
        dprs = iter(torch.linspace(0, drop_path_rate, num_blocks).tolist())
        self.stages = nn.ModuleList()
        for i, (width, depth) in enumerate(zip(widths, depths)):
            blocks = []
            if i > 0:
                c = widths[i - 1]
                blocks.append(RepViTBlock(
                    c, drop_path_rate=next(dprs), **block_args))
                blocks.append(RepViTDownsample(
                    c, width, drop_path_rate=next(dprs), **block_args))
            for j in range(depth):  # SE in every other block
                blocks.append(RepViTBlock(
                    width, use_se=j % 2 == 0, drop_path_rate=next(dprs),
                    **block_args))
            self.stages.append(nn.Sequential(*blocks))
        if tap == 'last':
            self.levels = self._last_block_levels()
        # whole-model checkpoints in the official layout (the published
        # Semantic FPN / Mask R-CNN files) convert as they load
        register_conversion_hook(self)
        self._freeze_stages()

    def _last_block_levels(self):
        """``levels`` of ``tap='last'``: level ``i`` in 1..3 also runs the
        first block of ``stages[i]`` (the last block at its resolution), which
        level ``i + 1`` then does not."""
        levels = {0: ('stem.0', ), 1: ('stem.1', 'stages.0')}
        for i in range(1, len(self.stages)):
            levels[i] += (f'stages.{i}.0', )
            levels[i + 1] = tuple(f'stages.{i}.{j}'
                                  for j in range(1, len(self.stages[i])))
        return levels

    def init_weights(self):
        super().init_weights()
        if self.pretrained_checkpoint is None:
            # ConvModule.init_weights resets BN weights to 1: restore the
            # official zero init of each FFN's last BN (residual starts as
            # the identity).
            for m in self.modules():
                if isinstance(m, ChannelMixer):
                    m.zero_init_last_norm()

    def convert_checkpoint(self, state_dict):
        return convert_repvit(state_dict)

    def load_pretrained(self, filename):
        if self.deploy:
            checkpoint = load_checkpoint_file(filename, map_location='cpu')
            state_dict = convert_repvit(unwrap_state_dict(checkpoint))
            if not is_deploy_state_dict(state_dict):
                # training-form weights into a deploy model: load them into
                # a training-form twin, fold it and copy the result
                twin = RepViT(**self._build_args)
                result = twin.load_pretrained(filename)
                twin.switch_to_deploy()
                self.load_state_dict(twin.state_dict())
                return result
        return super().load_pretrained(filename)

    @torch.no_grad()
    def switch_to_deploy(self):
        """Fold the model in place into its deploy form (same outputs in
        eval mode, fewer parameters and modules); idempotent."""
        if self.deploy:
            return
        for i in range(len(self.stem)):
            self.stem[i] = fuse_conv_bn(self.stem[i])
        for stage in self.stages:
            for block in stage:
                block.switch_to_deploy()
        self.deploy = True
        self._freeze_stages()


# -- checkpoint conversion ----------------------------------------------------
_CLASSIFIER_PREFIXES = ('classifier.', 'head.')

# official stem ``features.0`` = Sequential(Conv2d_BN, GELU, Conv2d_BN)
_OFFICIAL_STEM = (('0.c.', 'stem.0.conv.'), ('0.bn.', 'stem.0.bn.'),
                  ('2.c.', 'stem.1.conv.'), ('2.bn.', 'stem.1.bn.'))
# official stride-1 block: token_mixer = (RepVGGDW, SE | Identity),
# channel_mixer = Residual(Sequential(Conv2d_BN, GELU, Conv2d_BN))
_OFFICIAL_BLOCK = (
    ('token_mixer.0.conv.c.', 'token_mixer.conv.conv.'),
    ('token_mixer.0.conv.bn.', 'token_mixer.conv.bn.'),
    ('token_mixer.0.conv1.', 'token_mixer.conv1.'),
    ('token_mixer.0.bn.', 'token_mixer.bn.'),
    ('token_mixer.1.fc1.', 'se.conv1.conv.'),
    ('token_mixer.1.fc2.', 'se.conv2.conv.'),
    ('channel_mixer.m.0.c.', 'channel_mixer.0.conv.'),
    ('channel_mixer.m.0.bn.', 'channel_mixer.0.bn.'),
    ('channel_mixer.m.2.c.', 'channel_mixer.1.conv.'),
    ('channel_mixer.m.2.bn.', 'channel_mixer.1.bn.'),
)
# official stride-2 block: token_mixer = (Conv2d_BN dw, SE | Identity,
# Conv2d_BN 1x1), channel_mixer as above
_OFFICIAL_DOWNSAMPLE = (
    ('token_mixer.0.c.', 'spatial_downsample.conv.'),
    ('token_mixer.0.bn.', 'spatial_downsample.bn.'),
    ('token_mixer.1.fc1.', 'se.conv1.conv.'),
    ('token_mixer.1.fc2.', 'se.conv2.conv.'),
    ('token_mixer.2.c.', 'channel_downsample.conv.'),
    ('token_mixer.2.bn.', 'channel_downsample.bn.'),
) + _OFFICIAL_BLOCK[-4:]
_TIMM_STEM = (('conv1.c.', 'stem.0.conv.'), ('conv1.bn.', 'stem.0.bn.'),
              ('conv2.c.', 'stem.1.conv.'), ('conv2.bn.', 'stem.1.bn.'))
_TIMM_MLP = (('conv1.c.', '0.conv.'), ('conv1.bn.', '0.bn.'),
             ('conv2.c.', '1.conv.'), ('conv2.bn.', '1.bn.'))
_TIMM_BLOCK = (
    ('token_mixer.conv.c.', 'token_mixer.conv.conv.'),
    ('se.fc1.', 'se.conv1.conv.'), ('se.fc2.', 'se.conv2.conv.'),
) + tuple((f'channel_mixer.{a}', f'channel_mixer.{b}') for a, b in _TIMM_MLP)
_TIMM_DOWNSAMPLE = (
    ('spatial_downsample.c.', 'spatial_downsample.conv.'),
    ('channel_downsample.c.', 'channel_downsample.conv.'),
) + tuple((f'ffn.{a}', f'channel_mixer.{b}') for a, b in _TIMM_MLP)


def _rename(key, renames):
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def checkpoint_layout(state_dict):
    """'official' (THU-MIG ``features.*``), 'timm' (``stem.conv1.*``,
    ``stages.*.blocks.*``) or 'mmlightvit'."""
    if any(k.startswith('features.') for k in state_dict):
        return 'official'
    if any(k.startswith('stem.conv1.') or re.match(
            r'stages\.\d+\.(blocks|downsample)\.', k) for k in state_dict):
        return 'timm'
    return 'mmlightvit'


def _convert_official(state_dict):
    # stride-2 blocks own ``token_mixer.0.c`` (stride-1: token_mixer.0.conv.c)
    blocks = sorted({int(k.split('.')[1]) for k in state_dict
                     if k.startswith('features.') and k.split('.')[1] != '0'})
    downsample = sorted(
        {int(m.group(1)) for k in state_dict
         if (m := re.match(r'features\.(\d+)\.token_mixer\.0\.c\.', k))})
    # stage i > 0 starts one block before its downsampling block
    starts = [blocks[0] if blocks else 1] + [d - 1 for d in downsample]
    converted = OrderedDict()
    for key, value in state_dict.items():
        m = re.match(r'features\.(\d+)\.(.*)', key)
        if m is None:
            converted[key] = value
            continue
        index, rest = int(m.group(1)), m.group(2)
        if index == 0:
            converted[_rename(rest, _OFFICIAL_STEM)] = value
            continue
        stage = sum(index >= s for s in starts) - 1
        renames = _OFFICIAL_DOWNSAMPLE if index in downsample \
            else _OFFICIAL_BLOCK
        prefix = f'stages.{stage}.{index - starts[stage]}.'
        converted[prefix + _rename(rest, renames)] = value
    return converted


def _convert_timm(state_dict):
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('stem.'):
            key = _rename(key[len('stem.'):], _TIMM_STEM)
        elif m := re.match(r'stages\.(\d+)\.blocks\.(\d+)\.(.*)', key):
            i, j = int(m.group(1)), int(m.group(2))
            j += 2 if i > 0 else 0  # after pre_block and downsample
            key = f'stages.{i}.{j}.{_rename(m.group(3), _TIMM_BLOCK)}'
        elif m := re.match(r'stages\.(\d+)\.downsample\.pre_block\.(.*)', key):
            key = f'stages.{m.group(1)}.0.{_rename(m.group(2), _TIMM_BLOCK)}'
        elif m := re.match(r'stages\.(\d+)\.downsample\.(.*)', key):
            rest = _rename(m.group(2), _TIMM_DOWNSAMPLE)
            key = f'stages.{m.group(1)}.1.{rest}'
        converted[key] = value
    return converted


def convert_repvit(state_dict):
    """Official (THU-MIG/RepViT) or timm RepViT state_dict -> :class:`RepViT`
    keys, auto-detected; drops the classifier heads (``classifier.*`` /
    ``head.*``, distillation head included). Converted keys pass through."""
    state_dict = OrderedDict(
        (k, v) for k, v in state_dict.items()
        if not k.startswith(_CLASSIFIER_PREFIXES))
    layout = checkpoint_layout(state_dict)
    if layout == 'official':
        return _convert_official(state_dict)
    if layout == 'timm':
        return _convert_timm(state_dict)
    return state_dict


def is_deploy_state_dict(state_dict):
    """Whether converted keys are of the re-parameterised form."""
    return any('.reparam_conv.' in k for k in state_dict)


def infer_arch(state_dict):
    """The arch of converted keys (``None`` if no arch matches)."""
    stage_blocks = {}
    for key in state_dict:
        if m := re.match(r'stages\.(\d+)\.(\d+)\.', key):
            i, j = int(m.group(1)), int(m.group(2))
            stage_blocks[i] = max(stage_blocks.get(i, 0), j + 1)
    if sorted(stage_blocks) != [0, 1, 2, 3]:
        return None
    depths = tuple(n - (2 if i else 0)
                   for i, n in sorted(stage_blocks.items()))
    widths = []
    for i in range(4):
        last = f'stages.{i}.{stage_blocks[i] - 1}.channel_mixer.1.conv.weight'
        if last not in state_dict:
            return None
        widths.append(state_dict[last].shape[0])
    for arch, setting in RepViT.arch_settings.items():
        if setting == dict(widths=tuple(widths), depths=depths):
            return arch
    return None

