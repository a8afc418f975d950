"""Segment anything on this project's backbones.

SAM's prompt encoder, mask decoder, ``Sam``, ``SamPredictor`` and
``SamAutomaticMaskGenerator`` come from PyPI ``segment-anything``; the image
encoders (RepViT-SAM as published, EMO-SAM, MobileViT-SAM) are this
project's backbones at output stride 16 with SAM's neck. Importing this
package registers the encoder, the distillation model, dataset and metric
(configs: ``custom_imports=dict(imports=['mmlightvit', 'mmlightvit.sam'])``).
"""
from .build import (build_sam, convert_sam_state_dict, encoder_config,
                    load_sam, save_sam)
from .data import EmbeddingStore, SamDistillDataset, preprocess
from .distill import EmbeddingDistance, SamEncoderDistiller
from .encoder import FAMILIES, SamImageEncoder, keep_stride16
from .teacher import build_teacher

__all__ = ['FAMILIES', 'EmbeddingDistance', 'EmbeddingStore',
           'SamDistillDataset', 'SamEncoderDistiller', 'SamImageEncoder',
           'build_sam', 'build_teacher', 'convert_sam_state_dict',
           'encoder_config', 'keep_stride16', 'load_sam', 'preprocess',
           'save_sam']
