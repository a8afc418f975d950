"""Dataset helpers: procedural toy datasets in the real layouts, and the
checks of a config's data (folders, COCO annotation files, samples).

The datasets themselves are mmseg's / mmdet's own classes; ``transforms``
registers transforms that refuse (or skip, or drop from the metrics) broken
samples with the file name, ``evaluation`` the evaluator that drops them.
"""
from . import evaluation  # noqa: F401  (registers DropBadSamplesEvaluator)
from . import transforms  # noqa: F401  (registers the checking transforms)
from . import folder, yolo  # noqa: F401  (FolderSegDataset, YOLODataset)
from . import samplers  # noqa: F401  (VariableBatchSampler & its crop)
from . import cvnets_transforms  # noqa: F401  (ml-cvnets' augmentations)
from .checks import check_dataset_folders, dataset_classes
from .coco import check_coco_annotations
from .pipelines import prepare_sample_checks
from .toy import ADE20K_TOY_CLASSES, make_toy_ade20k, make_toy_coco

__all__ = ['ADE20K_TOY_CLASSES', 'check_coco_annotations',
           'check_dataset_folders', 'dataset_classes', 'make_toy_ade20k',
           'make_toy_coco', 'prepare_sample_checks']
