"""The official recipes to the letter: RepViT's ImageNet distillation and
adaptive gradient clipping, RepViT's Semantic FPN taps and test resize,
MobileViT's multi-scale variable-batch sampler, transformer dropout and
VOC DeepLabv3 (output stride 8), EMO's weight-decay exemptions, ExMobileViT's
classification recipe."""
import copy
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS as CLS_MODELS
from mmpretrain.structures import DataSample
from timm.utils.agc import adaptive_clip_grad as timm_agc

import mmlightvit  # noqa: F401
from mmlightvit.apis.cli import enable_amp
from mmlightvit.datasets.samplers import (ScaledIndex, VariableBatchSampler,
                                          VariableRandomResizedCrop,
                                          variable_batch_scales)
from mmlightvit.datasets.toy import make_toy_imagenet
from mmlightvit.models.backbones import MobileViT
from mmlightvit.models.backbones.repvit import convert_repvit
from mmlightvit.models.heads import PooledDistillClsHead
from mmlightvit.optim import AGCOptimWrapper, adaptive_clip_grad
from helpers import (ROOT, failure_summary, num_params, randomise,
                     run_tool)

pytestmark = pytest.mark.usefixtures('single_thread')

CONFIGS = osp.join(ROOT, 'configs')
DISTILLED = 'repvit/repvit-m0-9-distilled_8xb256_in1k.py'
TEACHER_URL = 'https://dl.fbaipublicfiles.com/deit/regnety_160-a5fe301d.pth'


def load(rel):
    return Config.fromfile(osp.join(CONFIGS, rel))


# -- RepViT ImageNet: adaptive gradient clipping ----------------------------
def _params_with_grads(seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(8, 4, 3, 3), (16, 8), (8, ), (3, 5, 1, 1), (4, )]
    params = []
    for i, shape in enumerate(shapes):
        p = torch.nn.Parameter(torch.randn(shape, generator=gen))
        # some units far above the limit, some below
        p.grad = torch.randn(shape, generator=gen) * (0.001 if i % 2 else 1.)
        params.append(p)
    return params


def test_agc_matches_timm():
    ours, theirs = _params_with_grads(), _params_with_grads()
    raw = [p.grad.clone() for p in ours]
    adaptive_clip_grad(ours, clip_factor=0.02, eps=1e-3)
    timm_agc(theirs, clip_factor=0.02, eps=1e-3)
    for p, q, g in zip(ours, theirs, raw):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-6, atol=0)
    assert not torch.equal(ours[0].grad, raw[0])  # clipped
    assert torch.equal(ours[1].grad, raw[1])  # within the limit


def test_agc_optim_wrapper_clips_before_the_step():
    """The RepViT schedule's wrapper: AGC 0.02 on every parameter's
    gradient, after backward and before AdamW reads it."""
    cfg = load('repvit/repvit-m1-1_8xb256_in1k.py').optim_wrapper
    assert (cfg.type, cfg.clip_factor) == ('AGCOptimWrapper', 0.02)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(),
                                torch.nn.LazyLinear(4))
    model(torch.randn(1, 3, 6, 6))
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg))
    assert isinstance(wrapper, AGCOptimWrapper)
    loss = 1e3 * model(torch.randn(2, 3, 6, 6)).square().sum()
    wrapper.backward(loss)
    expected = [p.grad.clone() for p in model.parameters()]
    before = []
    for p in model.parameters():
        before.append(torch.nn.Parameter(p.detach().clone()))
        before[-1].grad = p.grad.clone()
    adaptive_clip_grad(before, clip_factor=0.02)
    wrapper.step()
    for p, q, raw in zip(model.parameters(), before, expected):
        torch.testing.assert_close(p.grad, q.grad)
    assert any(not torch.equal(p.grad, raw)
               for p, raw in zip(model.parameters(), expected))
    with pytest.raises(ValueError, match='drop clip_grad'):
        AGCOptimWrapper(wrapper.optimizer, clip_grad=dict(max_norm=1.))


def test_amp_keeps_agc(monkeypatch):
    cfg = load('repvit/repvit-m1-1_8xb256_in1k.py')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpAGCOptimWrapper'
    assert cfg.optim_wrapper.clip_factor == 0.02


