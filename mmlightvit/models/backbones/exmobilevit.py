"""ExMobileViT: `Lightweight Classifier Extension for Mobile Vision Transformer
<https://arxiv.org/abs/2309.01310>`_ (Yang, Kwon, Kim, 2023) on top of
:class:`~mmlightvit.models.backbones.mobilevit.MobileViT` (MobileViT-S).
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS

from .mobilevit import MobileViT


@MODELS.register_module()
class ExMobileViT(MobileViT):
    """ExMobileViT backbone: MobileViT-S plus ExShortcuts.

    The paper reuses the outputs of the early attention (MobileViT) stages in
    the classifier: an *ExShortcut* (1x1 conv + BN + SiLU to ``rho`` times
    the stage's channels, then global average pooling) on the outputs of
    ``layer3`` (96 ch, stride 8) and ``layer4`` (128 ch, stride 16), whose
    pooled vectors are concatenated with the pooled final 1x1 conv after
    ``layer5`` (160 ch, ``rho`` = its expansion) into an extended classifier
    (one Linear layer). Variants are named by the classifier input width:

    - '576': rho = 1/3, 1/2, 3 -> 32 + 64 + 480 = 576
    - '640': rho = 1/3, 1, 3 -> 32 + 128 + 480 = 640
    - '928': rho = 4/3, 5/4, 4 -> 128 + 160 + 640 = 928

    MobileViT-S itself is 0 + 0 + 640 = 640 (final conv 160 -> 640).

    As a dense backbone (default) it returns MobileViT-S's level features
    (``out_indices`` as :class:`MobileViT`, 5 = the variant's final conv).
    Two extra outputs:

    - ``ex_context=True`` (this project's extension of the paper for dense
      prediction, which the paper does not do): the two pooled ExShortcut
      vectors (``sum(ex_channels[:2])`` channels) are broadcast spatially and
      concatenated along channels to the highest requested level (which must
      be 4 or 5), so decode heads see the early-stage context;
      ``out_channels`` of that level grows accordingly.
    - ``out_ex=True``: one more output, last, of shape ``(N, cls_channels)``:
      the extended classifier's input ``concat(pool(ExShortcut(layer3)),
      pool(ExShortcut(layer4)), pool(final_conv(layer5)))``, widths
      ``self.ex_channels``. With ``out_indices=()`` the backbone returns just
      ``(vector, )``, so a plain ``LinearClsHead(in_channels=cls_channels)``
      (no neck) is the paper's classifier.

    The ExShortcuts and the final conv are only built when used
    (``ex_context`` / ``out_ex`` / index 5), so the plain dense backbone is
    MobileViT-S and loads MobileViT-S checkpoints as they are (unbuilt
    modules' keys are ignored when loading).

    Notes on the paper and the authors' code (EmPasLab/ExMobileVIT): their
    MobileViT-S is a re-implementation (lucidrains style: BN + SiLU after the
    block's 1x1 conv, 4 heads x 8 dims attention, FFN ratios 2/4/4, a
    bias-free FC), not ml-cvnets', so its weights do not load here; this
    class is built on the official MobileViT-S. Their "average pooling" is
    ``AvgPool2d(25)`` / ``AvgPool2d(9)``: windows at the top-left of the
    32x32 / 16x16 maps of a 256x256 input; here it is the global average
    pooling the paper describes. The paper's parameter counts
    (ExMobileViT-640: 5.553M, ExMobileViT-928: +5.16% over MobileViT-S's
    5,578,632) are MobileViT-S + the change of the final conv + the change of
    the 1000-class Linear layer, i.e. without the ExShortcut convs: 5,488,712
    / 5,552,712 / 5,866,632 for 576 / 640 / 928; counted in full
    (ExShortcuts +11,456 / +19,776 / +33,344) the models have 5,500,168 /
    5,572,488 / 5,899,976.

    Args:
        arch (str): '576', '640' or '928' (also 'ExMobileViT-928' etc.).
        ex_context (bool): Append the ExShortcut context to the last level.
        out_ex (bool): Append the extended-classifier input vector.
        Others: as :class:`MobileViT` (``arch`` there is always 's';
            ``frozen_stages`` never freezes the ExShortcuts).
    """
    # ExShortcut widths on layer3/layer4 and final-conv width per variant
    # (the authors' EmPasLab/ExMobileVIT models/ExMobileViT_{576,640,928}.py).
    ex_arch_settings = {
        '576': dict(ex_channels=(32, 64), final_channels=480),
        '640': dict(ex_channels=(32, 128), final_channels=480),
        '928': dict(ex_channels=(128, 160), final_channels=640),
    }
    ex_levels = (2, 3)  # layer3, layer4: the early attention stages

    def __init__(self,
                 arch='928',
                 ex_context=False,
                 out_ex=False,
                 in_channels=3,
                 out_indices=(0, 1, 2, 3, 4),
                 frozen_stages=-1,
                 norm_eval=False,
                 drop_path_rate=0.,
                 norm_cfg=dict(type='BN'),
                 init_cfg=None):
        arch = str(arch)
        if arch.startswith('ExMobileViT-'):
            arch = arch[len('ExMobileViT-'):]
        if arch not in self.ex_arch_settings:
            raise ValueError(
                f'Unknown ExMobileViT arch {arch!r}; valid archs: '
                f'{", ".join(self.ex_arch_settings)}')
        out_indices = self._check_out_indices(out_indices, allow_empty=out_ex)
        if not out_indices and not out_ex:
            raise ValueError('out_indices must not be empty unless out_ex')
        if ex_context and (not out_indices or out_indices[-1] < 4):
            raise ValueError(
                'ex_context appends the ExShortcut context to the last '
                'output level, which must be 4 (layer5) or 5 (final conv); '
                f'got out_indices={out_indices}')
        setting = self.ex_arch_settings[arch]
        # set before MobileViT.__init__, which asks _with_final_conv()
        self.out_ex = out_ex
        self.ex_context = ex_context
        super().__init__(
            arch='s',
            in_channels=in_channels,
            out_indices=out_indices,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval,
            drop_path_rate=drop_path_rate,
            norm_cfg=norm_cfg,
            final_channels=setting['final_channels'],
            init_cfg=init_cfg)
        self.arch = arch
        self.ex_channels = (*setting['ex_channels'],
                            setting['final_channels'])
        self.cls_channels = sum(self.ex_channels)
        if out_ex or ex_context:
            self.ex_shortcuts = nn.ModuleList([
                ConvModule(self.out_channels[level], c, 1, norm_cfg=norm_cfg,
                           act_cfg=self.act_cfg)
                for level, c in zip(self.ex_levels, setting['ex_channels'])
            ])
        else:
            self.ex_shortcuts = None
        if ex_context:
            self.out_channels[out_indices[-1]] += sum(setting['ex_channels'])

    def _check_out_indices(self, out_indices, allow_empty=False):
        return super()._check_out_indices(out_indices, allow_empty=True)

    def _with_final_conv(self):
        return self.out_ex or super()._with_final_conv()

    def _unbuilt_prefixes(self):
        unbuilt = super()._unbuilt_prefixes()
        if self.ex_shortcuts is None:
            unbuilt += ('ex_shortcuts.', )
        return unbuilt

    def ex_vectors(self, levels):
        """Pooled ExShortcut vectors ``(N, ex_channels[i])`` of layer3 and
        layer4, from the output of :meth:`forward_levels`."""
        return [shortcut(levels[level]).mean((2, 3))
                for shortcut, level in zip(self.ex_shortcuts, self.ex_levels)]

    def forward(self, x):
        levels = self.forward_levels(x)
        outs = [levels[i] for i in self.out_indices]
        if not (self.ex_context or self.out_ex):
            return tuple(outs)
        ex = self.ex_vectors(levels)
        if self.ex_context:
            last = outs[-1]
            context = torch.cat(ex, dim=1)[:, :, None, None]
            context = context.expand(-1, -1, *last.shape[2:])
            outs[-1] = torch.cat((last, context), dim=1)
        if self.out_ex:
            outs.append(torch.cat((*ex, levels[5].mean((2, 3))), dim=1))
        return tuple(outs)
