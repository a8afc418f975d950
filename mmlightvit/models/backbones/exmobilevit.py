"""ExMobileViT: `Lightweight Classifier Extension for Mobile Vision Transformer
<https://arxiv.org/abs/2309.01310>`_ (Yang, Kwon, Kim, 2023) on top of
:class:`~mmlightvit.models.backbones.mobilevit.MobileViT` (MobileViT-S).

The paper's extension is a *classifier*: it reuses the outputs of the early
attention stages through ExShortcuts in the final Linear layer. So the split
is

* :class:`ExMobileViT` (this module, a backbone): MobileViT-S with the
  variant's final 1x1 conv (``final_conv=True``: on output index 4), for
  classification and dense prediction alike, plus the dense ``ex_context``
  extension of this project;
* :class:`~mmlightvit.models.heads.ExMobileViTClsHead` (an mmpretrain head):
  the ExShortcuts and the extended Linear classifier, fed with the backbone's
  multi-scale outputs ``(layer3, layer4, final conv)`` (``out_indices=(2, 3,
  4)``, ``final_conv=True``).

Both build their ExShortcuts with :func:`build_ex_shortcuts` (same module
names), so a classification checkpoint's ``head.ex_shortcuts.*`` load into an
``ex_context=True`` backbone's ``ex_shortcuts.*``.
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS

from ..checkpoint import select_prefix
from .mobilevit import MobileViT

# MobileViT-S levels the ExShortcuts read: layer3 (96 ch, stride 8) and
# layer4 (128 ch, stride 16), the two early attention stages.
EX_LEVELS = (2, 3)
EX_IN_CHANNELS = (96, 128)


def build_ex_shortcuts(ex_channels, in_channels=EX_IN_CHANNELS,
                       norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU')):
    """The ExShortcuts: one ``1x1 conv (no bias) -> norm -> act`` per early
    level (the authors' ``conv_1x1_bn``: BN + SiLU), as a ``ModuleList`` of
    ``ConvModule`` (keys ``<i>.conv.weight``, ``<i>.bn.*``)."""
    return nn.ModuleList([
        ConvModule(c_in, c_out, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        for c_in, c_out in zip(in_channels, ex_channels)
    ])


@MODELS.register_module()
class ExMobileViT(MobileViT):
    """ExMobileViT backbone: MobileViT-S with the variant's final 1x1 conv.

    The paper puts an *ExShortcut* (1x1 conv + BN + SiLU to ``rho`` times the
    stage's channels, then global average pooling) on the outputs of
    ``layer3`` (96 ch) and ``layer4`` (128 ch), and concatenates their pooled
    vectors with the pooled final 1x1 conv after ``layer5`` (160 ch, ``rho``
    = its expansion) into the extended Linear classifier. Variants are named
    by the classifier input width:

    - '576': rho = 1/3, 1/2, 3 -> 32 + 64 + 480 = 576
    - '640': rho = 1/3, 1, 3 -> 32 + 128 + 480 = 640
    - '928': rho = 4/3, 5/4, 4 -> 128 + 160 + 640 = 928

    MobileViT-S itself is 0 + 0 + 640 = 640 (final conv 160 -> 640).

    The ExShortcuts and the Linear layer are the classifier:
    :class:`~mmlightvit.models.heads.ExMobileViTClsHead`, which takes this
    backbone's outputs with ``out_indices=(2, 3, 4)`` and
    ``final_conv=True``. The backbone differs from :class:`MobileViT` ('s')
    only in the width of the final conv (built only with ``final_conv``),
    so the dense backbone *is* MobileViT-S and loads MobileViT-S checkpoints
    as they are.

    ``ex_context=True`` (this project's extension of the paper to dense
    prediction, which the paper does not do) builds ExShortcuts here: their
    two pooled vectors (``sum(ex_channels)`` channels) are broadcast
    spatially and concatenated along channels to the stride-32 output (index
    4, which must be requested), so decode heads see the early-stage
    context; ``out_channels[4]`` grows accordingly. Loading a checkpoint of
    the ExMobileViT classifier (mmpretrain ``backbone.*`` / ``head.*`` keys)
    fills them from the classifier's ``head.ex_shortcuts.*``.

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
    (ExShortcuts +11,456 / +19,776 / +33,344) the classifiers have 5,500,168
    / 5,572,488 / 5,899,976 parameters.

    Args:
        arch (str): '576', '640' or '928' (also 'ExMobileViT-928' etc.).
        ex_context (bool): Append the ExShortcut context to index 4.
        **kwargs: The arguments of :class:`MobileViT` (``frozen_stages``
            never freezes the ExShortcuts; ``final_channels`` defaults to
            the variant's).
    """
    # Per variant (named by the classifier input width): MobileViT-S with
    # the ExShortcut widths on layer3 / layer4 and the width of the final
    # 1x1 conv, from the authors' EmPasLab/ExMobileVIT
    # models/ExMobileViT_{576,640,928}.py.
    arch_settings = {
        arch: dict(MobileViT.arch_settings['s'], ex_channels=ex_channels,
                   final_channels=final_channels)
        for arch, ex_channels, final_channels in (
            ('576', (32, 64), 480), ('640', (32, 128), 480),
            ('928', (128, 160), 640))
    }
    arch_aliases = {f'ExMobileViT-{arch}': arch for arch in arch_settings}
    # a classifier checkpoint's head.ex_shortcuts.* are needed: no automatic
    # 'backbone.' selection, convert_checkpoint does it
    checkpoint_prefix = None

    def __init__(self, arch='928', ex_context=False, **kwargs):
        super().__init__(arch=arch, **kwargs)
        if ex_context and 4 not in self.out_indices:
            raise ValueError(
                'ex_context appends the ExShortcut context to the stride-32 '
                'output, index 4, which must be among the out_indices; got '
                f'out_indices={self.out_indices}')
        self.ex_context = ex_context
        self.ex_channels = self.arch_settings[self.arch]['ex_channels']
        self.ex_shortcuts = build_ex_shortcuts(
            self.ex_channels, [self.out_channels[i] for i in EX_LEVELS],
            self.norm_cfg, self.act_cfg) if ex_context else None
        if ex_context:
            self.out_channels[4] += sum(self.ex_channels)

    def _unbuilt_prefixes(self):
        unbuilt = super()._unbuilt_prefixes()
        if self.ex_shortcuts is None:
            unbuilt += ('ex_shortcuts.', )
        return unbuilt

    def convert_checkpoint(self, state_dict):
        return super().convert_checkpoint(
            _classifier_to_backbone(state_dict))

    def ex_vectors(self, levels):
        """Pooled ExShortcut vectors ``(N, ex_channels[i])`` of layer3 and
        layer4, from the output of :meth:`forward_levels`."""
        return [shortcut(levels[level]).mean((2, 3))
                for shortcut, level in zip(self.ex_shortcuts, EX_LEVELS)]

    def forward(self, x):
        levels = self.forward_levels(x)
        outs = [levels[i] for i in self.out_indices]
        if self.ex_context:
            last = outs[-1]
            context = torch.cat(self.ex_vectors(levels), dim=1)
            context = context[:, :, None, None].expand(-1, -1,
                                                       *last.shape[2:])
            outs[-1] = torch.cat((last, context), dim=1)
        return tuple(outs)


def _classifier_to_backbone(state_dict):
    """A checkpoint of the ExMobileViT classifier (mmpretrain
    ``ImageClassifier``: ``backbone.*`` + ``head.*``) -> backbone keys, with
    the head's ExShortcuts (``head.ex_shortcuts.*``) as the backbone's
    ``ex_shortcuts.*``; other layouts unchanged."""
    backbone = select_prefix(state_dict, 'backbone.')
    if backbone is state_dict:
        return state_dict
    for key, value in state_dict.items():
        if key.startswith('head.ex_shortcuts.'):
            backbone[key[len('head.'):]] = value
    return backbone
