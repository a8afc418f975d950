"""RepViT's published downstream checkpoints, in their own layouts, load as
they are: the Semantic FPN ``repvit_m*_ade20k.pth`` (mmseg 0.x) and the
Mask R-CNN ``repvit_m*_coco.pth`` (mmdet 2.x), both mmcv 1.x files (``meta``
+ ``state_dict``, backbone ``backbone.features.N...``).

Each test builds such a file from a model with random weights (the official
layout written out here from the official model definition: ``features.0``
the stem, then one entry per block in order) and shows that the model loaded
from it, through ``load_checkpoint`` (``load_from``, ``init_model``), the
runner's checkpoint checks (``tools/test.py``) and the offline converter,
holds exactly the same weights and computes the same features and
predictions, with no key missing or left over. Also: the official
segmentation / detection taps on a backbone loaded from an official file.
"""
import importlib
import importlib.util
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

import mmlightvit  # noqa: F401
from mmlightvit.apis.model_checks import check_model
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import make_toy_ade20k
from mmlightvit.models.backbones.repvit import RepViT, RepViTDownsample
from helpers import ROOT, failure_summary, run_tool

pytestmark = pytest.mark.usefixtures('single_thread')

SEG_CONFIG = 'configs/repvit/fpn_repvit-m1-1_8xb4-40k_ade20k-512x512.py'
DET_CONFIG = 'configs/repvit/mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco.py'
CONVERTER = 'tools/model_converters/repvit_downstream2mmlightvit.py'

# ``out_indices`` into the official ``features`` (THU-MIG/RepViT
# segmentation/configs/sem_fpn and detection/configs)
SEG_TAPS = {'m1_1': [3, 7, 21, 24], 'm1_5': [5, 11, 37, 42],
            'm2_3': [7, 15, 51, 54]}
DET_TAPS = {'m1_1': [2, 6, 20, 24], 'm1_5': [4, 10, 36, 42],
            'm2_3': [6, 14, 50, 54]}

# -- the official layout (THU-MIG/RepViT repvit.py), written out ------------
# stem ``features.0`` = Sequential(Conv2d_BN, GELU, Conv2d_BN)
OFFICIAL_STEM = (('stem.0.conv.', 'features.0.0.c.'),
                 ('stem.0.bn.', 'features.0.0.bn.'),
                 ('stem.1.conv.', 'features.0.2.c.'),
                 ('stem.1.bn.', 'features.0.2.bn.'))
# channel_mixer = Residual(Sequential(Conv2d_BN, GELU, Conv2d_BN)) -> ``m``
OFFICIAL_FFN = (('channel_mixer.0.conv.', 'channel_mixer.m.0.c.'),
                ('channel_mixer.0.bn.', 'channel_mixer.m.0.bn.'),
                ('channel_mixer.1.conv.', 'channel_mixer.m.2.c.'),
                ('channel_mixer.1.bn.', 'channel_mixer.m.2.bn.'))
# timm SqueezeExcite: fc1, fc2
OFFICIAL_SE = (('se.conv1.conv.', 'token_mixer.1.fc1.'),
               ('se.conv2.conv.', 'token_mixer.1.fc2.'))
# stride 1: token_mixer = (RepVGGDW(conv=Conv2d_BN, conv1, bn), SE)
OFFICIAL_BLOCK = (('token_mixer.conv.conv.', 'token_mixer.0.conv.c.'),
                  ('token_mixer.conv.bn.', 'token_mixer.0.conv.bn.'),
                  ('token_mixer.conv1.', 'token_mixer.0.conv1.'),
                  ('token_mixer.bn.', 'token_mixer.0.bn.')
                  ) + OFFICIAL_SE + OFFICIAL_FFN
# stride 2: token_mixer = (Conv2d_BN dw, SE, Conv2d_BN 1x1)
OFFICIAL_DOWNSAMPLE = (('spatial_downsample.conv.', 'token_mixer.0.c.'),
                       ('spatial_downsample.bn.', 'token_mixer.0.bn.'),
                       ('channel_downsample.conv.', 'token_mixer.2.c.'),
                       ('channel_downsample.bn.', 'token_mixer.2.bn.')
                       ) + OFFICIAL_SE + OFFICIAL_FFN


def _rename(key, renames):
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old):]
    raise KeyError(key)


