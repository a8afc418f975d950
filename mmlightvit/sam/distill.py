"""Decoupled distillation of a SAM image encoder (MobileSAM's recipe): the
student encoder regresses the teacher's image embeddings with an MSE loss;
SAM's prompt encoder and mask decoder are not trained and are taken from the
teacher afterwards (``tools/sam/evaluate.py --save-sam``).
"""
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import METRICS, MODELS


@MODELS.register_module()
class SamEncoderDistiller(BaseModel):
    """A student SAM image encoder trained on stored teacher embeddings.

    Batches are ``dict(inputs=Nx3xSxS, embedding=Nx256x(S/16)x(S/16))`` (see
    :class:`~mmlightvit.sam.data.SamDistillDataset`).

    Args:
        encoder (dict): The student, e.g. ``dict(type='SamImageEncoder',
            trunk=dict(type='RepViT', arch='m2_3', init_cfg=...))``.
        loss_weight (float): Weight of the MSE loss.
        data_preprocessor (dict | None): mmengine data preprocessor (the
            default moves the batch to the device).
        init_cfg (dict | None): mmengine init config.
    """

    def __init__(self, encoder, loss_weight=1.0, data_preprocessor=None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.encoder = MODELS.build(encoder)
        self.loss_weight = loss_weight

    def forward(self, inputs, embedding=None, img_path=None, mode='tensor'):
        """``mode='tensor'``: the student's embeddings; ``'loss'``:
        ``dict(loss_mse=...)``; ``'predict'``: per image ``dict(mse=,
        cosine=, img_path=)`` against the teacher's embedding."""
        pred = self.encoder(inputs)
        if mode == 'tensor':
            return pred
        if embedding is None:
            raise ValueError(f'mode={mode!r} needs the teacher embedding')
        pred, target = pred.float(), embedding.float()
        if mode == 'loss':
            return dict(loss_mse=self.loss_weight * F.mse_loss(pred, target))
        if mode == 'predict':
            mse = (pred - target).pow(2).flatten(1).mean(1)
            cosine = F.cosine_similarity(pred.flatten(1), target.flatten(1))
            paths = img_path or [None] * len(pred)
            return [dict(mse=m.item(), cosine=c.item(), img_path=p)
                    for m, c, p in zip(mse, cosine, paths)]
        raise ValueError(f'Invalid mode {mode!r}: tensor, loss or predict')


@METRICS.register_module()
class EmbeddingDistance(BaseMetric):
    """Mean squared error and mean cosine similarity of the student's
    embeddings to the teacher's (``distill/mse``, ``distill/cosine``)."""
    default_prefix = 'distill'

    def process(self, data_batch, data_samples):
        self.results.extend((s['mse'], s['cosine']) for s in data_samples)

    def compute_metrics(self, results):
        n = len(results)
        return dict(mse=sum(r[0] for r in results) / n,
                    cosine=sum(r[1] for r in results) / n)