# -- RepViT ImageNet: hard distillation ---------------------------------------
def test_distilled_configs():
    """Every RepViT arch has the distilled recipe: the plain recipe plus
    the RegNetY-16GF teacher by DeiT's URL and the second classifier
    (alpha 0.5); as many parameters as timm's distilled RepViT."""
    for arch in ('m0-9', 'm1-0', 'm1-1', 'm1-5', 'm2-3'):
        rel = f'repvit/repvit-{arch}-distilled_8xb256_in1k.py'
        cfg, plain = load(rel), load(f'repvit/repvit-{arch}_8xb256_in1k.py')
        assert cfg.model.type == 'DistilledImageClassifier'
        assert cfg.model.teacher == dict(
            model='regnety_160', checkpoint=TEACHER_URL, global_pool='avg')
        assert cfg.model.head.type == 'PooledDistillClsHead'
        assert cfg.model.head.distill_alpha == 0.5
        for key in ('optim_wrapper', 'param_scheduler', 'train_dataloader',
                    'custom_hooks', 'train_cfg'):
            assert cfg[key] == plain[key], key
        model = CLS_MODELS.build(cfg.model)  # builds no teacher
        assert model.teacher is None
        reference = timm.create_model(f'repvit_{arch.replace("-", "_")}')
        assert num_params(model) == num_params(reference), rel


def _timm_distilled_weights(model, reference):
    """Our distilled classifier <- timm's distilled RepViT (backbone through
    the converter, the two BN + Linear classifiers by name)."""
    state = reference.state_dict()
    model.backbone.load_state_dict(convert_repvit(state), strict=True)
    head = {}
    for ours, theirs in (('', 'head'), ('dist_', 'head_dist')):
        for k in ('weight', 'bias', 'running_mean', 'running_var',
                  'num_batches_tracked'):
            head[f'{ours}post_norm.{k}'] = state[f'head.{theirs}.bn.{k}']
        for k in ('weight', 'bias'):
            head[f'{ours}fc.{k}'] = state[f'head.{theirs}.l.{k}']
    model.head.load_state_dict(head, strict=True)
    return model


def test_distilled_classifier_matches_timm():
    """At inference the two classifiers' logits are averaged, as the
    official (and timm's) distilled RepViT."""
    init_default_scope('mmpretrain')
    model = CLS_MODELS.build(load(DISTILLED).model)
    reference = randomise(timm.create_model('repvit_m0_9'))
    model = _timm_distilled_weights(model, reference).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), reference(x),
                                   rtol=1e-4, atol=1e-4)


@pytest.fixture(scope='module')
def tiny_teacher(tmp_path_factory):
    """A RegNetY-200MF-shaped timm teacher with random weights, saved as
    DeiT saves its teachers (``{'model': state_dict}``)."""
    torch.manual_seed(0)
    teacher = timm.create_model('regnety_002', num_classes=1000)
    path = str(tmp_path_factory.mktemp('teacher') / 'regnety_002.pth')
    torch.save({'model': teacher.state_dict()}, path)
    return path


def _distilled_model(checkpoint):
    init_default_scope('mmpretrain')
    full = load(DISTILLED)
    cfg = full.model
    cfg.data_preprocessor = full.data_preprocessor  # as the Runner does
    cfg.teacher.update(model='regnety_002', checkpoint=checkpoint)
    torch.manual_seed(0)
    return CLS_MODELS.build(cfg)


def test_distillation_loss(tiny_teacher, log_messages):
    """loss = 0.5 x the label loss of the class token + 0.5 x CE of the
    distillation classifier against the teacher's argmax; the teacher sees
    the student's (mixed) batch and stays frozen, outside the student."""
    model = _distilled_model(tiny_teacher)
    model.init_weights()
    teacher = model.teacher
    assert any('distillation teacher: timm regnety_002' in m
               for m in log_messages)
    assert not teacher.training
    assert all(not p.requires_grad for p in teacher.parameters())
    assert not any(k.startswith(('teacher', '_teacher'))
                   for k in model.state_dict())
    assert copy.deepcopy(model).teacher is teacher  # EMA copies share it
    model.train()
    assert not teacher.training
    gen = torch.Generator().manual_seed(1)
    samples = [DataSample().set_gt_label(int(i)) for i in (3, 7, 3, 500)]
    data = model.data_preprocessor(dict(
        inputs=[torch.randint(0, 256, (3, 48, 48), dtype=torch.uint8,
                              generator=gen) for _ in samples],
        data_samples=samples), True)
    torch.manual_seed(2)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'loss_distill'}

    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        cls_score, dist_score = model.head.forward_both(feats)
        hard = teacher(inputs).argmax(dim=1)
        target = torch.stack([s.gt_score for s in samples])  # mixed
        label_loss = model.head.loss_module(cls_score, target,
                                            avg_factor=len(samples))
    torch.testing.assert_close(losses['loss'], 0.5 * label_loss)
    torch.testing.assert_close(losses['loss_distill'],
                               0.5 * F.cross_entropy(dist_score, hard))
    total = sum(losses.values())
    total.backward()
    assert model.head.dist_fc.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())