def official_blocks(backbone):
    """``[(our prefix, module)]`` in the official order: ``features.N`` is
    entry ``N`` (the stem, then every block)."""
    blocks = [('stem.', backbone.stem)]
    for i, stage in enumerate(backbone.stages):
        blocks += [(f'stages.{i}.{j}.', block)
                   for j, block in enumerate(stage)]
    return blocks


def official_backbone(backbone, prefix=''):
    """The state_dict of ``backbone`` (a :class:`RepViT`) in the official
    layout, keys ``prefix + 'features.N...'``."""
    blocks = official_blocks(backbone)
    official = OrderedDict()
    for key, value in backbone.state_dict().items():
        if key.startswith('stem.'):
            key = _rename(key, OFFICIAL_STEM)
        else:
            n, (ours, block) = next((n, b) for n, b in enumerate(blocks)
                                    if key.startswith(b[0]))
            table = OFFICIAL_DOWNSAMPLE if isinstance(
                block, RepViTDownsample) else OFFICIAL_BLOCK
            key = f'features.{n}.' + _rename(key[len(ours):], table)
        official[prefix + key] = value
    return official


def official_features(backbone, x):
    """The output of every ``features.N``, our modules run in the official
    order."""
    outs = []
    for _, module in official_blocks(backbone):
        x = module(x)
        outs.append(x)
    return outs


@torch.no_grad()
def randomise_(model, seed=0):
    """Random weights everywhere (kernels scaled by their fan-in, BN affine
    around 1/0 and running statistics too), eval mode."""
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=gen)
        if p.ndim > 1:
            p.copy_(noise / p[0].numel()**0.5)
        else:
            p.copy_(float(name.endswith('weight')) + 0.1 * noise)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean.copy_(0.1 * torch.randn(
                m.running_mean.shape, generator=gen))
            m.running_var.uniform_(0.5, 1.5, generator=gen)
            m.num_batches_tracked.fill_(1000)
    return model.eval()


# -- (1) the official taps on a backbone loaded from an official file ------
@pytest.mark.parametrize('arch', sorted(SEG_TAPS))
def test_official_taps_on_official_checkpoint(arch, tmp_path, log_messages):
    source = randomise_(RepViT(arch))
    path = str(tmp_path / f'repvit_{arch}_distill.pth')
    torch.save({'model': official_backbone(source)}, path)  # ImageNet file
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    for tap, taps in (('last', SEG_TAPS[arch]), ('timm', DET_TAPS[arch])):
        model = RepViT(arch, tap=tap, out_indices=(1, 2, 3, 4),
                       init_cfg=dict(type='Pretrained', checkpoint=path))
        model.init_weights()
        assert_same_weights(model.eval(), source)
        with torch.no_grad():
            outs = model(x)
            reference = official_features(model, x)
        for out, index in zip(outs, taps):
            torch.testing.assert_close(out, reference[index], rtol=0, atol=0)
    assert any('loaded all weights' in m for m in log_messages)
    # the segmentation taps are the last block of each resolution
    strides = [f.shape[-1] for f in reference]
    assert [i for i in range(1, len(strides)) if i + 1 == len(strides)
            or strides[i + 1] != strides[i]] == SEG_TAPS[arch]


def test_tap_argument_checked():
    with pytest.raises(ValueError, match=r"tap of RepViT must be one of "
                       r"'timm', 'last'.*got 'first'"):
        RepViT('m1_1', tap='first')


def test_tap_last_frozen_stages():
    """frozen_stages=k freezes what computes the output k: with tap='last'
    that includes the first block of stages[k]."""
    model = RepViT('m1_1', tap='last', frozen_stages=1)
    assert all(not p.requires_grad for p in model.stages[1][0].parameters())
    assert all(p.requires_grad for p in model.stages[1][1].parameters())


# -- (2) the published whole-model checkpoints -------------------------------
def build_model(rel):
    """The config's model, random weights, no ImageNet download."""
    cfg = Config.fromfile(osp.join(ROOT, rel))
    scope = cfg.default_scope
    init_default_scope(scope)
    model_cfg = sync_bn_to_bn(cfg.model)
    model_cfg.backbone.init_cfg = None
    torch.manual_seed(0)
    model = importlib.import_module(f'{scope}.registry').MODELS.build(
        model_cfg)
    return randomise_(model)


