"""Dataset helpers: procedural toy datasets in the real layouts, and a check
that a config's dataset folders exist (with a message saying how to get them).

The datasets themselves are mmseg's / mmdet's own classes; ``transforms``
registers transforms that refuse (or skip) broken samples with the file name.
"""
from . import transforms  # noqa: F401  (registers the checking transforms)
from .checks import check_dataset_folders
from .toy import ADE20K_TOY_CLASSES, make_toy_ade20k, make_toy_coco

__all__ = ['ADE20K_TOY_CLASSES', 'check_dataset_folders', 'make_toy_ade20k',
           'make_toy_coco']