def test_distillation_errors(tiny_teacher, tmp_path):
    init_default_scope('mmpretrain')
    cfg = load(DISTILLED).model
    bad = copy.deepcopy(cfg)
    bad.teacher.pop('checkpoint')
    with pytest.raises(ValueError, match='teacher needs checkpoint'):
        CLS_MODELS.build(bad)
    # weights of another model
    wrong = str(tmp_path / 'wrong.pth')
    torch.save({'model': timm.create_model('regnety_004').state_dict()},
               wrong)
    model = _distilled_model(wrong)
    with pytest.raises(ValueError, match=r'teacher checkpoint .*wrong\.pth '
                       r"does not fit timm 'regnety_002' with 1000 classes"):
        model.build_teacher()
    # the distillation head outside a DistilledImageClassifier
    head = PooledDistillClsHead(num_classes=10, in_channels=8)
    with pytest.raises(ValueError, match='use it in a DistilledImage'):
        head.loss([torch.randn(2, 8, 2, 2)],
                  [DataSample().set_gt_label(1) for _ in range(2)])
    with pytest.raises(ValueError, match=r'distill_alpha must be in \[0, 1\]'):
        PooledDistillClsHead(num_classes=10, in_channels=8, distill_alpha=2)


@pytest.mark.slow
def test_distillation_trains_on_toy_imagenet(tiny_teacher, tmp_path):
    """tools/train.py on the toy ImageNet with the distilled M0.9 recipe and
    the tiny teacher: both losses logged, AGC wrapper, EMA; the checkpoint
    holds the student (both classifiers) and no teacher."""
    root = make_toy_imagenet(str(tmp_path / 'imagenet'), num_classes=4,
                             per_class=4, val_per_class=1, size=64, seed=0)
    work = tmp_path / 'work'
    options = [f'model.teacher.checkpoint={tiny_teacher}',
               'model.teacher.model=regnety_002',
               'train_dataloader.dataset.pipeline.1.scale=48',
               'train_dataloader.batch_size=8', 'train_cfg.max_epochs=1',
               'default_hooks.logger.interval=1',
               'env_cfg.cudnn_benchmark=False']
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.dataset.data_root={root}',
                    f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    for split in ('val', 'test'):
        options += [f'{split}_dataloader.batch_size=4',
                    f'{split}_dataloader.dataset.pipeline.1.scale=48',
                    f'{split}_dataloader.dataset.pipeline.2.crop_size=48']
    rc, out = run_tool('tools/train.py', osp.join('configs', DISTILLED),
                       '--work-dir', str(work), '--cfg-options', *options)
    assert rc == 0, failure_summary(out)
    assert 'distillation teacher: timm regnety_002' in out
    steps = re.findall(r'Epoch\(train\) +\[1\]\[ *\d+/\d+\].* loss: '
                       r'[\d.]+ +loss_distill: ([\d.]+)', out)
    assert len(steps) >= 2 and all(float(v) > 0 for v in steps), out[-3000:]
    assert re.search(r'accuracy/top1: [\d.]+', out)
    saved = torch.load(work / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)
    assert 'head.dist_fc.weight' in saved['state_dict']
    for part in ('state_dict', 'ema_state_dict'):
        assert not any('teacher' in k for k in saved[part]), part


