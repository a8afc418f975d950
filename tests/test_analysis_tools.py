"""The analysis / deployment tools and the image demo on tiny configs:
get_flops, benchmark, benchmark_timm, results_table, plot_curves,
reparameterize, pytorch2onnx, demo/image_demo, and the library behind them
(mmlightvit.apis).

Tools run in-process through their ``main(argv)``; one real training run
(tools/train.py on toy ADE20K, 2 iterations) runs as a subprocess in the
background from the start of the module and feeds results_table,
plot_curves and the segmentation demo.
"""
import csv
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from mmlightvit.apis import model_zoo
from mmlightvit.apis.checks import ConfigError
from mmlightvit.apis.flops import EXTRA_FLOP_HANDLES, model_complexity
from mmlightvit.apis.model import (build_model, default_input_shape,
                                   load_model_config)
from mmlightvit.apis.results import collect, to_records
from mmlightvit.datasets.toy import make_toy_ade20k
from helpers import failure_summary, num_params  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(
    ROOT, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py')
EMO_ADE_CONFIG = osp.join(
    ROOT, 'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')

pytestmark = pytest.mark.usefixtures('single_thread')


def load_tool(relpath):
    """A tool script as a module (its ``main(argv)`` runs in-process)."""
    name = 'tool_' + relpath.replace('/', '_').replace('.py', '')
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT,
                                                                 relpath))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


get_flops = load_tool('tools/analysis_tools/get_flops.py')
benchmark = load_tool('tools/analysis_tools/benchmark.py')
benchmark_timm = load_tool('tools/analysis_tools/benchmark_timm.py')
benchmark_train = load_tool('tools/analysis_tools/benchmark_train.py')
results_table = load_tool('tools/analysis_tools/results_table.py')
plot_curves = load_tool('tools/analysis_tools/plot_curves.py')
reparameterize = load_tool('tools/deployment/reparameterize.py')
pytorch2onnx = load_tool('tools/deployment/pytorch2onnx.py')
image_demo = load_tool('demo/image_demo.py')

# -- tiny configs -------------------------------------------------------------
SEG_EMO = """
_base_ = '{toy_config}'
data_root = '{data_root}'
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(channels=16, dilations=(1, 2, 3, 4)),
    auxiliary_head=dict(channels=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""
# the other families under the same heads: (backbone, decode / aux inputs)
SEG_FAMILY = """
_base_ = './seg_emo.py'
model = dict(
    backbone=dict(_delete_=True, {backbone}),
    decode_head=dict(in_channels={decode}),
    auxiliary_head=dict(in_channels={aux}))
"""
FAMILIES = {
    'repvit': ("type='RepViT', arch='m0_9', out_indices=(1, 2, 3, 4), "
               "norm_cfg=dict(type='SyncBN')", 384, 192),
    'mobilevit': ("type='MobileViTBackbone', arch='xxs', "
                  "out_indices=(1, 2, 3, 4)",
                  80, 64),
    'exmobilevit': ("type='ExMobileViT', arch='576', "
                    "out_indices=(1, 2, 3, 4)", 160, 128),
}
DET_EMO = """
default_scope = 'mmdet'
custom_imports = dict(imports=['mmlightvit'], allow_failed_imports=False)
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='EMO', arch='1M', out_indices=(2, 3, 4),
                  window_size=7, norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(type='FPN', in_channels=[48, 80, 168], out_channels=16,
              start_level=0, add_extra_convs='on_input', num_outs=4),
    bbox_head=dict(
        type='RetinaHead', num_classes=3, in_channels=16, stacked_convs=1,
        feat_channels=16,
        anchor_generator=dict(
            type='AnchorGenerator', octave_base_scale=4, scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32, 64]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.] * 4,
                        target_stds=[1.0] * 4),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                      alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.5), max_per_img=10))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(90, 60), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor'))
]
test_dataloader = dict(batch_size=1, dataset=dict(
    type='CocoDataset', data_root='nowhere/', pipeline=test_pipeline,
    metainfo=dict(classes=('a', 'b', 'c'))))
