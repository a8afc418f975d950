"""SSDLite's box head on mmdet 3.3.0. Imported by the detection configs
(``custom_imports`` of ``configs/_base_/default_runtime_det.py``), never by
``import mmlightvit``: segmentation and classification runs do not load
mmdet."""
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """mmdet's ``SSDHead`` that can predict on mmdet 3.3.0.

    ``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls``, which
    ``SSDHead`` (it computes its loss itself) never sets, so every prediction
    fails with "'SSDHead' object has no attribute 'loss_cls'"
    (open-mmlab/mmdetection issues #11063, #11780). Here ``loss_cls`` is
    None: no custom class channels, softmax scores, as before mmdet 3.3.
    Everything else is ``SSDHead``; checkpoints are interchangeable.
    """

    loss_cls = None