# -- MobileViT ImageNet: ml-cvnets' variable-batch sampler ------------------
def test_variable_batch_scales_are_ml_cvnets():
    """ml-cvnets' mobilevit.yaml sampler (base 256x256 x 128 per GPU, crops
    160-320 in 5 scales, multiples of 32): the crop sizes and batch sizes of
    its image_batch_pairs."""
    assert variable_batch_scales(128) == [
        (160, 160, 327), (192, 192, 227), (256, 256, 128), (288, 288, 101),
        (320, 320, 81)]
    cfg = load('mobilevit/mobilevit-s_8xb128_in1k.py').train_dataloader
    assert cfg.batch_size == 128
    assert cfg.batch_sampler == dict(
        type='VariableBatchSampler', base_size=256, min_size=160,
        max_size=320, num_scales=5, size_divisor=32)
    assert cfg.dataset.pipeline[1].type == 'VariableRandomResizedCrop'


class _Shard:
    """An index sampler of one process (what DefaultSampler gives)."""

    def __init__(self, indices, seed=3, epoch=0):
        self.indices, self.seed, self.epoch = indices, seed, epoch

    def __iter__(self):
        return iter(self.indices)

    def __len__(self):
        return len(self.indices)

    def set_epoch(self, epoch):
        self.epoch = epoch


def test_variable_batch_sampler():
    ranks = [VariableBatchSampler(_Shard(list(range(r, 400, 2))), 8)
             for r in range(2)]
    batches = [list(s) for s in ranks]
    scales = {(h, w): n for h, w, n in ranks[0].scales}
    for rank, sampler in zip(batches, ranks):
        assert len(rank) == len(sampler)
        for batch in rank:
            sizes = {i.crop_size for i in batch}
            assert len(sizes) == 1  # one crop size a batch
            assert len(batch) == scales[sizes.pop()]
        seen = [int(i) for b in rank for i in b]
        assert set(seen) == set(sampler.sampler.indices)
        # the last batch fills up with the first indices of the epoch
        assert seen[200:] == sampler.sampler.indices[:len(seen) - 200]
    # every process draws the same scales (as many batches everywhere)
    assert [b[0].crop_size for b in batches[0]] == \
        [b[0].crop_size for b in batches[1]]
    assert len({b[0].crop_size for b in batches[0]}) > 1
    ranks[0].sampler.set_epoch(1)
    assert [b[0].crop_size for b in ranks[0]] != \
        [b[0].crop_size for b in batches[0]]
    with pytest.raises(ValueError, match='positive integer, got 0'):
        VariableBatchSampler(_Shard([1]), 0)


def test_variable_crop_follows_the_batch():
    crop = VariableRandomResizedCrop(scale=64)
    img = np.zeros((100, 120, 3), np.uint8)
    out = crop.transform(dict(img=img, sample_idx=ScaledIndex(4, (160, 192))))
    assert out['img'].shape == (160, 192, 3)
    assert pickle.loads(pickle.dumps(ScaledIndex(4, (160, 192)))).crop_size \
        == (160, 192)
    assert crop.transform(dict(img=img, sample_idx=4))['img'].shape == \
        (64, 64, 3)  # another sampler: its own scale


def test_variable_batches_from_the_config(tmp_path):
    """The config's dataloader on the toy ImageNet (worker processes
    included): batches of one crop size each, sized as the sampler says."""
    from mmengine.runner import Runner
    root = make_toy_imagenet(str(tmp_path), num_classes=2, per_class=20,
                             size=64, seed=0)
    cfg = load('mobilevit/mobilevit-xxs_8xb128_in1k.py').train_dataloader
    # a spawned worker: a fork of the long-lived pytest process (native
    # libraries of earlier tests loaded) crashed it with SIGSEGV at this
    # test in two full runs (not under gdb, which turns off ASLR)
    cfg.update(batch_size=4, num_workers=1, persistent_workers=False,
               multiprocessing_context='spawn')
    cfg.dataset.data_root = root
    cfg.batch_sampler.update(base_size=64, min_size=32, max_size=96)
    init_default_scope('mmpretrain')
    loader = Runner.build_dataloader(cfg, seed=0)
    scales = {(h, w): n for h, w, n in loader.batch_sampler.scales}
    assert sorted(scales) == [(32, 32), (64, 64), (96, 96)]
    shapes = []
    for batch in loader:
        inputs = batch['inputs']
        h, w = inputs[0].shape[-2:]
        assert all(x.shape[-2:] == (h, w) for x in inputs)
        assert len(inputs) == scales[(h, w)]
        shapes.append((h, w))
    assert len(shapes) == len(loader) and len(set(shapes)) > 1