def mmseg0_keys():
    """Neck and head keys of mmseg 0.30's Semantic FPN (fpn_r50.py: FPN with
    4 levels, FPNHead with one ConvModule per stride doubling, each followed
    by an Upsample at strides > 4)."""
    keys = []
    for i in range(4):
        for kind in ('lateral_convs', 'fpn_convs'):
            keys += [f'neck.{kind}.{i}.conv.{p}' for p in ('weight', 'bias')]
    for i, convs in enumerate((1, 1, 2, 3)):
        for j in range(convs):
            prefix = f'decode_head.scale_heads.{i}.{2 * j if i else 0}.'
            keys.append(prefix + 'conv.weight')
            keys += [prefix + f'bn.{p}' for p in (
                'weight', 'bias', 'running_mean', 'running_var',
                'num_batches_tracked')]
    return keys + ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']


def mmdet2_keys():
    """Neck and head keys of mmdet 2.28's Mask R-CNN R50-FPN."""
    modules = [f'neck.{kind}.{i}.conv' for i in range(4)
               for kind in ('lateral_convs', 'fpn_convs')]
    modules += ['rpn_head.rpn_conv', 'rpn_head.rpn_cls', 'rpn_head.rpn_reg',
                'roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg',
                'roi_head.bbox_head.shared_fcs.0',
                'roi_head.bbox_head.shared_fcs.1',
                'roi_head.mask_head.upsample',
                'roi_head.mask_head.conv_logits']
    modules += [f'roi_head.mask_head.convs.{i}.conv' for i in range(4)]
    return [f'{m}.{p}' for m in modules for p in ('weight', 'bias')]


def official_checkpoint(model, path, meta):
    """Save ``model`` as the authors' mmcv 1.x file: ``meta`` +
    ``state_dict`` with ``backbone.features.N...``; returns the keys."""
    state_dict = official_backbone(model.backbone, 'backbone.')
    state_dict.update((k, v) for k, v in model.state_dict().items()
                      if not k.startswith('backbone.'))
    torch.save({'meta': meta, 'state_dict': state_dict}, path)
    return state_dict


def mmcv1_meta(**kw):
    return dict(mmcv_version='1.7.1', time='Mon Jul 24 12:00:00 2023',
                config='model = dict(type=...)', env_info='...', **kw)


def assert_same_weights(model, reference):
    ours, theirs = model.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key


def seg_logits(model, seed=2):
    init_default_scope('mmseg')
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 64, 96, generator=gen)
    with torch.no_grad():
        return model.backbone(x), model(x, mode='tensor')


