"""The segmentation loss of mmseg's decode heads, in one pass without the
full-resolution logits.

mmseg's ``BaseDecodeHead.loss_by_feat`` resizes the logits ``(N, C, h, w)``
to the labels' size ``(H, W)`` (bilinear), then takes the softmax
cross-entropy and the pixel accuracy of that ``(N, C, H, W)`` tensor, and
autograd goes back through all of it. With ADE20K's 150 classes this is most
of a CPU training step of a light model: over half of the 0.61 s of the toy
demo's step (EMO-1M DeepLabv3, two heads, 8 x 128 x 128).

:func:`upsampled_cross_entropy` computes the same numbers a block of rows
at a time. Bilinear resizing is linear and separable: the resized logits of
one image are ``A_h x A_w^T`` (per class), with the interpolation matrices
taken from ``F.interpolate`` itself, so the gradient with respect to the
small logits is ``A_h^T (softmax - onehot) A_w``, found in the same pass.

:class:`FusedSegLossHook` (in every segmentation config's runtime) gives
it to each decode head whose loss is mmseg's plain one: a single
``CrossEntropyLoss`` (softmax, no class weights, mean over all pixels), no
pixel sampler, the base class's ``loss_by_feat``. The other heads keep
mmseg's path, and the log says which and why.
"""
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import CrossEntropyLoss

# resized logits held at once: about 4 MB of float32 (measured fastest here)
BLOCK_ELEMENTS = 2**20


def interpolation_matrix(size_in, size_out, align_corners, device=None):
    """``(size_out, size_in)``: row ``o`` holds the weights 1-d bilinear
    resizing (``F.interpolate``, the same ``align_corners``) gives to each
    input position for output position ``o``."""
    eye = torch.eye(size_in, device=device)[:, None, :, None]
    weights = F.interpolate(eye, size=(size_out, 1), mode='bilinear',
                            align_corners=align_corners)
    return weights[:, 0, :, 0].t().contiguous()