# -- MobileViT: transformer dropout, 20k warm-up, output stride -------------
def test_mobilevit_imagenet_recipe():
    cfg = load('mobilevit/mobilevit-s_8xb128_in1k.py')
    assert cfg.model.backbone.drop_rate == 0.1
    assert cfg.param_scheduler[0] == dict(
        type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
        end=20000)
    init_default_scope('mmpretrain')
    model = CLS_MODELS.build(cfg.model)
    layers = [m for m in model.backbone.modules()
              if type(m).__name__ == 'TransformerEncoderLayer']
    assert len(layers) == 2 + 4 + 3
    for layer in layers:  # ml-cvnets: dropout 0.1, attn / ffn dropout 0
        assert layer.attn.proj_drop.p == 0.1 and layer.attn.attn_drop == 0
        assert layer.ffn.layers[-1].p == 0.1
        assert layer.ffn.layers[0][-1].p == 0.


def test_mobilevit_output_stride():
    """ml-cvnets' segmentation backbone: output stride 16 removes layer5's
    downsampling stride, 8 also layer4's, layer5's depthwise conv dilated by
    2; same weights, and the layers before the change compute the same."""
    x = torch.randn(1, 3, 64, 64)
    ref = MobileViT('xxs', out_indices=(2, 3, 4)).eval()
    outs = {32: ref(x)}
    for os_ in (16, 8):
        model = MobileViT('xxs', out_indices=(2, 3, 4),
                          output_stride=os_).eval()
        model.load_state_dict(ref.state_dict(), strict=True)
        outs[os_] = model(x)
        dw5 = model.layer5[0].depthwise_conv.conv
        assert dw5.stride == (1, 1) and dw5.dilation == ((1, 1) if os_ == 16
                                                         else (2, 2))
    assert [o.shape[-1] for o in outs[16]] == [8, 4, 4]
    assert [o.shape[-1] for o in outs[8]] == [8, 8, 8]
    torch.testing.assert_close(outs[16][1], outs[32][1], rtol=0, atol=0)
    torch.testing.assert_close(outs[8][0], outs[32][0], rtol=0, atol=0)
    with pytest.raises(ValueError, match='output_stride of MobileViT'):
        MobileViT('xxs', output_stride=4)


# -- ExMobileViT: its authors' classification recipe -------------------------
def test_exmobilevit_recipe():
    for arch in ('576', '640', '928'):
        cfg = load(f'exmobilevit/exmobilevit-{arch}_8xb128_in1k.py')
        assert [h.type for h in cfg.custom_hooks] == ['RandomStateHook']
        assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
        assert cfg.data_preprocessor.std == [58.395, 57.12, 57.375]
        steps = cfg.test_dataloader.dataset.pipeline
        assert steps[1].scale == (256, 256) and not steps[1].keep_ratio
        assert cfg.train_dataloader.dataset.pipeline[1].scale == 256
        assert 'batch_sampler' not in cfg.train_dataloader
        assert cfg.optim_wrapper.optimizer.lr == 2e-3
        assert cfg.optim_wrapper.optimizer.weight_decay == 0.01
        assert cfg.param_scheduler == [
            dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
                 end=12),
            dict(type='CosineAnnealingLR', T_max=288, eta_min=2e-4,
                 by_epoch=True, begin=0, end=300)]
        assert cfg.model.head.get('dropout_rate', 0) == 0


# -- MobileViT's PASCAL VOC DeepLabv3 -----------------------------------------
VOC = 'mobilevit/deeplabv3_mobilevit-{}_4xb16-50e_voc12aug-512x512.py'


