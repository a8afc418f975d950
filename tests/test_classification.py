"""ImageNet classification with mmpretrain: the toy ImageNet, the configs'
parameter counts and heads against the official / timm classifiers, short
training runs of every family on the toy set (EMO through the real
tools/train.py and tools/test.py, the others with mmengine's Runner
in-process), and a trained checkpoint initialising the dense backbone."""
import contextlib
import os
import os.path as osp
import re
from collections import OrderedDict

import cv2
import numpy as np
import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import mmlightvit  # noqa: F401  (backbones and heads)
from mmlightvit.datasets.toy import IMAGENET_TOY_CLASSES, make_toy_imagenet
from mmlightvit.models.backbones import EMO, RepViT
from mmlightvit.models.backbones.emo import convert_official_emo
from mmlightvit.models.backbones.mobilevit import MobileViT, convert_mobilevit
from mmlightvit.models.backbones.repvit import convert_repvit
from mmlightvit.models.heads import ExMobileViTClsHead, PooledLinearClsHead

from helpers import (ROOT, failure_summary, num_params, randomise,
                     run_tool)
from official_data import (assert_close_relative, case_id, cases,
                           official_input, official_num_params,
                           official_outputs, official_state_dict)

CONFIG_DIR = osp.join(ROOT, 'configs')
# Parameters of the 1000-class classifiers, as the references count them:
# EMO's official models (README 1.3M / 2.3M / 5.1M / 6.1M), timm's MobileViT
# (= ml-cvnets'), timm's RepViT without the distillation head (README 5.1M /
# 6.8M / 8.2M / 14.0M / 22.9M) and ExMobileViT with its ExShortcuts (see
# tests/test_exmobilevit.py).
PARAMS = {
    'emo/emo-1m_8xb256_in1k.py': 1361168,
    'emo/emo-2m_8xb256_in1k.py': 2377472,
    'emo/emo-5m_8xb256_in1k.py': 5108848,
    'emo/emo-6m_8xb256_in1k.py': 6168496,
    'repvit/repvit-m0-9_8xb256_in1k.py': 5103560,
    'repvit/repvit-m1-0_8xb256_in1k.py': 6852900,
    'repvit/repvit-m1-1_8xb256_in1k.py': 8288888,
    'repvit/repvit-m1-5_8xb256_in1k.py': 14130408,
    'repvit/repvit-m2-3_8xb256_in1k.py': 23046512,
    # with the distillation classifier (timm's distilled repvit_* counts)
    'repvit/repvit-m0-9-distilled_8xb256_in1k.py': 5489328,
    'repvit/repvit-m1-0-distilled_8xb256_in1k.py': 7302796,
    'repvit/repvit-m1-1-distilled_8xb256_in1k.py': 8802912,
    'repvit/repvit-m1-5-distilled_8xb256_in1k.py': 14644432,
    'repvit/repvit-m2-3-distilled_8xb256_in1k.py': 23688792,
    'mobilevit/mobilevit-xxs_8xb128_in1k.py': 1272024,
    'mobilevit/mobilevit-xs_8xb128_in1k.py': 2317848,
    'mobilevit/mobilevit-s_8xb128_in1k.py': 5578632,
    'exmobilevit/exmobilevit-576_8xb128_in1k.py': 5500168,
    'exmobilevit/exmobilevit-640_8xb128_in1k.py': 5572488,
    'exmobilevit/exmobilevit-928_8xb128_in1k.py': 5899976,
}
# (schedule, per-GPU batch, base batch, lr, EMA momentum) of each family
RECIPES = {
    'emo': ('imagenet_bs2048_adamw_emo', 256, 2048, 6e-3, 2e-4),
    'repvit': ('imagenet_bs2048_adamw_repvit', 256, 2048, 4e-3, 4e-5),
    'mobilevit': ('imagenet_bs1024_adamw_mobilevit', 128, 1024, 2e-3, 5e-4),
    # the authors' code: no EMA
    'exmobilevit': ('imagenet_bs1024_adamw_exmobilevit', 128, 1024, 2e-3,
                    None),
}
# The small arch of each family that trains on the toy set.
TRAIN_CONFIGS = {
    'repvit': 'repvit/repvit-m0-9_8xb256_in1k.py',
    'mobilevit': 'mobilevit/mobilevit-xxs_8xb128_in1k.py',
    'exmobilevit': 'exmobilevit/exmobilevit-576_8xb128_in1k.py',
}
TOOLS_CONFIG = 'emo/emo-1m_8xb256_in1k.py'
CROP = 48  # train/test crops of the toy runs (toy images are 64x64)
NUM_TOY_CLASSES, PER_CLASS, VAL_PER_CLASS = 4, 8, 2


