"""mmlightvit.models.seg_loss: the fused segmentation loss gives mmseg's
loss, accuracy and gradients (function and whole segmentor), is used only
for heads with mmseg's plain cross-entropy, and every segmentation config
turns it on."""
import copy
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmseg.models.losses import CrossEntropyLoss, accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS

import mmlightvit  # noqa: F401  (registers the models)
from mmlightvit.apis.model import (build_model, load_model_config,
                                   loss_step, random_seg_batch)
from mmlightvit.models import seg_loss
from mmlightvit.models.seg_loss import (FusedSegLossHook, plain_loss,
                                        upsampled_cross_entropy)
from helpers import ROOT

SEG_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


def mmseg_loss(logits, label, ignore_index, align_corners):
    """What BaseDecodeHead.loss_by_feat computes, with mmseg's functions."""
    up = resize(logits, size=label.shape[-2:], mode='bilinear',
                align_corners=align_corners)
    loss = CrossEntropyLoss()(up, label, ignore_index=ignore_index)
    return loss, accuracy(up, label, ignore_index=ignore_index)


@pytest.mark.parametrize('small,size,align_corners,block', [
    ((4, 4), (64, 64), False, 2**20),
    ((5, 7), (37, 50), True, 2**20),
    ((9, 6), (33, 21), False, 300),  # blocks of a row and a part image
])
def test_same_loss_accuracy_and_gradient_as_mmseg(small, size, align_corners,
                                                  block, monkeypatch):
    monkeypatch.setattr(seg_loss, 'BLOCK_ELEMENTS', block)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 11, *small, generator=gen) * 3
    label = torch.randint(0, 11, (3, *size), generator=gen)
    label[0, :5] = 255  # ignored rows
    label[2] = 255  # an image without a labelled pixel
    ref_logits = logits.clone().requires_grad_()
    ref_loss, ref_acc = mmseg_loss(ref_logits, label, 255, align_corners)
    ref_loss.backward()
    ours = logits.clone().requires_grad_()
    loss, acc = upsampled_cross_entropy(ours, label, 255, align_corners)
    (loss * 2.5).backward()  # the loss weight reaches the gradient
    torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=0)
    torch.testing.assert_close(acc.reshape(1), ref_acc, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.grad, 2.5 * ref_logits.grad, rtol=1e-4,
                               atol=1e-5 * ref_logits.grad.abs().max().item())


def test_label_out_of_range_is_named():
    label = torch.zeros(1, 8, 8, dtype=torch.long)
    label[0, 3, 3] = 7
    with pytest.raises(ValueError, match=r'label value \[7\] out of range: '
                       r'the logits have 5 classes \(0..4, ignore_index 255'):
        upsampled_cross_entropy(torch.randn(1, 5, 2, 2), label)


def test_float32_under_autocast_and_no_gradient_when_none_is_needed():
    logits = torch.randn(2, 5, 4, 4).bfloat16().requires_grad_()
    label = torch.randint(0, 5, (2, 16, 16))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss, _ = upsampled_cross_entropy(logits, label)
    ref, _ = mmseg_loss(logits.detach().float(), label, 255, False)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=0)
    loss.backward()
    assert logits.grad.dtype == torch.bfloat16
    with torch.no_grad():
        loss, _ = upsampled_cross_entropy(logits, label)
    assert not loss.requires_grad


def _segmentor():
    cfg = load_model_config(osp.join(ROOT, SEG_CONFIG))
    for head in (cfg.model.decode_head, cfg.model.auxiliary_head):
        head.dropout_ratio = 0.
    cfg.model.backbone.drop_path_rate = 0.
    model = build_model(cfg, with_aux=True).train()
    return model, random_seg_batch((64, 64), 2, 150, seed=1)


def test_hook_gives_the_segmentor_the_same_losses_and_gradients():
    model, batch = _segmentor()
    fused = copy.deepcopy(model)
    FusedSegLossHook().before_train(SimpleNamespace(model=fused))
    for head in (fused.decode_head, fused.auxiliary_head):
        assert head.loss_by_feat.__func__ is seg_loss.fused_loss_by_feat
    torch.manual_seed(0)
    ref_logs, ref_grads = loss_step(model, batch)[:2]
    torch.manual_seed(0)
    logs, grads = loss_step(fused, batch)[:2]
    assert list(logs) == list(ref_logs)
    for key, value in ref_logs.items():
        assert abs(logs[key] - value) <= 1e-5 * max(1, abs(value)), key
    assert ((grads - ref_grads).norm() / ref_grads.norm()).item() < 1e-5


@pytest.mark.parametrize('change,reason', [
    (dict(loss_decode=dict(type='CrossEntropyLoss', class_weight=[1.] * 150)),
     'class_weight'),
    (dict(loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
     'avg_non_ignore'),
    (dict(loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True)),
     'use_sigmoid'),
    (dict(loss_decode=[dict(type='CrossEntropyLoss'),
                       dict(type='DiceLoss')]), 'DiceLoss'),
    (dict(sampler=dict(type='OHEMPixelSampler')), 'sampler'),
])
def test_other_losses_keep_mmseg_path(change, reason, monkeypatch):
    head_cfg = dict(type='FCNHead', in_channels=8, channels=8, num_convs=1,
                    num_classes=150, **change)
    head = MODELS.build(head_cfg)
    assert reason in plain_loss(head)
    plain = MODELS.build(dict(head_cfg, **dict(
        loss_decode=dict(type='CrossEntropyLoss'), sampler=None)))
    assert plain_loss(plain) is None
    model = torch.nn.ModuleDict(dict(decode_head=plain, auxiliary_head=head))
    logged = []
    monkeypatch.setattr(seg_loss, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    FusedSegLossHook().before_train(SimpleNamespace(model=model))
    assert 'loss_by_feat' not in vars(head)
    assert 'loss_by_feat' in vars(plain)
    assert logged == ["fused segmentation loss: decode_head; mmseg's loss "
                      f'kept for auxiliary_head ({plain_loss(head)})']


def test_every_segmentation_config_turns_it_on():
    checked = []
    for path in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')):
        cfg = Config.fromfile(path)
        if cfg.get('model', {}).get('decode_head') is not None:
            hooks = [hook['type'] for hook in cfg.get('custom_hooks', [])]
            assert 'FusedSegLossHook' in hooks, path
            checked.append(path)
    assert len(checked) >= 49  # 15 archs x 3 heads on ADE20K, 3 VOC, toy