def test_voc_recipe():
    """ml-cvnets' deeplabv3_mobilevit.yaml, value by value."""
    cfg = load(VOC.format('s'))
    model = cfg.model
    assert model.backbone.output_stride == 8
    assert model.backbone.drop_rate == 0.1
    assert model.backbone.norm_cfg.type == 'SyncBN'
    assert not model.backbone.norm_eval
    head = model.decode_head
    assert (head.type, head.in_channels, head.channels) == (
        'DeepLabV3Head', 160, 512)
    assert head.dilations == (1, 12, 24, 36) and head.dropout_ratio == 0.1
    assert head.num_classes == 21 and head.align_corners
    aux = model.auxiliary_head
    assert (aux.in_channels, aux.channels, aux.num_convs) == (128, 128, 1)
    assert aux.loss_decode.loss_weight == 0.4 and aux.dropout_ratio == 0.1
    assert model.data_preprocessor.std == [255.] * 3  # inputs in [0, 1]
    assert model.data_preprocessor.seg_pad_val == 255
    opt = cfg.optim_wrapper
    assert opt.optimizer.lr == 9e-4 and opt.optimizer.weight_decay == 0.01
    assert opt.accumulative_counts == 2
    assert opt.paramwise_cfg.custom_keys == {
        'decode_head': dict(lr_mult=10.), 'auxiliary_head': dict(lr_mult=10.)}
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.param_scheduler[0].end == 500
    assert cfg.param_scheduler[0].start_factor == 0.1  # 9e-5 / 9e-4
    assert cfg.param_scheduler[1].eta_min == 1e-6
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.auto_scale_lr.base_batch_size == 64
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert hooks['EMAHook'].momentum == 5e-4
    steps = [s.type for s in cfg.train_dataloader.dataset.datasets[0].pipeline]
    assert steps[3:] == ['RandomResize', 'RandomFlip', 'RandomCrop',
                         'CvnetsGaussianBlur', 'CvnetsPhotometricDistort',
                         'RandomRotate', 'PackSegInputs']
    resize = cfg.train_dataloader.dataset.datasets[0].pipeline[3]
    assert resize.scale == [(1024, 256), (1024, 768)]
    for arch, width in (('xs', 96), ('xxs', 80)):
        assert load(VOC.format(arch)).model.decode_head.in_channels == width


def test_deeplabv3_head_projects_with_1x1():
    from mmseg.models.decode_heads import ASPPHead
    from mmlightvit.models.seg_heads import DeepLabV3Head
    kw = dict(in_channels=16, channels=8, dilations=(1, 2, 3, 4),
              num_classes=3, norm_cfg=dict(type='BN'))
    ours, theirs = DeepLabV3Head(**kw), ASPPHead(**kw)
    assert ours.bottleneck.conv.kernel_size == (1, 1)
    assert ours.bottleneck.conv.in_channels == 5 * 8
    assert num_params(theirs) - num_params(ours) == 5 * 8 * 8 * (9 - 1)
    ours.eval()
    out = ours([torch.randn(2, 16, 9, 9)])
    assert out.shape == (2, 3, 9, 9)


def test_cvnets_transforms():
    from mmlightvit.datasets.cvnets_transforms import (
        CvnetsGaussianBlur, CvnetsPhotometricDistort)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    seg = rng.integers(0, 21, (24, 32), dtype=np.uint8)
    for cls in (CvnetsGaussianBlur, CvnetsPhotometricDistort):
        kept = cls(prob=0.).transform(dict(img=img.copy(), gt_seg_map=seg))
        assert np.array_equal(kept['img'], img)
        np.random.seed(1)
        out = cls(prob=1.).transform(dict(img=img.copy(),
                                          gt_seg_map=seg.copy()))
        assert out['img'].shape == img.shape and out['img'].dtype == np.uint8
        assert not np.array_equal(out['img'], img)
        assert np.array_equal(out['gt_seg_map'], seg)


def test_toy_voc(tmp_path):
    from mmseg.datasets import PascalVOCDataset
    from PIL import Image
    from mmlightvit.datasets.toy import VOC_TOY_CLASSES, make_toy_voc
    root = make_toy_voc(str(tmp_path), num_train=3, num_aug=2, num_val=2,
                        size=48, seed=0)
    assert root == osp.join(str(tmp_path), 'VOCdevkit', 'VOC2012')
    lists = osp.join(root, 'ImageSets', 'Segmentation')
    assert sorted(os.listdir(lists)) == ['aug.txt', 'train.txt',
                                         'trainval.txt', 'val.txt']
    mask = Image.open(osp.join(root, 'SegmentationClass', '2007_000001.png'))
    assert mask.mode == 'P' and mask.getpalette()[3:6] == [128, 0, 0]
    init_default_scope('mmseg')
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    for prefix, ann, num in (('SegmentationClass', 'train', 3),
                             ('SegmentationClassAug', 'aug', 2),
                             ('SegmentationClass', 'val', 2)):
        ds = PascalVOCDataset(
            data_root=root, pipeline=pipeline,
            data_prefix=dict(img_path='JPEGImages', seg_map_path=prefix),
            ann_file=f'ImageSets/Segmentation/{ann}.txt')
        assert len(ds) == num
        labels = set(np.unique(ds[0]['gt_seg_map']).tolist())
        assert labels <= set(VOC_TOY_CLASSES) | {255} and 255 in labels
        assert len(labels - {0, 255}) >= 1
    # the same files again; left alone without --overwrite
    assert make_toy_voc(str(tmp_path), num_train=1) == root
    assert len(os.listdir(osp.join(root, 'JPEGImages'))) == 7
    rc, out = run_tool('tools/dataset_converters/make_toy_data.py', 'voc',
                       '--out', str(tmp_path / 'cli'), '--num-train', '1',
                       '--num-aug', '1', '--num-val', '1', '--size', '32')
    assert rc == 0, failure_summary(out)
    assert 'Wrote toy PASCAL VOC 2012' in out, out


