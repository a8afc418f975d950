"""SAM image encoders on this project's backbones.

:class:`SamImageEncoder` = a backbone ("trunk") whose last stage keeps the
stride at 16 + SAM's neck (``1x1 conv -> LayerNorm2d -> 3x3 conv ->
LayerNorm2d``, 256 channels), mapping a ``1x3xSxS`` pre-processed image to the
``1x256x(S/16)x(S/16)`` embedding SAM's prompt encoder and mask decoder
expect (64x64 at SAM's ``img_size`` 1024). This is RepViT-SAM's encoder
(THU-MIG/RepViT ``sam/``: RepViT-M2.3 whose last downsampling block keeps
stride 1, and this neck) and, with the same recipe, EMO-SAM and
MobileViT-SAM.

Stride 16 by module surgery: :func:`keep_stride16` sets the stride of the
trunk's last stride-2 convolution (the depthwise conv of the last downsampling
block in every family) to 1, as the published RepViT-SAM does. The trunk's
weights are unchanged, so its ImageNet checkpoints load as they are.
"""
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from mmpretrain.models.utils import LayerNorm2d

# The trunk of each family's SAM encoder. RepViT: the published RepViT-SAM
# (M2.3). EMO / MobileViT: our choice, the largest model of each family;
# EMO's attention window 16 covers 16x16 tokens of the 64x64 stride-16 map
# (EMO-5M's official downstream window at 512 px input).
FAMILIES = {
    'repvit': dict(type='RepViT', arch='m2_3'),
    'emo': dict(type='EMO', arch='5M', window_size=16),
    'mobilevit': dict(type='MobileViTBackbone', arch='s'),
}


def keep_stride16(trunk):
    """Set the stride of the last stride-2 ``nn.Conv2d`` of ``trunk`` (in
    module order, which is forward order in every backbone here) to 1, so
    that the last stage stays at the resolution of the one before (stride 16
    instead of 32). Returns that conv."""
    convs = [m for m in trunk.modules()
             if isinstance(m, nn.Conv2d) and tuple(m.stride) == (2, 2)]
    if not convs:
        raise ValueError(f'{type(trunk).__name__} has no stride-2 conv to '
                         'keep at stride 1')
    convs[-1].stride = (1, 1)
    return convs[-1]


@MODELS.register_module()
class SamImageEncoder(BaseModule):
    """A backbone at output stride 16 + SAM's neck.

    Args:
        trunk (dict | str): Config of the backbone (any of this project's:
            ``dict(type='RepViT', arch='m2_3')``, ...) or a family name of
            :data:`FAMILIES`. Its last output (the last stage) is used.
        img_size (int): Side of the square, padded input SAM feeds in (1024
            for SAM; ``SamPredictor`` resizes images to it).
        embed_dim (int): Channels of the embedding (SAM: 256).
        init_cfg (dict | None): mmengine init config of the whole encoder.
    """

    def __init__(self, trunk='repvit', img_size=1024, embed_dim=256,
                 init_cfg=None):
        super().__init__(init_cfg)
        if isinstance(trunk, str):
            if trunk not in FAMILIES:
                raise ValueError(f'Unknown SAM encoder family {trunk!r}; '
                                 f'valid: {", ".join(FAMILIES)}')
            trunk = FAMILIES[trunk]
        if img_size % 16:
            raise ValueError(f'img_size must be a multiple of 16, got '
                             f'{img_size}')
        self.img_size = img_size
        self.trunk = MODELS.build(trunk)
        keep_stride16(self.trunk)
        in_channels = self.trunk.out_channels[self.trunk.out_indices[-1]]
        ln = dict(type=LayerNorm2d, eps=1e-6)  # as SAM's LayerNorm2d
        self.neck = nn.Sequential(
            nn.Conv2d(in_channels, embed_dim, 1, bias=False),
            build_norm_layer(ln, embed_dim)[1],
            nn.Conv2d(embed_dim, embed_dim, 3, padding=1, bias=False),
            build_norm_layer(ln, embed_dim)[1])

    def forward(self, x):
        return self.neck(self.trunk(x)[-1])

    def switch_to_deploy(self):
        """Re-parameterise the trunk (RepViT) in place; a no-op for the
        families without a deploy form."""
        if hasattr(self.trunk, 'switch_to_deploy'):
            self.trunk.switch_to_deploy()
