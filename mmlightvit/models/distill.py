"""Knowledge distillation from a frozen teacher for ImageNet classifiers.

RepViT's published ImageNet models were trained with DeiT's hard
distillation: a RegNetY-16GF teacher (timm ``regnety_160``, DeiT's weights
``regnety_160-a5fe301d.pth``) labels every training batch, a second
classifier of the student learns those labels (alpha 0.5). Here the teacher
lives in :class:`DistilledImageClassifier`, the second classifier and the
loss in :class:`~mmlightvit.models.heads.PooledDistillClsHead`.
"""
import torch
from mmengine.logging import print_log
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS

from ..compat import load_checkpoint_file
from .checkpoint import unwrap_state_dict


class _Unregistered:
    """Holds a module outside its owner's module tree: not in its
    ``state_dict``, ``parameters()``, ``.to()``/``.train()`` or DDP wrapper;
    a deep copy (mmengine's EMA model) shares it."""

    def __init__(self, module=None):
        self.module = module

    def __deepcopy__(self, memo):
        return self


@MODELS.register_module()
class DistilledImageClassifier(ImageClassifier):
    """An ``ImageClassifier`` trained with a frozen teacher: the teacher sees
    the batch the student sees (after the data preprocessor and batch
    augments such as mixup / cutmix) and its logits go to the head's loss
    (:class:`~mmlightvit.models.heads.PooledDistillClsHead`).

    The teacher is a timm model, built and loaded from its checkpoint when
    training starts (:meth:`init_weights`, which mmengine's Runner calls
    before training; testing and inference never build it), always in eval
    mode without gradients, on the device of the inputs. It is not part of
    the student: not saved in its checkpoints, not optimised, not averaged by
    EMA.

    Args:
        teacher (dict): ``model`` (a timm model name, e.g. 'regnety_160'),
            ``checkpoint`` (path or URL of its weights: a state_dict, plain
            or under ``model`` / ``state_dict``, as DeiT's teachers); other
            keys go to ``timm.create_model`` (e.g. ``global_pool='avg'``).
            Its number of classes is the head's.
        **kwargs: As mmpretrain's ``ImageClassifier``.
    """

    def __init__(self, *args, teacher, **kwargs):
        super().__init__(*args, **kwargs)
        teacher = dict(teacher)
        missing = [k for k in ('model', 'checkpoint') if not teacher.get(k)]
        if missing:
            raise ValueError(
                'DistilledImageClassifier teacher needs '
                f'{" and ".join(missing)} (a timm model name and the path or '
                f'URL of its weights), got {teacher}')
        self.teacher_cfg = teacher
        self._teacher = _Unregistered()

    @property
    def teacher(self):
        """The teacher (``None`` until :meth:`build_teacher`)."""
        return self._teacher.module

    def init_weights(self):
        super().init_weights()
        self.build_teacher()

    def build_teacher(self):
        """Build the teacher and load its weights (once); returns it."""
        if self.teacher is not None:
            return self.teacher
        try:
            import timm
        except ImportError:
            raise ImportError(
                'the distillation teacher is a timm model: install timm '
                '(pip install -r requirements/runtime.txt)') from None
        cfg = dict(self.teacher_cfg)
        name, checkpoint = cfg.pop('model'), cfg.pop('checkpoint')
        teacher = timm.create_model(
            name, pretrained=False, num_classes=self.head.num_classes, **cfg)
        state_dict = unwrap_state_dict(
            load_checkpoint_file(checkpoint, map_location='cpu'))
        misfit = f'teacher checkpoint {checkpoint} does not fit timm ' \
            f'{name!r} with {self.head.num_classes} classes'
        try:
            result = teacher.load_state_dict(state_dict, strict=False)
        except RuntimeError as e:  # shapes
            raise ValueError(f'{misfit}: {str(e).splitlines()[-1].strip()}'
                             ) from None
        if result.missing_keys or result.unexpected_keys:
            raise ValueError(
                f'{misfit}: {len(result.missing_keys)} missing keys (e.g. '
                f'{result.missing_keys[:2]}), {len(result.unexpected_keys)} '
                f'unexpected (e.g. {result.unexpected_keys[:2]})')
        self._teacher.module = teacher.requires_grad_(False).eval()
        print_log(f'distillation teacher: timm {name} from {checkpoint}',
                  logger='current')
        return teacher

    def loss(self, inputs, data_samples):
        feats = self.extract_feat(inputs)
        teacher = self.build_teacher()
        if next(teacher.parameters()).device != inputs.device:
            teacher.to(inputs.device)
        with torch.no_grad():
            teacher_logits = teacher(inputs)
        return self.head.loss(feats, data_samples,
                              teacher_logits=teacher_logits)
