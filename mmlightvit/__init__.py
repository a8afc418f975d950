"""mmlightvit: lightweight ViT/CNN backbones on the OpenMMLab 2.0 stack.

Importing the package (configs do it through ``custom_imports``) applies the
compatibility fixes in :mod:`mmlightvit.compat` and registers every model in
MMEngine's root ``MODELS`` registry, where mmseg and mmdet both find them.
"""
from . import compat  # noqa: F401  (applies the fixes on import)
from . import datasets  # noqa: F401  (registers the checking transforms)
from . import engine  # noqa: F401  (registers the resumable loop/sampler)
from . import logging_filters  # noqa: F401  (quiet logs, see the module)
from . import models  # noqa: F401  (registers the backbones)
from . import optim  # noqa: F401  (registers AGCOptimWrapper)
from . import amp  # noqa: F401  (registers the CPU bf16 AMP wrappers)
from . import visualization  # noqa: F401  (registers PaintPredictionsHook)

__version__ = '0.1.0'