@pytest.fixture(scope='module')
def seg_files(tmp_path_factory):
    """(reference model, the official file, the same weights in our own
    layout)."""
    root = tmp_path_factory.mktemp('seg')
    model = build_model(SEG_CONFIG)
    official = str(root / 'repvit_m1_1_ade20k.pth')
    meta = mmcv1_meta(mmseg_version='0.30.0', iter=40000, epoch=1,
                      CLASSES=[f'class{i}' for i in range(150)],
                      PALETTE=[[i, i, i] for i in range(150)])
    keys = official_checkpoint(model, official, meta)
    native = str(root / 'native.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, native)
    return model, official, native, keys


def test_seg_checkpoint_layout(seg_files):
    model, official, _, keys = seg_files
    assert sorted(k for k in keys if not k.startswith('backbone.')) == \
        sorted(mmseg0_keys())
    assert {k.split('.')[1] for k in keys if k.startswith('backbone.')} == \
        {'features'}
    assert all(k in model.state_dict() for k in mmseg0_keys())


def test_seg_checkpoint_load_checkpoint(seg_files):
    """load_from / init_model's path: nothing missing or left over
    (strict), the same weights, features and logits."""
    reference, official, _, _ = seg_files
    model = build_model(SEG_CONFIG)
    checkpoint = load_checkpoint(model, official, map_location='cpu',
                                 strict=True)
    assert checkpoint['meta']['CLASSES'][0] == 'class0'
    assert_same_weights(model, reference)
    (feats, logits), (ref_feats, ref_logits) = (
        seg_logits(model.eval()), seg_logits(reference))
    for got, expected in zip(feats, ref_feats):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    torch.testing.assert_close(logits, ref_logits, rtol=0, atol=0)


def runner_for(rel, work_dir, **cfg_options):
    cfg = Config.fromfile(osp.join(ROOT, rel))
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.init_cfg = None
    cfg.merge_from_dict(cfg_options)
    return Runner.from_cfg(sync_bn_to_bn(cfg))


def test_seg_checkpoint_through_runner(seg_files, tmp_path):
    """tools/test.py's path: the runner's checkpoint checks (which refuse a
    checkpoint leaving any weight unloaded) accept it and the model gets
    the reference weights."""
    reference, official, _, _ = seg_files
    runner = runner_for(SEG_CONFIG, tmp_path)
    check_model(runner, testing=True)
    runner.load_checkpoint(official)
    assert_same_weights(runner.model, reference)


def test_seg_converter(seg_files, tmp_path):
    reference, official, _, _ = seg_files
    out = str(tmp_path / 'converted.pth')
    rc, log = run_tool(CONVERTER, official, out, '--config', SEG_CONFIG)
    assert rc == 0, failure_summary(log)
    assert 'RepViT-m1_1 backbone' in log and 'every key fits' in log, log
    converted = torch.load(out, map_location='cpu', weights_only=True)
    assert converted['meta']['dataset_meta']['classes'][:2] == [
        'class0', 'class1']
    assert converted['meta']['dataset_meta']['palette'][1] == [1, 1, 1]
    model = build_model(SEG_CONFIG)
    model.load_state_dict(converted['state_dict'], strict=True)
    assert_same_weights(model, reference)


def test_converter_refuses_other_checkpoints(seg_files, tmp_path):
    """An ImageNet checkpoint, or a whole model without an official RepViT
    backbone, is not a published downstream file: one line, no output."""
    spec = importlib.util.spec_from_file_location(
        'repvit_downstream2mmlightvit', osp.join(ROOT, CONVERTER))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    reference, _, native, _ = seg_files
    imagenet = str(tmp_path / 'imagenet.pth')
    torch.save({'model': official_backbone(reference.backbone)}, imagenet)
    for src, match in ((imagenet, 'repvit2mmlightvit.py'),
                       (native, r'official RepViT backbone.*got keys like '
                        r'backbone\.stem')):
        out = str(tmp_path / 'x.pth')
        with pytest.raises(SystemExit, match=f'error: .*{match}'):
            tool.main([src, out])
        assert not osp.exists(out)


@pytest.fixture(scope='module')
def det_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('det')
    model = build_model(DET_CONFIG)
    official = str(root / 'repvit_m1_1_coco.pth')
    meta = mmcv1_meta(mmdet_version='2.28.2', epoch=12, iter=87960,
                      CLASSES=tuple(f'class{i}' for i in range(80)))
    keys = official_checkpoint(model, official, meta)
    return model, official, keys


def detections(model):
    """Backbone features; the raw outputs of every head (RPN scores and
    deltas, box and mask logits of fixed proposals); the detections."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    init_default_scope('mmdet')
    gen = torch.Generator().manual_seed(3)
    meta = dict(img_shape=(64, 96), ori_shape=(64, 96),
                scale_factor=(1., 1.), batch_input_shape=(64, 96),
                pad_shape=(64, 96))
    inputs = torch.randn(2, 3, 64, 96, generator=gen)
    samples = [DetDataSample(metainfo=meta) for _ in range(2)]
    proposals = [InstanceData(bboxes=torch.tensor(
        [[4., 4., 40., 50.], [30., 10., 90., 60.]])) for _ in range(2)]
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        raw = (model.rpn_head(feats),
               model.roi_head.forward(feats, proposals, samples))
        return (model.backbone(inputs), raw, model.predict(inputs, samples))


def test_det_checkpoint_layout(det_files):
    model, _, keys = det_files
    assert sorted(k for k in keys if not k.startswith('backbone.')) == \
        sorted(mmdet2_keys())


def test_det_checkpoint_load_checkpoint(det_files):
    reference, official, _ = det_files
    model = build_model(DET_CONFIG)
    checkpoint = load_checkpoint(model, official, map_location='cpu',
                                 strict=True)
    assert len(checkpoint['meta']['CLASSES']) == 80
    assert_same_weights(model, reference)
    (feats, raw, results), (ref_feats, ref_raw, ref_results) = (
        detections(model.eval()), detections(reference))
    for got, expected in zip(feats, ref_feats):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    raw, ref_raw = flatten(raw), flatten(ref_raw)
    assert len(raw) == len(ref_raw) > 5
    for got, expected in zip(raw, ref_raw):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    for got, expected in zip(results, ref_results):
        for key in ('bboxes', 'scores', 'labels', 'masks'):
            assert torch.equal(got.pred_instances[key],
                               expected.pred_instances[key]), key


def flatten(outputs):
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for o in outputs for t in flatten(o)]


def test_det_checkpoint_through_runner(det_files, tmp_path):
    reference, official, _ = det_files
    runner = runner_for(DET_CONFIG, tmp_path)
    check_model(runner, testing=True)
    runner.load_checkpoint(official)
    assert_same_weights(runner.model, reference)


def test_partial_official_checkpoint_refused(seg_files, tmp_path):
    """A file in the official layout that misses backbone blocks is still
    refused with the missing keys named (conversion hides nothing)."""
    _, official, _, _ = seg_files
    checkpoint = torch.load(official, map_location='cpu', weights_only=True)
    state_dict = checkpoint['state_dict']
    for key in list(state_dict):
        if key.startswith('backbone.features.24.'):  # M1.1's last block
            del state_dict[key]
    partial = str(tmp_path / 'partial.pth')
    torch.save(checkpoint, partial)
    runner = runner_for(SEG_CONFIG, tmp_path)
    check_model(runner, testing=True)
    with pytest.raises(Exception, match=r'missing: backbone\.stages\.3\.3\.'):
        runner.load_checkpoint(partial)


# -- (3) end to end: tools/test.py and fine-tuning with load_from -----------
@pytest.fixture(scope='module')
def toy_ade(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy')
    make_toy_ade20k(str(root), num_train=4, num_val=2, size=64, seed=3)
    return osp.join(str(root), 'ADEChallengeData2016')


def data_options(data_root):
    return [f'{split}_dataloader.{key}'
            for split in ('train', 'val', 'test')
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]


@pytest.mark.slow
def test_tools_test_official_equals_native(seg_files, toy_ade, tmp_path):
    """``tools/test.py CONFIG repvit_m1_1_ade20k.pth`` predicts exactly what
    the same weights in this project's layout predict."""
    _, official, native, _ = seg_files
    preds = {}
    for name, path in (('official', official), ('native', native)):
        out = tmp_path / name
        # 64x64 images: rescaled to 100x100 (keep ratio), aligned to 128x128
        rc, log = run_tool('tools/test.py', SEG_CONFIG, path, '--work-dir',
                           str(tmp_path / f'w_{name}'), '--out', str(out),
                           '--cfg-options', *data_options(toy_ade),
                           'test_dataloader.dataset.pipeline.1.scale='
                           '(200,100)')
        assert rc == 0, failure_summary(log)
        assert re.search(r'mIoU: [\d.]+', log), log
        preds[name] = {p.name: p.read_bytes() for p in out.rglob('*.png')}
    assert len(preds['official']) == 2
    assert preds['official'] == preds['native']


@pytest.mark.slow
def test_finetune_from_official_checkpoint(seg_files, toy_ade, tmp_path):
    """``load_from`` a published file and train on: it loads whole (the fit
    check would stop the run otherwise) and the weights move."""
    reference, official, _, _ = seg_files
    work = tmp_path / 'work'
    rc, log = run_tool(
        'tools/train.py', SEG_CONFIG, '--work-dir', str(work),
        '--cfg-options', f'load_from={official}',
        'model.backbone.init_cfg=None', *data_options(toy_ade),
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
        # 64x64 crops of images rescaled to 64..128
        'train_dataloader.dataset.pipeline.3.scale=(128,64)',
        'train_dataloader.dataset.pipeline.4.crop_size=(64,64)',
        'model.data_preprocessor.size=(64,64)')
    assert rc == 0, failure_summary(log)
    assert 'Load checkpoint from' in log, log
    trained = torch.load(work / 'iter_1.pth', map_location='cpu',
                         weights_only=False)['state_dict']
    ref = reference.state_dict()
    assert set(trained) == set(ref)
    moved = [k for k, v in ref.items() if v.is_floating_point()
             and not torch.equal(trained[k], v)]
    assert moved and any(k.startswith('backbone.stages') for k in moved)
    # BN statistics of the backbone stay (norm_eval=True, as the official)
    assert torch.equal(trained['backbone.stem.0.bn.running_mean'],
                       ref['backbone.stem.0.bn.running_mean'])
