from .backbones import *  # noqa: F401,F403
from . import heads  # noqa: F401  (mmpretrain classification heads)
from . import distill  # noqa: F401  (DistilledImageClassifier)
from . import seg_heads  # noqa: F401  (DeepLabV3Head)
from . import seg_loss  # noqa: F401  (FusedSegLossHook)
