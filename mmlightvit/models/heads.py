"""Classification heads of the official models, as mmpretrain heads.

Registered in mmpretrain's ``MODELS`` (they are mmpretrain ``ClsHead``s:
losses, top-k, ``DataSample`` predictions), used by the ImageNet configs with
``ImageClassifier`` and no neck; the pooling is part of the head because
EMO normalises the feature map *before* pooling.

* EMO: final norm (LayerNorm over channels, the last stage's norm) ->
  global mean -> Linear: ``PooledLinearClsHead(pre_norm_cfg=LN2d)``.
* RepViT: global mean -> BatchNorm1d -> Linear (the official ``BN_Linear``
  ``classifier``): ``PooledLinearClsHead(post_norm_cfg=BN1d)``; with the
  distillation classifier ``classifier_dist`` it was published with:
  :class:`PooledDistillClsHead` (trained by
  :class:`~mmlightvit.models.distill.DistilledImageClassifier`).
* MobileViT: the backbone's final 1x1 conv (``final_conv=True``, on its
  output index 4) -> global mean -> dropout -> Linear:
  ``PooledLinearClsHead(dropout_rate=0.1)``.
* ExMobileViT: :class:`ExMobileViTClsHead`, the ExShortcuts and the extended
  Linear layer over the backbone's layer3 / layer4 / final-conv outputs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.models.utils import build_norm_layer
from mmpretrain.registry import MODELS

from .backbones.exmobilevit import (EX_IN_CHANNELS, ExMobileViT,
                                    build_ex_shortcuts)

# Linear layers of all four official classifiers: truncated normal, std .02.
_LINEAR_INIT = dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)


@MODELS.register_module()
class PooledLinearClsHead(ClsHead):
    """``[norm] -> global average pooling -> [norm] -> [dropout] -> Linear``
    on the last backbone output (``(N, C, H, W)``).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the last backbone output.
        pre_norm_cfg (dict | None): Norm of the feature map before pooling
            (EMO: ``dict(type='LN2d', eps=1e-6)``); None = none.
        post_norm_cfg (dict | None): Norm of the pooled vector (RepViT:
            ``dict(type='BN1d')``); None = none.
        dropout_rate (float): Dropout before the Linear layer (MobileViT:
            0.1).
        init_cfg (dict): Linear weights truncated-normal (std 0.02), bias 0.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of mmpretrain's
            ``ClsHead``.
    """

    def __init__(self,
                 num_classes,
                 in_channels,
                 pre_norm_cfg=None,
                 post_norm_cfg=None,
                 dropout_rate=0.,
                 init_cfg=_LINEAR_INIT,
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(
                f'num_classes={num_classes} must be a positive integer')
        self.num_classes = num_classes
        self.in_channels = in_channels
        # mmpretrain's registry, whatever the default scope: 'LN2d' is its
        # LayerNorm2d (the class EMO's stages 3-4 use)
        self.pre_norm = build_norm_layer(pre_norm_cfg, in_channels) \
            if pre_norm_cfg else None
        self.post_norm = build_norm_layer(post_norm_cfg, in_channels) \
            if post_norm_cfg else None
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else None
        self.fc = nn.Linear(in_channels, num_classes)

    def pool(self, feats):
        """The pooled vector of the last output (``pre_norm`` first)."""
        x = feats[-1]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} takes an (N, {self.in_channels}, H, '
                f'W) feature map, got shape {tuple(x.shape)}')
        if self.pre_norm is not None:
            x = self.pre_norm(x)
        return x.mean((2, 3))

    def pre_logits(self, feats):
        """The pooled (and normalised) vector of the last output."""
        x = self.pool(feats)
        return self.post_norm(x) if self.post_norm is not None else x

    def classify(self, x, post_norm, fc):
        """``post_norm -> dropout -> fc`` of a pooled vector."""
        if post_norm is not None:
            x = post_norm(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return fc(x)

    def forward(self, feats):
        return self.classify(self.pool(feats), self.post_norm, self.fc)


@MODELS.register_module()
class PooledDistillClsHead(PooledLinearClsHead):
    """:class:`PooledLinearClsHead` with a second classifier trained from a
    teacher: DeiT's hard distillation, as RepViT's ImageNet models were
    trained and published (official ``Classfier`` with ``classifier`` and
    ``classifier_dist``, each a ``BN_Linear``).

    The pooled vector goes through two ``[post_norm] -> [dropout] ->
    Linear`` classifiers (``post_norm``/``fc`` and ``dist_post_norm``/
    ``dist_fc``). Training (:meth:`loss`, given the teacher's logits by
    :class:`~mmlightvit.models.distill.DistilledImageClassifier`)::

        loss = (1 - alpha) * loss(cls, labels)              ('loss')
             + alpha * CE(dist, argmax(teacher logits))     ('loss_distill')

    where ``loss`` is the head's ``loss`` (label smoothing, mixup targets);
    inference: the mean of the two classifiers' logits (the official eval).

    Args:
        distill_alpha (float): ``alpha`` (DeiT's and RepViT's 0.5).
        **kwargs: As :class:`PooledLinearClsHead`.
    """

    def __init__(self, num_classes, in_channels, distill_alpha=0.5,
                 post_norm_cfg=None, **kwargs):
        super().__init__(num_classes, in_channels,
                         post_norm_cfg=post_norm_cfg, **kwargs)
        if not 0 <= distill_alpha <= 1:
            raise ValueError(
                f'distill_alpha must be in [0, 1], got {distill_alpha!r}')
        self.distill_alpha = distill_alpha
        self.dist_post_norm = build_norm_layer(post_norm_cfg, in_channels) \
            if post_norm_cfg else None
        self.dist_fc = nn.Linear(in_channels, num_classes)

    def forward_both(self, feats):
        """``(class logits, distillation logits)``."""
        x = self.pool(feats)
        return (self.classify(x, self.post_norm, self.fc),
                self.classify(x, self.dist_post_norm, self.dist_fc))

    def forward(self, feats):
        cls_score, dist_score = self.forward_both(feats)
        return (cls_score + dist_score) / 2

    def loss(self, feats, data_samples, teacher_logits=None, **kwargs):
        if teacher_logits is None:
            raise ValueError(
                'PooledDistillClsHead trains from a teacher: use it in a '
                "DistilledImageClassifier (model type), which gives it the "
                "teacher's logits")
        cls_score, dist_score = self.forward_both(feats)
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        losses['loss'] = (1 - self.distill_alpha) * losses['loss']
        losses['loss_distill'] = self.distill_alpha * F.cross_entropy(
            dist_score, teacher_logits.argmax(dim=1))
        return losses


@MODELS.register_module()
class ExMobileViTClsHead(ClsHead):
    """The ExMobileViT classifier: ExShortcuts + extended Linear layer.

    Takes the multi-scale outputs of
    :class:`~mmlightvit.models.backbones.ExMobileViT` with
    ``out_indices=(2, 3, 4)`` and ``final_conv=True``: ``layer3`` (96 ch),
    ``layer4`` (128 ch) and the final 1x1 conv on index 4 (480 / 480 / 640
    ch for '576' / '640' / '928').
    Each early level goes through its ExShortcut (1x1 conv + BN + SiLU to
    ``ex_channels``) and global average pooling; the pooled vectors are
    concatenated with the pooled final conv output (``int(arch)`` channels
    in all) and classified by one Linear layer, as in the paper. The
    ExShortcuts' key names (``head.ex_shortcuts.*``) are those of the
    backbone's ``ex_context`` ExShortcuts, which load them.

    With the backbone, the classifier has exactly 5,500,168 / 5,572,488 /
    5,899,976 parameters for '576' / '640' / '928' (1000 classes; the paper
    counts them without the ExShortcut convs, see ``ExMobileViT``).

    Args:
        num_classes (int): Number of classes.
        arch (str): '576', '640' or '928' (also 'ExMobileViT-928').
        dropout_rate (float): Dropout before the Linear layer; the authors'
            code has none.
        norm_cfg (dict): Norm of the ExShortcuts.
        act_cfg (dict): Activation of the ExShortcuts (SiLU, as MobileViT).
        init_cfg (dict): Linear weights truncated-normal (std 0.02, the
            authors' ``linear_init``), bias 0.
        **kwargs: ``loss``, ``topk``, ``cal_acc`` of mmpretrain's
            ``ClsHead``.
    """

    def __init__(self,
                 num_classes,
                 arch='928',
                 dropout_rate=0.,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='SiLU'),
                 init_cfg=_LINEAR_INIT,
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(
                f'num_classes={num_classes} must be a positive integer')
        self.arch = ExMobileViT.resolve_arch(arch)
        setting = ExMobileViT.arch_settings[self.arch]
        self.num_classes = num_classes
        self.in_channels = (*EX_IN_CHANNELS, setting['final_channels'])
        self.ex_channels = setting['ex_channels']
        self.cls_channels = sum(self.ex_channels) + setting['final_channels']
        self.ex_shortcuts = build_ex_shortcuts(
            self.ex_channels, EX_IN_CHANNELS, norm_cfg, act_cfg)
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else None
        self.fc = nn.Linear(self.cls_channels, num_classes)

    def pre_logits(self, feats):
        """``concat(pool(ExShortcut(layer3)), pool(ExShortcut(layer4)),
        pool(final conv))``, ``(N, int(arch))``."""
        feats = tuple(feats)[-3:]
        channels = tuple(f.shape[1] if f.dim() == 4 else None for f in feats)
        if len(feats) != 3 or channels != self.in_channels:
            raise ValueError(
                f'ExMobileViTClsHead({self.arch!r}) takes the layer3, layer4 '
                f'and final-conv outputs of ExMobileViT({self.arch!r}) '
                f'(out_indices=(2, 3, 4), final_conv=True), with '
                f'{self.in_channels} channels; got {channels}')
        *early, final = feats
        vectors = [shortcut(x).mean((2, 3))
                   for shortcut, x in zip(self.ex_shortcuts, early)]
        return torch.cat((*vectors, final.mean((2, 3))), dim=1)

    def forward(self, feats):
        x = self.pre_logits(feats)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)
