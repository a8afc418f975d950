"""Segmentation heads of the authors' recipes that mmseg does not have.

* :class:`DeepLabV3Head`: DeepLabv3's ASPP as in its paper and in ml-cvnets
  (MobileViT's PASCAL VOC recipe): the five branches (1x1, three dilated
  3x3, image pooling) concatenated and projected by a **1x1** conv-BN-act,
  then dropout and the classifier. mmseg's ``ASPPHead`` projects with a 3x3
  conv instead (for 512 channels: 11.8M parameters instead of 1.3M).
"""
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import ASPPHead
from mmseg.registry import MODELS

__all__ = ['DeepLabV3Head']


@MODELS.register_module()
class DeepLabV3Head(ASPPHead):
    """mmseg's ``ASPPHead`` with the 1x1 projection of DeepLabv3 / ml-cvnets
    (``bottleneck``: ``(len(dilations) + 1) * channels -> channels``).

    Args: as mmseg's ``ASPPHead`` (``dilations=(1, 12, 24, 36)``: the 1x1
        branch and ml-cvnets' rates 12/24/36).
    """

    def __init__(self, dilations=(1, 6, 12, 18), **kwargs):
        super().__init__(dilations=dilations, **kwargs)
        self.bottleneck = ConvModule(
            (len(dilations) + 1) * self.channels, self.channels, 1,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
