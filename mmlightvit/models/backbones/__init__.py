from .base import BaseBackbone
from .emo import EMO
from .exmobilevit import ExMobileViT
from .mobilevit import MobileViT
from .repvit import RepViT

__all__ = ['BaseBackbone', 'EMO', 'ExMobileViT', 'MobileViT', 'RepViT']