"""
CLS_EMO = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmlightvit'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='EMO', arch='1M', out_indices=(4, ),
                  norm_cfg=dict(type='SyncBN', eps=1e-6)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=168))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=72, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs')
]
test_dataloader = dict(batch_size=1, dataset=dict(
    type='CustomDataset', data_root='nowhere', pipeline=test_pipeline))
"""


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy')
    make_toy_ade20k(str(root), num_train=4, num_val=2, size=64, seed=3)
    return osp.join(str(root), 'ADEChallengeData2016')


@pytest.fixture(scope='module')
def configs(tmp_path_factory, toy_root):
    folder = tmp_path_factory.mktemp('configs')
    files = {'seg_emo': SEG_EMO.format(toy_config=TOY_CONFIG,
                                       data_root=toy_root),
             'det_emo': DET_EMO, 'cls_emo': CLS_EMO}
    for family, (backbone, decode, aux) in FAMILIES.items():
        files[f'seg_{family}'] = SEG_FAMILY.format(
            backbone=backbone, decode=decode, aux=aux)
    paths = {}
    for name, text in files.items():
        paths[name] = str(folder / f'{name}.py')
        with open(paths[name], 'w') as f:
            f.write(text)
    return paths


class BackgroundRun:
    """tools/train.py running in a subprocess; ``wait()`` for its end."""

    def __init__(self, args, log):
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        self.log = log
        self._log_file = open(log, 'w')
        self.proc = subprocess.Popen([sys.executable, *args], cwd=ROOT,
                                     stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env=env)

    def wait(self):
        rc = self.proc.wait(timeout=600)
        self._log_file.close()
        with open(self.log) as f:
            out = f.read()
        assert rc == 0, failure_summary(out)
        return out


@pytest.fixture(scope='module')
def train_run(configs, tmp_path_factory):
    """2 iterations of the tiny EMO DeepLabv3 on toy ADE20K, validated after
    each; started at once, waited for by the tests that need it."""
    work_dir = str(tmp_path_factory.mktemp('work') / 'seg_emo')
    run = BackgroundRun(['tools/train.py', configs['seg_emo'], '--work-dir',
                         work_dir], work_dir + '.log')
    run.work_dir = work_dir
    yield run
    if run.proc.poll() is None:
        run.proc.kill()


@pytest.fixture(scope='module', autouse=True)
def _start_training_first(train_run):
    """Start the background training before the first test of the module."""


def build(config, **kwargs):
    return build_model(load_model_config(config), **kwargs)