@pytest.mark.slow
def test_voc_recipe_trains_on_toy_voc(tmp_path):
    """tools/train.py with the MobileViT-XXS VOC recipe on toy VOC (train +
    aug lists): an epoch (2 iterations, one accumulated update), validation
    with mIoU over 21 classes, the EMA weights in the checkpoint."""
    from mmlightvit.datasets.toy import make_toy_voc
    root = make_toy_voc(str(tmp_path / 'data'), num_train=2, num_aug=2,
                        num_val=2, size=64, seed=1)
    work = tmp_path / 'work'
    options = ['model.backbone.init_cfg=None', 'train_dataloader.batch_size=2',
               'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1']
    for loader in ('train_dataloader.dataset.datasets.0',
                   'train_dataloader.dataset.datasets.1', 'val_dataloader',
                   'test_dataloader'):
        options.append(f'{loader}.data_root={root}'
                       if loader.startswith('train') else
                       f'{loader}.dataset.data_root={root}')
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    # small crops: shorter side 64..96, 64x64 crops, evaluation at 64
    for i in (0, 1):
        pipeline = f'train_dataloader.dataset.datasets.{i}.pipeline'
        options += [f'{pipeline}.3.scale=[(128,64),(128,96)]',
                    f'{pipeline}.5.crop_size=(64,64)']
    options += ['model.data_preprocessor.size=(64,64)',
                'val_dataloader.dataset.pipeline.1.scale=(128,64)']
    rc, out = run_tool('tools/train.py', osp.join('configs',
                                                  VOC.format('xxs')),
                       '--work-dir', str(work), '--cfg-options', *options)
    assert rc == 0, failure_summary(out)
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\]', out), out[-3000:]
    assert re.search(r'mIoU: [\d.]+', out), out[-3000:]
    saved = torch.load(work / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)
    assert saved['state_dict']['decode_head.conv_seg.weight'].shape[0] == 21
    assert 'ema_state_dict' in saved


# -- EMO: weight decay exempted by parameter name ----------------------------
def _official_emo_name(name):
    """Our EMO parameter name -> the official one (zhangzjn/EMO), the
    renames of convert_official_emo read backwards."""
    for ours, official in (('stage0.0.conv.', 'stage0.0.convs.0.0.'),
                           ('stage0.0.bn.', 'stage0.0.convs.0.1.'),
                           ('.conv_local.bn.', '.conv_local.norm.')):
        name = name.replace(ours, official)
    return name