@contextlib.contextmanager
def kept_default_scope():
    """mmengine's Runner makes 'mmpretrain' the process-wide default scope;
    give the other tests of the session back the scope they had."""
    instances = DefaultScope._instance_dict.copy()
    try:
        yield
    finally:
        DefaultScope._instance_dict.clear()
        DefaultScope._instance_dict.update(instances)


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return make_toy_imagenet(
        str(tmp_path_factory.mktemp('imagenet')), num_classes=NUM_TOY_CLASSES,
        per_class=PER_CLASS, val_per_class=VAL_PER_CLASS, size=64, seed=0)


def load_config(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


# (a) toy ImageNet ------------------------------------------------------------
def test_toy_imagenet_layout_and_dataset(toy_root, tmp_path):
    from mmpretrain.datasets import ImageNet
    labels = [label for label, _ in IMAGENET_TOY_CLASSES[:NUM_TOY_CLASSES]]
    wnids = [wnid for _, wnid in IMAGENET_TOY_CLASSES[:NUM_TOY_CLASSES]]
    assert sorted(os.listdir(osp.join(toy_root, 'train'))) == wnids
    assert sorted(os.listdir(osp.join(toy_root, 'meta'))) == [
        'train.txt', 'val.txt']
    with open(osp.join(toy_root, 'meta', 'train.txt')) as f:
        first = f.readline().split()
    assert first == [f'{wnids[0]}/{wnids[0]}_1.JPEG', str(labels[0])]

    train = ImageNet(data_root=toy_root, split='train', pipeline=[])
    val = ImageNet(data_root=toy_root, split='val', pipeline=[])
    assert len(train) == NUM_TOY_CLASSES * PER_CLASS
    assert len(val) == NUM_TOY_CLASSES * VAL_PER_CLASS
    assert len(train.CLASSES) == 1000  # the real ImageNet classes
    assert sorted({train.get_cat_ids(i)[0] for i in range(len(train))}
                  ) == labels
    assert val.get_data_info(0)['img_path'] == osp.join(
        toy_root, 'val', 'ILSVRC2012_val_00000001.JPEG')
    assert [val.get_cat_ids(i)[0] for i in range(NUM_TOY_CLASSES)
            ] == labels  # classes interleaved

    # deterministic; an image does not depend on how many are written
    again = make_toy_imagenet(str(tmp_path), num_classes=NUM_TOY_CLASSES,
                              per_class=2, size=64, seed=0)
    name = f'{wnids[1]}/{wnids[1]}_2.JPEG'
    assert np.array_equal(cv2.imread(osp.join(toy_root, 'train', name)),
                          cv2.imread(osp.join(again, 'train', name)))
    # an existing set is left alone unless overwrite
    assert make_toy_imagenet(str(tmp_path), num_classes=2) == str(tmp_path)
    assert len(os.listdir(osp.join(again, 'train'))) == NUM_TOY_CLASSES
    with pytest.raises(ValueError, match='num_classes must be in 2..20'):
        make_toy_imagenet(str(tmp_path / 'x'), num_classes=21)


def _object_colour(img):
    """Mean BGR of the saturated pixels (the class object)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    return img[hsv[..., 1] > 120].reshape(-1, 3).mean(0)


def test_toy_classes_are_learnable(tmp_path):
    """The classes can be told apart from the pixels: a nearest-centroid
    classifier on the objects' mean colour is right on every val image."""
    root = make_toy_imagenet(str(tmp_path), num_classes=20, per_class=4,
                             val_per_class=2, size=48, seed=3)

    def read(split):
        with open(osp.join(root, 'meta', f'{split}.txt')) as f:
            items = [line.split() for line in f]
        return (np.stack([_object_colour(cv2.imread(osp.join(root, split, p)))
                          for p, _ in items]),
                np.array([int(label) for _, label in items]))

    x, y = read('train')
    classes = np.unique(y)
    centroids = np.stack([x[y == c].mean(0) for c in classes])
    xv, yv = read('val')
    nearest = classes[((xv[:, None] - centroids[None])**2).sum(-1).argmin(1)]
    assert (nearest == yv).all()


def test_cli(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'make_toy_data',
        osp.join(ROOT, 'tools', 'dataset_converters', 'make_toy_data.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'imagenet')
    cli.main(['imagenet', '--out', out, '--num-classes', '3',
              '--per-class', '2', '--size', '32'])
    with open(osp.join(out, 'meta', 'train.txt')) as f:
        assert len(f.readlines()) == 6
    with open(osp.join(out, 'meta', 'val.txt')) as f:
        assert len(f.readlines()) == 3  # max(1, per_class // 4) per class


# (b) configs -----------------------------------------------------------------
def test_param_counts_and_recipes():
    found = sorted(
        osp.relpath(osp.join(d, f), CONFIG_DIR)
        for d, _, files in os.walk(CONFIG_DIR) for f in files
        if f.endswith('_in1k.py'))
    assert found == sorted(PARAMS)
    for rel, expected in PARAMS.items():
        cfg = load_config(rel)
        family = rel.split('/')[0]
        schedule, batch, base_batch, lr, ema = RECIPES[family]
        assert cfg.default_scope == 'mmpretrain'
        assert 'mmlightvit' in cfg.custom_imports.imports
        gpus, per_gpu = re.search(r'_(\d+)xb(\d+)_in1k', rel).groups()
        assert int(gpus) * int(per_gpu) == base_batch
        assert cfg.train_dataloader.batch_size == batch == int(per_gpu)
        assert cfg.auto_scale_lr.base_batch_size == base_batch
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'
        assert cfg.optim_wrapper.optimizer.lr == lr
        assert cfg.train_cfg.max_epochs == 300
        assert cfg.val_evaluator == dict(type='Accuracy', topk=(1, 5))
        assert cfg.train_dataloader.dataset.type == 'ImageNet'
        assert cfg.train_dataloader.dataset.data_root == 'data/imagenet'
        assert cfg.model.head.num_classes == 1000
        hooks = {h.type: h for h in cfg.custom_hooks}
        assert 'RandomStateHook' in hooks
        if ema is None:
            assert 'EMAHook' not in hooks, rel
        else:
            assert hooks['EMAHook'].momentum == ema
        model = MODELS.build(cfg.model)
        assert num_params(model) == expected, rel
    # mmpretrain's own MobileViT is not ours: the configs name ours
    assert load_config(TRAIN_CONFIGS['mobilevit']).model.backbone.type == \
        'MobileViTBackbone'


def _load_reference(model, ref_state, convert, head_keys):
    """Our classifier <- a reference classifier's weights: the backbone
    through its converter, the head by ``head_keys`` (ours: theirs)."""
    model.backbone.load_state_dict(convert(ref_state), strict=True)
    model.head.load_state_dict(
        OrderedDict((k, ref_state[v]) for k, v in head_keys.items()),
        strict=False)
    head_state = model.head.state_dict()
    missing = [k for k in head_state if k not in head_keys
               and not k.endswith('num_batches_tracked')]
    assert not missing, missing
    return model.eval()


@pytest.mark.parametrize('family', ['repvit', 'mobilevit'])
def test_head_matches_timm_classifier(family):
    """Our classifier (config model, mmpretrain ImageClassifier) computes the
    timm classifier's logits from the same weights."""
    if family == 'repvit':
        rel = 'repvit/repvit-m0-9_8xb256_in1k.py'
        ref = randomise(timm.create_model('repvit_m0_9', distillation=False))
        convert = convert_repvit
        head_keys = {f'post_norm.{k}': f'head.head.bn.{k}' for k in (
            'weight', 'bias', 'running_mean', 'running_var')}
        head_keys.update({'fc.weight': 'head.head.l.weight',
                          'fc.bias': 'head.head.l.bias'})
    else:
        rel = 'mobilevit/mobilevit-xxs_8xb128_in1k.py'
        ref = randomise(timm.create_model('mobilevit_xxs'))
        convert = convert_mobilevit
        head_keys = {'fc.weight': 'head.fc.weight', 'fc.bias': 'head.fc.bias'}
    model = MODELS.build(load_config(rel).model)
    assert isinstance(model.head, PooledLinearClsHead)
    assert num_params(model) == num_params(ref)
    model = _load_reference(model, ref.state_dict(), convert, head_keys)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = ref(x)
        logits = model(x, mode='tensor')
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=1e-4)


# the official EMO classifier's final norm and Linear head -> ours
EMO_HEAD_KEYS = {'pre_norm.weight': 'norm.norm.weight',
                 'pre_norm.bias': 'norm.norm.bias',
                 'fc.weight': 'head.weight', 'fc.bias': 'head.bias'}


@pytest.mark.parametrize('case', cases(), ids=case_id)
def test_head_matches_official_emo_classifier(case):
    """Our EMO classifier (config model, mmpretrain ImageClassifier) with the
    official checkpoint's weights (drawn by the rule of tests/data/
    emo_official/README.md) gives the official model's logits, stored as
    data, for every stored case."""
    arch = case['arch']
    cfg = load_config(f'emo/emo-{arch.lower()}_8xb256_in1k.py').model
    cfg.backbone.window_size = case['window_size']
    model = MODELS.build(cfg)
    assert isinstance(model.head, PooledLinearClsHead)
    assert num_params(model) == official_num_params(arch)
    model = _load_reference(model, official_state_dict(arch),
                            convert_official_emo, EMO_HEAD_KEYS)
    with torch.no_grad():
        logits = model(official_input(case), mode='tensor')
    assert_close_relative(logits, official_outputs(case)['logits'], 'logits')


# (c) training on the toy ImageNet --------------------------------------------
def toy_options(data_root):
    """Config overrides (as --cfg-options) for a one-epoch CPU run on the toy
    set: small crops and batches, no worker processes."""
    options = {
        'train_dataloader.dataset.pipeline.1.scale': CROP,
        'train_dataloader.batch_size': 8,
        'default_hooks.logger.interval': 1,
        'train_cfg.max_epochs': 1,
        'randomness.seed': 0,
        'env_cfg.cudnn_benchmark': False,
    }
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.data_root'] = data_root
        options[f'{split}_dataloader.num_workers'] = 0
        options[f'{split}_dataloader.persistent_workers'] = False
    for split in ('val', 'test'):
        options[f'{split}_dataloader.batch_size'] = 8
        options[f'{split}_dataloader.dataset.pipeline.1.scale'] = CROP
        options[f'{split}_dataloader.dataset.pipeline.2.crop_size'] = CROP
    return options


def _top1(out):
    match = re.search(r'accuracy/top1: ([\d.]+)\s+accuracy/top5: ([\d.]+)',
                      out)
    assert match, out[-3000:]
    top1, top5 = map(float, match.groups())
    assert 0 <= top1 <= top5 <= 100
    return top1


@pytest.fixture(scope='module')
def emo_checkpoint(toy_root, tmp_path_factory):
    """EMO-1M trained for one epoch through tools/train.py; its top-1 and
    top-5 through tools/test.py."""
    work_dir = str(tmp_path_factory.mktemp('emo_cls'))
    options = [f'{k}={v}' for k, v in toy_options(toy_root).items()]
    rc, out = run_tool('tools/train.py', osp.join('configs', TOOLS_CONFIG),
                       '--work-dir', work_dir, '--cfg-options', *options)
    assert rc == 0, failure_summary(out)
    assert re.search(r'Epoch\(train\)\s*\[1\]\[4/4\]', out), out[-3000:]
    _top1(out)  # the validation at the end of the epoch
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    rc, out = run_tool('tools/test.py', osp.join('configs', TOOLS_CONFIG),
                       checkpoint, '--work-dir', work_dir, '--cfg-options',
                       *options)
    assert rc == 0, failure_summary(out)
    return checkpoint, _top1(out)


@pytest.mark.slow
def test_tools_train_and_test(emo_checkpoint):
    checkpoint, top1 = emo_checkpoint
    state = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    assert 'head.pre_norm.weight' in state and 'head.fc.weight' in state
    assert state['head.fc.weight'].shape == (1000, 168)
    assert top1 % (100 / (NUM_TOY_CLASSES * VAL_PER_CLASS)) == 0


def test_checkpoint_initialises_dense_backbone(emo_checkpoint, log_messages):
    """The classification checkpoint is the dense backbone's init_cfg: every
    weight of EMO (as the segmentation configs build it) is the trained
    classifier's backbone weight, nothing missing or unexpected."""
    checkpoint, _ = emo_checkpoint
    trained = torch.load(checkpoint, map_location='cpu',
                         weights_only=False)['state_dict']
    dense = EMO('1M', out_indices=(1, 2, 3, 4), init_cfg=dict(
        type='Pretrained', checkpoint=checkpoint))
    before = {k: v.clone() for k, v in dense.state_dict().items()}
    dense.init_weights()
    assert not [m for m in log_messages if 'missing' in m or 'unexpected' in m]
    state = dense.state_dict()
    assert state.keys() == {k[len('backbone.'):] for k in trained
                            if k.startswith('backbone.')}
    for key, value in state.items():
        assert torch.equal(value, trained[f'backbone.{key}']), key
    assert any(not torch.equal(before[k], v) for k, v in state.items()
               if v.is_floating_point())


def test_load_pretrained_weights_prefix(tmp_path):
    """``backbone.`` keys are picked out of whole models (RepViT here: its
    converter passes them through); plain checkpoints load as before."""
    model = randomise(RepViT('m0_9'))
    whole = OrderedDict((f'backbone.{k}', v)
                        for k, v in model.state_dict().items())
    whole['head.fc.weight'] = torch.zeros(3, 384)
    path = str(tmp_path / 'whole.pth')
    torch.save(dict(state_dict=whole), path)
    other = RepViT('m0_9', init_cfg=dict(type='Pretrained', checkpoint=path))
    other.init_weights()
    assert all(torch.equal(v, model.state_dict()[k])
               for k, v in other.state_dict().items())
    from mmlightvit.models.checkpoint import load_pretrained_weights
    plain = MobileViT('xxs')
    result = load_pretrained_weights(plain, path, prefix=None)
    assert len(result.unexpected_keys) == len(whole)  # nothing picked out


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(TRAIN_CONFIGS))
def test_trains_on_toy_imagenet(family, toy_root, tmp_path):
    """One epoch (4 iterations) of the real config, in-process: finite
    losses, the weights move, top-1 / top-5 are reported."""
    from mmengine.runner import Runner
    cfg = load_config(TRAIN_CONFIGS[family])
    cfg.merge_from_dict(toy_options(toy_root))
    cfg.work_dir = str(tmp_path)
    cfg.launcher = 'none'
    before = {}

    class Snapshot(Hook):  # the weights as training starts (initialised)

        def before_train(self, runner):
            before.update((k, v.clone())
                          for k, v in runner.model.state_dict().items())

    with kept_default_scope():
        runner = Runner.from_cfg(cfg)
        runner.register_hook(Snapshot())
        runner.train()
    hub = runner.message_hub
    assert np.isfinite(hub.get_scalar('train/loss').current())
    top1 = hub.get_scalar('val/accuracy/top1').current()
    top5 = hub.get_scalar('val/accuracy/top5').current()
    assert 0 <= top1 <= top5 <= 100
    after = runner.model.state_dict()
    head = runner.model.head
    assert isinstance(head, ExMobileViTClsHead if family == 'exmobilevit'
                      else PooledLinearClsHead)
    moved = [k for k, v in after.items()
             if v.is_floating_point() and not torch.equal(v, before[k])]
    assert any(k.startswith('backbone.') for k in moved)
    assert 'head.fc.weight' in moved
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))


pytestmark = pytest.mark.usefixtures('single_thread')