def randomise_bn_(model, seed=0):
    """Non-trivial BN statistics and affines (so folding them is tested)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(0.2 * torch.rand(n, generator=gen) - .1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(0.4 * torch.rand(n, generator=gen) + 0.2)
                m.bias.copy_(0.2 * torch.rand(n, generator=gen) - 0.1)
    return model


def conv_linear_macs(model, shape):
    """Multiply-adds of every Conv2d / Linear of the inference forward."""
    macs = []

    def hook(m, inputs, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            macs.append(out.numel() * k * m.in_channels // m.groups)
        else:
            macs.append(out.numel() * m.in_features)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.randn(1, 3, *shape), mode='tensor')
    for h in handles:
        h.remove()
    return sum(macs)


def save_checkpoint(model, path):
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


# -- get_flops ----------------------------------------------------------------
def test_get_flops_seg(configs, capsys):
    res = get_flops.main([configs['seg_emo'], '--shape', '64', '64'])
    full = build(configs['seg_emo'], with_aux=True)
    aux = num_params(full.auxiliary_head)
    assert res['task'] == 'seg' and res['shape'] == (64, 64)
    assert res['params'] == num_params(full) - aux  # inference model
    assert res['aux_params'] == aux > 0
    assert res['unsupported'] == {}
    out = capsys.readouterr().out
    assert f'Params: {res["params"] / 1e6:.2f}M ({res["params"]})' in out
    assert 'Input shape: 64x64' in out
    # plausible: the multiply-adds of the convolutions and linear layers,
    # counted here with hooks, plus a little (norms, attention, resizing)
    assert 1 < res['flops'] / conv_linear_macs(full, (64, 64)) < 1.3
    assert default_input_shape(
        load_model_config(configs['seg_emo'])) == (512, 512)


def test_get_flops_det_and_cls_shapes(configs):
    det = model_complexity(configs['det_emo'])
    # the test scale (w, h) = (90, 60), padded to multiples of 32
    assert det['task'] == 'det' and det['shape'] == (64, 96)
    assert det['params'] == num_params(build(configs['det_emo']))
    cls = model_complexity(configs['cls_emo'])
    assert cls['task'] == 'cls' and cls['shape'] == (64, 64)  # CenterCrop
    assert cls['params'] == num_params(build(configs['cls_emo']))
    assert det['flops'] > 0 and cls['flops'] > 0


def test_get_flops_counts_sdpa():
    """F.scaled_dot_product_attention (MobileViT) is counted: q @ k^T and
    attn @ v, multiply-adds."""

    class Attn(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    q, k, v = torch.randn(2, 4, 10, 8), torch.randn(2, 4, 6, 8), \
        torch.randn(2, 4, 6, 5)
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(Attn(), (q, k, v))
    analyzer.set_op_handle(**EXTRA_FLOP_HANDLES)
    assert analyzer.total() == 2 * 4 * 10 * 6 * (8 + 5)


def test_get_flops_all_table(configs, tmp_path, monkeypatch, capsys):
    broken = tmp_path / 'broken.py'
    broken.write_text("default_scope = 'mmseg'\nmodel = dict(type='Nope')\n")
    paths = [configs['seg_emo'], configs['det_emo'], str(broken)]
    monkeypatch.setattr(model_zoo, 'zoo_configs', lambda: paths)
    out = tmp_path / 'zoo.md'
    get_flops.main(['--all', '--published', '--out', str(out), '--shape',
                    '64', '64'])
    text = out.read_text()
    sections = text.split('\n### ')[1:]  # one table per task
    assert [s.splitlines()[0] for s in sections] == [
        'Semantic segmentation (ADE20K; PASCAL VOC 2012: the voc configs; '
        'mIoU)',
        'Object detection (COCO 2017, box AP)',
        'Configs that failed to build']
    header = sections[0].splitlines()[2]
    assert header.startswith('| config | params | FLOPs | input')
    assert 'published' in header and 'source' in header
    (seg, ), (det, ), (err, ) = [
        [line for line in s.splitlines() if line.startswith('| [')]
        for s in sections]
    assert '| 64x64 |' in seg and '(+' in seg and ' aux)' in seg
    assert '| 64x64 |' in det
    assert 'Nope' in err
    assert 'python tools/train.py CONFIG' in text
    assert 'metafile.yml' in text  # where the published numbers come from
    captured = capsys.readouterr()
    assert '| config |' in captured.out
    assert f'tables written to {out}' in captured.out
    assert [line.split()[0] for line in captured.err.splitlines()
            if line.startswith('[')] == ['[1/3]', '[2/3]', '[3/3]']


def test_get_flops_all_latency_beside_stock_rtmdet(configs, tmp_path,
                                                   monkeypatch, capsys):
    """``--latency REGEX``: the matching configs get their CPU latency,
    beside mmdet's stock RTMDet-tiny measured first in the same run (the
    head row of the detection table); ``--readme`` writes the tables between
    the zoo markers, and a file without them is refused before the run."""
    paths = [configs['seg_emo'], configs['det_emo']]
    monkeypatch.setattr(model_zoo, 'zoo_configs', lambda: paths)
    readme = tmp_path / 'README.md'
    readme.write_text('# head\n<!-- zoo:start -->\nold\n<!-- zoo:end -->\n'
                      'tail\n')
    det_name = osp.splitext(osp.basename(configs['det_emo']))[0]
    with pytest.raises(SystemExit):
        get_flops.main(['--all', '--latency', det_name, '--readme',
                        str(tmp_path / 'nothing.md')])
    assert 'nothing.md does not exist' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        get_flops.main(['--all', '--latency', '(', '--shape', '64'])
    with pytest.raises(SystemExit, match="pattern 'no-such' matches no"):
        get_flops.main(['--all', '--latency', 'no-such'])
    get_flops.main(['--all', '--latency', det_name, '--threads', '1',
                    '--repeat', '2', '--shape', '64', '64', '--readme',
                    str(readme)])
    text = readme.read_text()
    assert text.startswith('# head\n<!-- zoo:start -->\nTrain a config')
    assert text.endswith('<!-- zoo:end -->\ntail\n') and 'old' not in text
    seg, det = text.split('\n### ')[1:3]
    header = det.splitlines()[2]
    assert header.endswith('| CPU latency (ms, 1 thread(s)) | time / stock |')
    stock, ours = [line.split(' | ') for line in det.splitlines()[4:6]]
    assert stock[0] == '| mmdet rtmdet_tiny_8xb32-300e_coco (stock CSPNeXt)'
    assert ours[0].startswith(f'| [{det_name}]')
    assert stock[-1] == '1.00 |' and float(stock[-2]) > 0
    ratio = float(ours[-1].rstrip(' |'))
    assert ratio == pytest.approx(float(ours[-2]) / float(stock[-2]),
                                  rel=0.02, abs=0.02)
    seg_row = [line for line in seg.splitlines() if line.startswith('| [')]
    assert seg_row[0].endswith('|  |  |')  # not matched: not measured
    assert "--latency '" + det_name in text  # how it was measured


def test_model_zoo_lookup():
    """The published numbers come from the metafiles, found from what a
    config builds."""
    from mmlightvit.apis.model_zoo import (backbone_name, load_model_index,
                                           lookup)
    entry = lookup(load_model_config(EMO_ADE_CONFIG))
    assert entry['metrics'] == {'mIoU': 33.5, 'aAcc': 75.0}
    assert entry['params'] == 5_600_000 and entry['source'] == 'EMO README'
    assert entry['name'] == 'deeplabv3_emo-1m_8xb4-80k_ade20k-512x512'
    # the toy data set never matches a published number
    assert lookup(load_model_config(TOY_CONFIG)) is None
    assert backbone_name(dict(type='RepViT', arch='m1_1')) == 'RepViT-M1.1'
    assert backbone_name(dict(type='mmengine.MobileViT', arch='x_small')) \
        == 'MobileViT-XS'
    assert backbone_name(dict(type='MobileViTBackbone', arch='s')) == \
        'MobileViT-S'
    assert backbone_name(dict(type='ExMobileViT', arch=928)) == \
        'ExMobileViT-928'
    # the models with published numbers are told apart by what they build
    keys = [(e['task'], e['backbone'], e['head'], e['dataset'])
            for e in load_model_index() if e['metrics']]
    assert len(keys) == len(set(keys))


# -- benchmark ----------------------------------------------------------------
def _check_stats(res, batch=1):
    assert 0 < res['min'] <= res['median']
    assert res['p25'] <= res['median'] <= res['p75']
    assert res['iqr'] == pytest.approx(res['p75'] - res['p25'])
    assert res['images_per_s'] == pytest.approx(batch / res['median'])


def test_benchmark(configs, capsys, tmp_path):
    common = ['--shape', '64', '64', '--repeat', '3', '--warmup', '1',
              '--device', 'cpu']
    res = benchmark.main([configs['seg_emo'], *common, '--out',
                          str(tmp_path / 'bench.json')])
    _check_stats(res)
    assert res['n'] == 3 and res['switched'] == []
    captured = capsys.readouterr()
    assert 'Latency per batch: median' in captured.out
    assert 'images/s' in captured.out
    assert f'results written to {tmp_path / "bench.json"}' in captured.out
    assert 'run 4/4 (1 warm-up)' in captured.err  # n/N progress
    with open(tmp_path / 'bench.json') as f:
        assert json.load(f)['median'] == res['median']
    _check_stats(benchmark.main([configs['seg_emo'], '--backbone-only',
                                 '--batch-size', '2', *common]), batch=2)
    _check_stats(benchmark.main([configs['det_emo'], *common]))
    _check_stats(benchmark.main([configs['cls_emo'], '--mode', 'tensor',
                                 *common]))
    res = benchmark.main([configs['seg_repvit'], '--deploy', *common])
    assert res['switched'] == ['backbone']


def test_benchmark_train_mmseg_loss_beside_fused(configs, capsys):
    benchmark_train.main([configs['seg_emo'], '--batch-size', '2',
                          '--repeat', '2', '--warmup', '0'])
    out = capsys.readouterr().out
    assert 'batch 2 x 64x64' in out
    for name in ('mmseg', 'fused'):
        assert re.search(rf'\| {name} loss \| \d+ ± \d+ ms \|', out), out
    assert re.search(r'mmseg / fused\): \d+\.\d\dx', out), out
    values = re.findall(r'  (\S+): mmseg ([\d.]+), fused ([\d.]+)', out)
    assert {v[0] for v in values} == {
        'loss', 'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce',
        'aux.acc_seg'}
    for _, ref, fused in values:
        assert float(fused) == pytest.approx(float(ref), rel=1e-5, abs=1e-5)
    diff = float(re.search(r'\| = (\S+)', out).group(1))
    assert diff < 1e-5
    with pytest.raises(ConfigError, match='is not a segmentation config'):
        benchmark_train.main([configs['det_emo']])


def test_benchmark_timm(tmp_path):
    out = tmp_path / 'timm.md'
    results = benchmark_timm.main([
        '--archs', 'repvit_m0_9', 'mobilevit_xxs', '--shape', '64', '64',
        '--repeat', '1', '--warmup', '0', '--out', str(out)])
    shape, stats, diffs = results['repvit_m0_9']
    assert set(stats) == {'ours', 'timm', 'ours deploy', 'timm fused'}
    assert diffs['ours'] < 1e-5 and diffs['ours deploy'] < 1e-3
    shape, stats, diffs = results['mobilevit_xxs']
    assert set(stats) == {'ours', 'timm'} and diffs['ours'] < 1e-5
    text = out.read_text()
    assert 'ours/timm' in text and 'speed-up' in text
    assert text.count('| repvit_m0_9 |') == 2


# -- deployment ---------------------------------------------------------------
def test_reparameterize_repvit(configs, tmp_path, capsys):
    torch.manual_seed(0)
    model = randomise_bn_(build(configs['seg_repvit'], with_aux=True))
    ckpt = save_checkpoint(model, str(tmp_path / 'train.pth'))
    out = str(tmp_path / 'deploy.pth')
    res = reparameterize.main([configs['seg_repvit'], ckpt, out])
    assert res['switched'] == ['backbone']
    assert res['cfg_options'] == {'model.backbone.deploy': True}
    assert 'model.backbone.deploy=True' in capsys.readouterr().out

    # the written checkpoint loads strictly into the deploy=True config and
    # gives the training form's outputs
    cfg = load_model_config(configs['seg_repvit'],
                            {'model.backbone.deploy': True})
    deployed = build_model(cfg, with_aux=True)
    state = torch.load(out, map_location='cpu', weights_only=True)
    deployed.load_state_dict(state['state_dict'], strict=True)
    assert state['meta']['deploy'] is True
    assert num_params(deployed) < num_params(model)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref, got = model(x, mode='tensor'), deployed(x, mode='tensor')
    assert (got - ref).abs().max() <= 1e-4 * ref.abs().max()


def test_reparameterize_without_deploy_form_copies(configs, tmp_path, capsys):
    ckpt = save_checkpoint(build(configs['seg_emo'], with_aux=True),
                           str(tmp_path / 'emo.pth'))
    out = str(tmp_path / 'emo_deploy.pth')
    res = reparameterize.main([configs['seg_emo'], ckpt, out])
    assert res['switched'] == []
    assert 'EMO has no re-parameterisation' in capsys.readouterr().out
    with open(ckpt, 'rb') as a, open(out, 'rb') as b:
        assert a.read() == b.read()


# Every family exports with both exporters (checked by hand); here the
# default (dynamo, slow to export: ~10-25 s) runs on the deployed RepViT and
# the legacy TorchScript one (a few seconds) on the others.
ONNX_CASES = [
    ('seg_emo', ['--shape', '64', '64', '--exporter', 'legacy']),
    ('seg_repvit', ['--shape', '64', '64', '--deploy']),
    ('seg_mobilevit', ['--shape', '64', '96', '--exporter', 'legacy']),
    ('seg_exmobilevit', ['--shape', '64', '64', '--exporter', 'legacy']),
    ('det_emo', ['--shape', '64', '64', '--exporter', 'legacy']),
    ('cls_emo', ['--exporter', 'legacy']),
]


@pytest.mark.parametrize('name,args', ONNX_CASES,
                         ids=[c[0] for c in ONNX_CASES])
def test_pytorch2onnx_parity(configs, tmp_path, name, args):
    torch.manual_seed(0)
    model = randomise_bn_(build(configs[name], with_aux=True))
    ckpt = save_checkpoint(model, str(tmp_path / f'{name}.pth'))
    onnx_file = str(tmp_path / f'{name}.onnx')
    res = pytorch2onnx.main([configs[name], ckpt, '--out', onnx_file, *args])
    assert osp.isfile(onnx_file)
    assert res['max_abs_diff'] <= 1e-3 * res['scale'] and res['scale'] > 0
    task = name.split('_')[0]
    if task == 'seg':
        assert res['outputs'] == ['seg_logits']
    elif task == 'det':  # 4 levels of cls scores then 4 of bbox preds
        assert res['outputs'] == [f'cls_score_{i}' for i in range(4)] + [
            f'bbox_pred_{i}' for i in range(4)]
    else:
        assert res['outputs'] == ['logits'] and res['shape'] == (64, 64)
    assert res['exporter'] == ('legacy' if 'legacy' in args else 'dynamo')
    if '--deploy' in args:
        assert res['switched'] == ['backbone']


def test_pytorch2onnx_fails_on_mismatch(configs, tmp_path, monkeypatch):
    ckpt = save_checkpoint(build(configs['cls_emo']),
                           str(tmp_path / 'cls.pth'))
    from mmlightvit.apis import backends
    real = backends.load_backend
    monkeypatch.setattr(backends, 'load_backend', lambda *a, **k: (
        lambda x, run=real(*a, **k): [o + 1 for o in run(x)]))
    with pytest.raises(SystemExit, match='differ from PyTorch'):
        pytorch2onnx.main([configs['cls_emo'], ckpt, '--out',
                           str(tmp_path / 'cls.onnx'), '--exporter',
                           'legacy'])


def toy_image(toy_root):
    folder = osp.join(toy_root, 'images', 'validation')
    return osp.join(folder, sorted(os.listdir(folder))[0])


def check_picture(path, image, panels):
    """A picture of ``panels`` side by side, each the (64x64) image
    upscaled to 512 px, titles above and maybe a legend below."""
    with Image.open(path) as drawn, Image.open(image) as src:
        assert drawn.format == 'PNG' and src.size == (64, 64)
        width, height = drawn.size
    assert panels * 512 < width < panels * 512 + 60
    assert 512 < height < 700


def coco_ground_truth(path, image):
    """A COCO file with two boxes (classes 'b' and 'c') on ``image``."""
    with open(path, 'w') as f:
        json.dump({'images': [{'id': 7, 'file_name': osp.basename(image),
                               'width': 64, 'height': 64}],
                   'categories': [{'id': i + 1, 'name': n}
                                  for i, n in enumerate('abc')],
                   'annotations': [
                       {'id': 1, 'image_id': 7, 'category_id': 2,
                        'bbox': [4, 4, 20, 30], 'iscrowd': 0},
                       {'id': 2, 'image_id': 7, 'category_id': 3,
                        'bbox': [30, 10, 20, 20], 'iscrowd': 0}]}, f)
    return path


@pytest.mark.parametrize('name,summary', [
    ('det_emo', 'boxes with score >= 0'), ('cls_emo', 'class ')])
def test_image_demo_det_cls(configs, toy_root, tmp_path, capsys, name,
                            summary):
    ckpt = save_checkpoint(build(configs[name]), str(tmp_path / 'w.pth'))
    image, out = toy_image(toy_root), str(tmp_path / f'{name}.png')
    image_demo.main([image, configs[name], ckpt, '--out-file', out,
                     '--score-thr', '0'])
    check_picture(out, image, panels=2)  # input | prediction
    assert summary in capsys.readouterr().out
    gt = coco_ground_truth(str(tmp_path / 'gt.json'), image) \
        if name == 'det_emo' else '3'  # a class index (or name)
    image_demo.main([image, configs[name], ckpt, '--out-file', out,
                     '--score-thr', '0', '--gt', gt])
    check_picture(out, image, panels=3)  # input | ground truth | prediction
    assert f'(input | ground truth | prediction) written to {out}' in \
        capsys.readouterr().out


def test_inference_dataset_meta_and_zero_label():
    """Without a trained checkpoint the demo names classes from the
    config's dataset; ADE20K's labels are shifted (0 = ignored)."""
    from mmlightvit.apis.inference import (dataset_meta_from_config,
                                           reduce_zero_label)
    ade = load_model_config(EMO_ADE_CONFIG)
    meta = dataset_meta_from_config(ade)
    assert len(meta['classes']) == 150 and meta['classes'][0] == 'wall'
    assert len(meta['palette']) == 150
    assert reduce_zero_label(ade) and reduce_zero_label(
        load_model_config(TOY_CONFIG))
    imagenet = load_model_config(
        osp.join(ROOT, 'configs/emo/emo-1m_8xb256_in1k.py'))
    assert len(dataset_meta_from_config(imagenet)['classes']) == 1000
    det = load_model_config(
        osp.join(ROOT, 'configs/emo/retinanet_emo-1m_fpn_8xb4-1x_coco.py'))
    assert dataset_meta_from_config(det)['classes'][0] == 'person'
    assert not reduce_zero_label(det)


def test_image_demo_refuses_a_wrong_ground_truth(configs, toy_root,
                                                 tmp_path):
    ckpt = save_checkpoint(build(configs['cls_emo']),
                           str(tmp_path / 'w.pth'))
    with pytest.raises(SystemExit, match='--gt zebra: not a class index'):
        image_demo.main([toy_image(toy_root), configs['cls_emo'], ckpt,
                         '--out-file', str(tmp_path / 'x.png'),
                         '--gt', 'zebra'])


# -- after the background training run ----------------------------------------
@pytest.mark.slow
def test_results_table_and_curves(train_run, configs, tmp_path, capsys):
    train_run.wait()
    work_dir = train_run.work_dir
    (scalars, ) = [osp.join(root, f) for root, _, files in os.walk(work_dir)
                   for f in files if f == 'scalars.json']
    with open(scalars) as f:
        entries = [json.loads(line) for line in f]
    val = [e for e in entries if 'mIoU' in e]
    assert [e['step'] for e in val] == [1, 2]

    md, csv_file = str(tmp_path / 'table.md'), str(tmp_path / 'table.csv')
    (row, ) = results_table.main([work_dir, '--out', md, '--csv', csv_file,
                                  '--shape', '64', '64'])
    assert row['source'] == 'val' and row['step'] == 2
    assert row['metrics'] == {k: val[-1][k] for k in ('mIoU', 'aAcc', 'mAcc')}
    assert row['params'] == model_complexity(
        configs['seg_emo'], (64, 64))['params']
    assert row['published'] is None  # toy data
    with open(csv_file) as f:
        (record, ) = list(csv.DictReader(f))
    assert float(record['mIoU']) == pytest.approx(val[-1]['mIoU'], abs=0.01)
    assert record['task'] == 'seg' and record['input'] == '64x64'
    assert record['params'] == f'{row["params"] / 1e6:.2f}M'
    table = open(md).read()
    assert table.startswith('| run | task | config | mIoU | aAcc | mAcc |')
    assert '| seg_emo | seg |' in table

    png = str(tmp_path / 'curves.png')
    keys, metrics, n_train, n_val = plot_curves.main([work_dir, '--out',
                                                      png])
    assert 'loss' in keys and 'decode.loss_ce' in keys
    assert metrics == ['mIoU', 'aAcc', 'mAcc']
    assert (n_train, n_val) == (2, 2)
    with Image.open(png) as img:
        assert img.format == 'PNG' and img.size[0] > 100
    assert 'curves written to' in capsys.readouterr().out


@pytest.mark.slow
def test_results_table_prefers_test_results_and_det_in_percent(
        train_run, configs, tmp_path):
    """A tools/test.py result (<stamp>/<stamp>.json) wins over the training
    run's validation; mmdet's fractions are given in percent."""
    train_run.wait()
    seg = str(tmp_path / 'seg')
    shutil.copytree(train_run.work_dir, seg)
    stamp = '29991231_235959'  # newer than the training run
    os.makedirs(osp.join(seg, stamp))
    with open(osp.join(seg, stamp, f'{stamp}.json'), 'w') as f:
        json.dump({'aAcc': 50.0, 'mIoU': 12.5, 'mAcc': 20.0, 'time': 1}, f)

    det = tmp_path / 'det'
    (det / '20240101_000000' / 'vis_data').mkdir(parents=True)
    with open(configs['det_emo']) as f:
        (det / 'det_emo.py').write_text(f.read())
    lines = [{'lr': 0.01, 'loss': 1.0, 'step': 1},
             {'coco/bbox_mAP': 0.123, 'coco/bbox_mAP_50': 0.3,
              'coco/bbox_mAP_75': 0.1, 'coco/bbox_mAP_s': 0.01,
              'coco/bbox_mAP_m': 0.1, 'coco/bbox_mAP_l': 0.2, 'step': 1}]
    (det / '20240101_000000' / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps(line) for line in lines) + '\n')

    rows = collect([seg, str(det), str(tmp_path / 'none')], flops=False)
    assert rows[0]['source'] == 'test' and rows[0]['metrics']['mIoU'] == 12.5
    assert rows[1]['task'] == 'det' and rows[1]['source'] == 'val'
    assert 'no such folder' in rows[2]['error']
    records = to_records(rows)
    assert records[1]['AP'] == '12.30' and records[1]['AP50'] == '30.00'
    assert records[0]['AP'] == '' and records[0]['mIoU'] == '12.50'


@pytest.mark.slow
def test_image_demo_seg(train_run, toy_root, tmp_path, capsys):
    train_run.wait()
    image, out = toy_image(toy_root), str(tmp_path / 'seg.png')
    # the run's own dumped config (its data root, SyncBN etc.)
    config = osp.join(train_run.work_dir, 'seg_emo.py')
    name = osp.splitext(osp.basename(image))[0]
    gt = osp.join(toy_root, 'annotations', 'validation', f'{name}.png')
    image_demo.main([image, config, osp.join(train_run.work_dir,
                                             'iter_2.pth'),
                     '--out-file', out, '--gt', gt])
    check_picture(out, image, panels=3)
    with Image.open(out) as drawn:
        assert np.asarray(drawn).std() > 0
    assert 'classes (share of pixels)' in capsys.readouterr().out
