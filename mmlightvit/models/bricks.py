"""Small building blocks that mmcv does not provide."""
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.registry import MODELS


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (``weight``/``bias`` of
    shape ``(C,)``), buildable with ``build_norm_layer(dict(type='LN2d'), C)``.
    """

    def forward(self, x):
        x = F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight,
            self.bias, self.eps)
        return x.permute(0, 3, 1, 2).contiguous()


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation as timm's ``SqueezeExcite``: global mean, 1x1
    conv (bias) to ``round(channels * rd_ratio)``, act, 1x1 conv (bias),
    sigmoid gate. ``rd_channels`` (optional) overrides the reduced width."""

    def __init__(self, channels, rd_ratio=0.25, act_cfg=dict(type='ReLU'),
                 rd_channels=None):
        super().__init__()
        if rd_channels is None:
            rd_channels = round(channels * rd_ratio)
        self.conv_reduce = nn.Conv2d(channels, rd_channels, 1)
        self.act = build_activation_layer(act_cfg)
        self.conv_expand = nn.Conv2d(rd_channels, channels, 1)

    def forward(self, x):
        s = self.act(self.conv_reduce(x.mean((2, 3), keepdim=True)))
        return x * self.conv_expand(s).sigmoid()