class _UpsampledCrossEntropy(torch.autograd.Function):

    @staticmethod
    def forward(ctx, logits, label, ignore_index, align_corners):
        n, c, h, w = logits.shape
        H, W = label.shape[-2:]
        wrong = label[((label < 0) | (label >= c)) & (label != ignore_index)]
        if wrong.numel():
            raise ValueError(
                f'label value {wrong.unique()[:5].tolist()} out of range: '
                f'the logits have {c} classes (0..{c - 1}, ignore_index '
                f'{ignore_index})')
        a_h = interpolation_matrix(h, H, align_corners, logits.device)
        a_w = interpolation_matrix(w, W, align_corners, logits.device)
        # (N, h, w * C): a row of the small logits, classes last
        x = logits.detach().float().permute(0, 2, 3, 1).reshape(n, h, w * c)
        grad = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        total = x.new_zeros(())
        correct = x.new_zeros((), dtype=torch.long)
        counted = x.new_zeros((), dtype=torch.long)  # pixels not ignored
        rows = max(1, BLOCK_ELEMENTS // (W * c))
        scale = 1.0 / label.numel()  # mmseg: the mean over all pixels
        for i in range(n):
            for start in range(0, H, rows):
                a = a_h[start:start + rows]
                up = torch.matmul(a_w, (a @ x[i]).view(-1, w, c))  # r, W, C
                lab = label[i, start:start + rows]
                valid = lab != ignore_index
                counted += valid.sum()
                target = torch.where(valid, lab, 0)[..., None]
                peak = up.amax(-1, keepdim=True)
                picked = up.gather(-1, target)
                # right where the label's logit is the largest (mmseg: top-1)
                correct += ((picked == peak)[..., 0] & valid).sum()
                up.sub_(peak).exp_()
                total_exp = up.sum(-1, keepdim=True)
                total += ((total_exp.log() + peak - picked)[..., 0]
                          * valid).sum()
                if grad is None:
                    continue
                # d(loss)/d(up) = (softmax - onehot) / pixels, 0 if ignored
                weight = valid[..., None] * scale
                up.mul_(weight / total_exp)
                up.scatter_add_(-1, target, -weight.to(up.dtype))
                grad[i].addmm_(a.t(), torch.matmul(a_w.t(), up).view(
                    -1, w * c))
        if grad is not None:
            ctx.save_for_backward(
                grad.view(n, h, w, c).permute(0, 3, 1, 2))
            ctx.dtype = logits.dtype
        accuracy = correct * 100.0 / counted.clamp(min=1)
        ctx.mark_non_differentiable(accuracy)
        return total * scale, accuracy

    @staticmethod
    def backward(ctx, grad_loss, grad_accuracy):
        grad, = ctx.saved_tensors
        return (grad * grad_loss).to(ctx.dtype), None, None, None


def upsampled_cross_entropy(logits, label, ignore_index=255,
                            align_corners=False):
    """``(loss, accuracy)`` of ``logits`` ``(N, C, h, w)`` bilinearly resized
    to ``label`` ``(N, H, W)``: mmseg's softmax cross-entropy (the mean over
    all ``N * H * W`` pixels, ignored ones counting 0) and pixel accuracy (%
    of the pixels not ignored), computed in float32 (also under autocast);
    the loss is differentiable with respect to ``logits``."""
    with torch.autocast(logits.device.type, enabled=False):
        return _UpsampledCrossEntropy.apply(logits, label, ignore_index,
                                            align_corners)


def fused_loss_by_feat(head, seg_logits, batch_data_samples):
    """``BaseDecodeHead.loss_by_feat`` through
    :func:`upsampled_cross_entropy` (for a head :func:`plain_loss` accepts):
    the same keys and values."""
    seg_label = head._stack_batch_gt(batch_data_samples).squeeze(1)
    loss_decode = _losses(head)[0]
    loss, accuracy = upsampled_cross_entropy(
        seg_logits, seg_label, head.ignore_index, head.align_corners)
    return {loss_decode.loss_name: loss_decode.loss_weight * loss,
            'acc_seg': accuracy}


def _losses(head):
    losses = head.loss_decode
    return list(losses) if isinstance(losses, nn.ModuleList) else [losses]


def plain_loss(head):
    """Why ``head`` cannot use :func:`fused_loss_by_feat` (a short reason),
    or None if it can."""
    if type(head).loss_by_feat is not BaseDecodeHead.loss_by_feat:
        return f'{type(head).__name__} has its own loss_by_feat'
    if head.sampler is not None:
        return 'a pixel sampler'
    losses = _losses(head)
    if len(losses) != 1 or type(losses[0]) is not CrossEntropyLoss:
        return 'losses ' + ', '.join(type(loss).__name__ for loss in losses)
    loss = losses[0]
    for name, plain in (('use_sigmoid', False), ('use_mask', False),
                        ('class_weight', None), ('avg_non_ignore', False),
                        ('reduction', 'mean')):
        if getattr(loss, name) != plain:
            return f'CrossEntropyLoss({name}={getattr(loss, name)!r})'
    return None


@HOOKS.register_module()
class FusedSegLossHook(Hook):
    """Before training, gives each decode head of the model whose loss is
    mmseg's plain cross-entropy :func:`fused_loss_by_feat` (same loss, same
    gradients, same accuracy; see the module docstring); logs one line."""

    priority = 'VERY_LOW'

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        fused, kept = [], []
        for name, head in model.named_modules():
            if not isinstance(head, BaseDecodeHead):
                continue
            reason = plain_loss(head)
            if reason is None:
                head.loss_by_feat = types.MethodType(fused_loss_by_feat, head)
                fused.append(name)
            else:
                kept.append(f'{name} ({reason})')
        if fused or kept:
            print_log('fused segmentation loss: ' + (', '.join(fused) or '-')
                      + ('; mmseg\'s loss kept for ' + ', '.join(kept)
                         if kept else ''), logger='current')