@pytest.mark.parametrize('rel', [
    'emo/deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py',
    'emo/pspnet_emo-1m_8xb4-80k_ade20k-512x512.py',
    'emo/retinanet_emo-2m_fpn_8xb4-1x_coco.py',
    'emo/ssdlite_emo-5m_8xb24-120e_coco-320x320.py',
])
def test_emo_decay_exemptions_by_name(rel):
    """The official configs exempt, by NAME, the parameters whose name
    contains 'norm': exactly those parameters of ours (under the official
    names) get no weight decay; the stem BN, the heads' BNs and every bias
    keep it."""
    from mmlightvit.compat import sync_bn_to_bn
    from mmlightvit.models.backbones.emo import convert_official_emo
    cfg = load(rel)
    scope = cfg.default_scope
    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    model_cfg = sync_bn_to_bn(cfg.model)
    model_cfg.backbone.init_cfg = None
    model = registry.build(model_cfg)
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    base = cfg.optim_wrapper.optimizer.weight_decay
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[id(p)] = group['weight_decay']
    exempt, kept = set(), set()
    for name, p in model.named_parameters():
        if id(p) not in decay:  # frozen (RetinaNet: stem and stage 1)
            assert not p.requires_grad, name
            continue
        official = _official_emo_name(name)
        if name.startswith('backbone.'):  # the converter maps it back
            assert list(convert_official_emo(
                {official[len('backbone.'):]: p})) == [name[9:]]
        expected = 0. if 'norm' in official else base
        assert decay[id(p)] == expected, (name, official)
        (exempt if expected == 0 else kept).add(name)
    if model.backbone.stage0[0].bn.weight.requires_grad:
        assert 'backbone.stage0.0.bn.weight' in kept  # official convs.0.1
    assert any('conv_local.bn' in n for n in exempt)
    assert any(n.startswith('backbone.stage4') and '.norm.' in n
               for n in exempt)
    head_bns = [n for n, p in model.named_parameters()
                if not n.startswith('backbone.') and '.bn.' in n]
    assert all(n in kept for n in head_bns)
    assert head_bns or 'retinanet' in rel  # RetinaNet's heads have no BN
    assert not any(not n.startswith('backbone.') for n in exempt)
    assert all(n in kept for n, p in model.named_parameters()
               if n.endswith('.bias') and p.requires_grad
               and 'norm' not in _official_emo_name(n))


# -- RepViT dense recipes ------------------------------------------------------
@pytest.mark.parametrize('arch', ['m0-9', 'm1-0', 'm1-1', 'm1-5', 'm2-3'])
def test_repvit_semantic_fpn_recipe(arch):
    """The official segmentation code's taps (the last block of each
    resolution), BN in eval mode, and its test-time aligned resize:
    rescaled within 2048x512 keeping the ratio, then resized so both sides
    are the next multiple of 32 (AlignResize); validation does the same."""
    cfg = load(f'repvit/fpn_repvit-{arch}_8xb4-40k_ade20k-512x512.py')
    assert cfg.model.backbone.tap == 'last'
    assert cfg.model.backbone.norm_eval is True
    for loader in ('val_dataloader', 'test_dataloader'):
        steps = cfg[loader].dataset.pipeline
        names = [s.type for s in steps]
        resize = names.index('Resize')
        assert steps[resize].scale == (2048, 512) and steps[resize].keep_ratio
        assert steps[resize + 1] == dict(type='ResizeToMultiple',
                                         size_divisor=32)
    init_default_scope('mmseg')
    from mmcv.transforms import Compose
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline[1:3])
    out = pipeline(dict(img=np.zeros((375, 500, 3), np.uint8)))
    # 375x500 -> 512x683 (keep ratio) -> 512x704 (multiples of 32)
    assert out['img'].shape[:2] == (512, 704)


@pytest.mark.parametrize('arch,widths', [
    ('m1-1', [64, 128, 256, 512]), ('m1-5', [64, 128, 256, 512]),
    ('m2-3', [80, 160, 320, 640])])
def test_repvit_mask_rcnn_recipe(arch, widths):
    """THU-MIG/RepViT detection/configs/mask_rcnn_repvit_*_fpn_1x_coco.py
    (as logged with the published models), in mmdet 3.x form."""
    cfg = load(f'repvit/mask-rcnn_repvit-{arch}_fpn_8xb2-1x_coco.py')
    model = cfg.model
    assert model.type == 'MaskRCNN'
    backbone = model.backbone
    assert (backbone.arch, backbone.tap, backbone.out_indices) == (
        arch.replace('-', '_'), 'timm', (1, 2, 3, 4))
    assert backbone.norm_eval is True and backbone.frozen_stages == -1
    assert model.neck == dict(type='FPN', in_channels=widths,
                              out_channels=256, num_outs=5)
    assert model.roi_head.mask_head.num_classes == 80
    opt = cfg.optim_wrapper
    assert opt.optimizer == dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                                 weight_decay=0.05)
    assert 'paramwise_cfg' not in opt and opt.clip_grad is None
    assert cfg.param_scheduler == [
        dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
             end=500),
        dict(type='MultiStepLR', begin=0, end=12, by_epoch=True,
             milestones=[8, 11], gamma=0.1)]
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    load_masks = [s for s in cfg.train_dataloader.dataset.pipeline
                  if s.type == 'LoadAnnotations']
    assert load_masks[0].with_mask
