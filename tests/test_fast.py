"""mmlightvit.apis.fast: the fast inference path computes what the eager
model computes (fp32 within 1e-4 relative, per family, whole models too);
bf16 agreement bounded (feature cosine, label-map mIoU against fp32 on the
toy set); precisions the device cannot run refused; torch.compile's
failures fall back to eager with one logged line."""
import copy
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import mmlightvit  # noqa: F401  (registers the models)
from mmlightvit.apis import fast
from mmlightvit.apis.fast import (autocast_dtype, cpu_bf16_support,
                                  fast_inference, fold_batch_norms)
from mmlightvit.apis.model import build_model, load_model_config
from mmlightvit.apis.reparam import raw_outputs
from mmlightvit.models.backbones import EMO, RepViT
from mmlightvit.models.backbones.exmobilevit import ExMobileViT
from mmlightvit.models.backbones.mobilevit import MobileViT
from helpers import ROOT

pytestmark = pytest.mark.usefixtures('single_thread')

BACKBONES = {
    'emo': lambda: EMO('1M', out_indices=(1, 2, 3, 4), window_size=4),
    'repvit': lambda: RepViT(arch='m0_9', out_indices=(1, 2, 3, 4)),
    'mobilevit': lambda: MobileViT(arch='xxs', out_indices=(1, 2, 3, 4)),
    'exmobilevit': lambda: ExMobileViT(arch='576', out_indices=(1, 2, 3, 4)),
}
SEG_CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'
WHOLE = {
    'seg-emo': SEG_CONFIG,
    'seg-repvit': 'configs/repvit/deeplabv3_repvit-m0-9_8xb4-80k_ade20k-'
                  '512x512.py',
    'det-mobilevit': 'configs/mobilevit/ssdlite_mobilevit-xxs_1xb8-20e_toy-'
                     'coco-128x128.py',
}
BF16_OK = cpu_bf16_support()[0]


def live_statistics(model, seed=0):
    """BN running statistics away from the identity (a fresh model's BN is
    the identity in eval mode, which would hide folding mistakes)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
    return model.eval()


def relative_error(got, expected):
    return max((g.float() - e).abs().max().item() / e.abs().max().item()
               for g, e in zip(got, expected))


def backbone(name):
    torch.manual_seed(0)
    return live_statistics(BACKBONES[name]())


def whole_model(config):
    torch.manual_seed(0)
    cfg = load_model_config(osp.join(ROOT, config))
    return live_statistics(build_model(cfg))


@pytest.mark.parametrize('name', list(BACKBONES))
def test_backbone_fp32_matches_eager(name):
    model = backbone(name)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    prepared = fast_inference(copy.deepcopy(model), compile=False)
    got = prepared(x)
    assert relative_error(got, expected) < 1e-4
    settings = prepared.fast_settings
    if name == 'repvit':  # re-parameterised as a whole
        assert settings['switched'] == ['']
    if name != 'repvit':  # (RepViT's deploy form has no BN left)
        assert settings['folded'] > 0


@pytest.mark.parametrize('name', list(WHOLE))
def test_whole_model_fp32_matches_eager(name):
    model = whole_model(WHOLE[name])
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = raw_outputs(model, x)
    prepared = fast_inference(copy.deepcopy(model), compile=False)
    assert relative_error(raw_outputs(prepared, x), expected) < 1e-4
    assert prepared.fast_settings['wrapped'][0] == 'extract_feat'
    assert len(prepared.fast_settings['wrapped']) == 2  # + the head


def emo_attention_block():
    """An EMO block with window attention (SDPA) after a BN conv: a small
    graph for inductor."""
    from mmcv.cnn import ConvModule

    from mmlightvit.models.backbones.emo import IRMB
    torch.manual_seed(0)
    return live_statistics(torch.nn.Sequential(
        ConvModule(3, 32, 3, padding=1, norm_cfg=dict(type='BN')),
        IRMB(32, 32, 64, with_attn=True, dim_head=16, window_size=4,
             norm_cfg=dict(type='BN'))))


@pytest.mark.parametrize('make', [
    emo_attention_block,
    pytest.param(lambda: backbone('repvit'), marks=pytest.mark.slow)],
    ids=['emo-block', 'repvit-backbone'])
def test_compiled_matches_eager(make):
    """Through torch.compile (inductor, freezing): fp32 within 1e-4; the
    compiled path really ran (no fallback). The whole backbone compiles for
    about a minute or two on a busy 2-core machine: slow."""
    model = make()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    prepared = fast_inference(copy.deepcopy(model), compile=True)
    assert prepared.forward.compiled is not None
    got = prepared(x)
    assert prepared.forward.compiled is not None, 'compile fell back'
    assert relative_error(got, expected) < 1e-4


def test_channels_last_matches_eager():
    model = backbone('mobilevit')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    prepared = fast_inference(copy.deepcopy(model), compile=False,
                              channels_last=True)
    conv = next(m for m in prepared.modules()
                if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert relative_error(prepared(x), expected) < 1e-4


def label_agreement_miou(pred, ref, num_classes):
    """mIoU of the label maps ``pred`` taking ``ref`` as the ground truth
    (over the classes present in either)."""
    ious = []
    for c in range(num_classes):
        p, r = pred == c, ref == c
        union = (p | r).sum()
        if union:
            ious.append((p & r).sum() / union)
    return 100 * float(np.mean(ious))


def toy_images(tmp_path, n):
    from mmlightvit.datasets.toy import make_toy_ade20k
    from PIL import Image
    root = str(tmp_path / 'ade')
    make_toy_ade20k(root)
    folder = osp.join(root, 'ADEChallengeData2016', 'images', 'validation')
    names = sorted(os.listdir(folder))[:n]
    return [np.array(Image.open(osp.join(folder, f)).convert('RGB'))
            for f in names]


def test_bf16_agreement(tmp_path):
    """bf16 (CPU autocast) against fp32 on toy ADE20K images, through the
    whole segmentor: logits cosine >= 0.999, label maps mIoU >= 95 (fp32's
    labels as the ground truth). Where the CPU cannot run bf16 fast, the
    refusal says why."""
    if not BF16_OK:
        with pytest.raises(ValueError, match='neither AMX nor AVX512-BF16'):
            autocast_dtype('bf16')
        return
    model = whole_model(SEG_CONFIG)
    images = toy_images(tmp_path, 4)
    x = torch.stack([torch.from_numpy(im).permute(2, 0, 1).float()
                     for im in images])
    x = (x - 120.) / 60.
    prepared = fast_inference(copy.deepcopy(model), 'bf16', compile=False)
    metas = [dict(img_shape=x.shape[-2:], ori_shape=x.shape[-2:],
                  pad_shape=x.shape[-2:], padding_size=[0, 0, 0, 0])] * len(x)
    with torch.no_grad():
        ref = model.encode_decode(x, metas)
    got = prepared.encode_decode(x, metas)
    assert got.dtype == torch.float32  # post-processing sees float32
    cosine = F.cosine_similarity(got.flatten(1), ref.flatten(1)).min()
    miou = label_agreement_miou(got.argmax(1).numpy(),
                                ref.argmax(1).numpy(), got.shape[1])
    assert cosine >= 0.999, cosine
    assert miou >= 95, miou


def test_precisions_refused():
    with pytest.raises(ValueError, match='fp16 needs a CUDA GPU'):
        autocast_dtype('fp16', 'cpu')
    with pytest.raises(ValueError, match="one of .*got 'int8'"):
        autocast_dtype('int8')
    assert autocast_dtype('fp32') is None


def test_bf16_support_reported(monkeypatch):
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: False)
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported',
                        lambda: False)
    with pytest.raises(ValueError, match='bf16: this CPU .* has neither'):
        autocast_dtype('bf16', 'cpu')
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: True)
    assert autocast_dtype('bf16', 'cpu') == torch.bfloat16


def test_compile_failure_falls_back(monkeypatch, log_messages):
    """torch.compile refusing, or the compiled call failing: one logged
    line, then eager results."""
    model = backbone('emo')
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)

    def refuse(*args, **kwargs):
        raise RuntimeError('no compiler here')
    monkeypatch.setattr(torch, 'compile', refuse)
    prepared = fast_inference(copy.deepcopy(model))
    assert relative_error(prepared(x), expected) < 1e-4
    failing = fast_inference(copy.deepcopy(model), compile=False)
    failing.forward.compiled = refuse
    assert relative_error(failing(x), expected) < 1e-4
    assert failing.forward.compiled is None
    lines = [m for m in log_messages if 'torch.compile is not available' in m]
    assert len(lines) == 2 and 'no compiler here' in lines[0]


def test_prepared_twice_refused():
    model = fast_inference(backbone('emo'), compile=False)
    with pytest.raises(ValueError, match='already prepared'):
        fast_inference(model)


def test_fold_batch_norms_only_after_conv():
    """A ConvModule whose norm comes first (order norm, conv, act) keeps its
    BN; the others fold, with the same outputs."""
    from mmcv.cnn import ConvModule
    seq = torch.nn.Sequential(
        ConvModule(3, 4, 3, padding=1, norm_cfg=dict(type='BN')),
        ConvModule(4, 4, 3, padding=1, norm_cfg=dict(type='BN'),
                   order=('norm', 'conv', 'act')))
    live_statistics(seq)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        expected = seq(x)
        assert fold_batch_norms(seq) == 1
        assert isinstance(seq[0].bn, torch.nn.Identity)
        assert isinstance(seq[1].bn, torch.nn.BatchNorm2d)
        assert relative_error([seq(x)], [expected]) < 1e-5
    assert fast.describe(dict(precision='bf16', switched=[''], folded=1,
                              channels_last=False, compile=True,
                              wrapped=['forward'])) == (
        'bf16; re-parameterised model; 1 BatchNorms folded; torch.compile '
        '(forward)')


# -- the tools' --fast options ------------------------------------------------
def test_fast_hook(monkeypatch):
    """tools/test.py --fast: the hook prepares the (unwrapped) runner model
    before testing; a precision the device cannot run is one ConfigError."""
    from types import SimpleNamespace

    from mmlightvit.apis.checks import ConfigError
    runner = SimpleNamespace(model=backbone('emo'), hooks=[])
    runner.register_hook = runner.hooks.append
    fast.add_fast_hook(runner, 'fp32', compile=False)
    runner.hooks[0].before_test(runner)
    assert runner.model.fast_settings['precision'] == 'fp32'
    with pytest.raises(ConfigError, match='--precision fp16: .*CUDA GPU'):
        fast.add_fast_hook(SimpleNamespace(model=backbone('emo')), 'fp16')


def test_predict_fast_same_labels(tmp_path, monkeypatch):
    """The inferencer helper (image demo) through the fast path: the same
    label map as without (fp32; torch.compile refused here to stay quick,
    which also shows the eager fallback)."""
    from PIL import Image

    from mmlightvit.apis.inference import predict
    model = whole_model(SEG_CONFIG)
    ckpt = str(tmp_path / 'w.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    image = str(tmp_path / 'x.png')
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(image)
    config = osp.join(ROOT, SEG_CONFIG)
    plain = predict(image, config, ckpt)['sample'].pred_sem_seg.data

    def refuse(*args, **kwargs):
        raise RuntimeError('not now')
    monkeypatch.setattr(torch, 'compile', refuse)
    got = predict(image, config, ckpt, fast=True)['sample'].pred_sem_seg.data
    assert torch.equal(got, plain)


def load_tool(relpath):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'fast_' + osp.basename(relpath)[:-3], osp.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('tool,args', [
    ('demo/image_demo.py', ['x.png', 'c.py', 'w.pth', '--out-file', 'o.png']),
    ('tools/sam/segment.py', ['x.png', '--checkpoint', 'w.pth', '--out',
                              'o.png', '--everything']),
    ('tools/analysis_tools/benchmark.py', [SEG_CONFIG])])
def test_tools_refuse_fp16_on_cpu(tool, args, capsys):
    module = load_tool(tool)
    with pytest.raises(SystemExit):
        module.parse_args([*args, '--fast', '--precision', 'fp16',
                           '--device', 'cpu'])
    assert 'fp16 needs a CUDA GPU' in capsys.readouterr().err


def test_benchmark_compare(tmp_path, capsys):
    """Side by side on a tiny input: every candidate timed or 'n/a' with
    its reason (OpenVINO: timed when installed, else 'n/a: openvino is not
    installed'); the table goes between the README markers."""
    from mmlightvit.apis.backends import backend_available
    benchmark = load_tool('tools/analysis_tools/benchmark.py')
    readme = tmp_path / 'README.md'
    readme.write_text('# x\n<!-- benchmark:start -->\nold\n'
                      '<!-- benchmark:end -->\nafter\n')
    rows = benchmark.main([
        osp.join(ROOT, WHOLE['seg-repvit']), '--compare', '--shape', '32',
        '--repeat', '2', '--warmup', '0', '--no-compile', '--threads', '1',
        '--readme', str(readme)])
    assert [(name, res['part']) for name, res in rows] == [
        ('deeplabv3_repvit-m0-9_8xb4-80k_ade20k-512x512', 'backbone'),
        ('deeplabv3_repvit-m0-9_8xb4-80k_ade20k-512x512', 'model')]
    backbone_res, model_res = rows[0][1], rows[1][1]
    assert backbone_res['reference'] == 'timm repvit_m0_9'
    assert model_res['reference'] == 'ours, eager fp32'
    for res in (backbone_res, model_res):
        r = res['results']
        for label in ('eager fp32', 'fast fp32', 'onnxruntime'):
            assert r[label]['median'] > 0 and r[label]['n'] == 2
            assert r[label]['cosine'] > 0.9999, label
        assert r['fast fp32']['max_rel_diff'] < 1e-4
        if BF16_OK:  # really in bf16, and close
            assert 1e-4 < r['fast bf16']['max_rel_diff'] < 0.1
            assert r['fast bf16']['cosine'] > 0.999
        if backend_available('openvino'):
            assert r['openvino fp32']['max_rel_diff'] < 1e-3
        else:
            assert r['openvino fp32'] == ('n/a: openvino is not installed '
                                          '(optional extra: pip install -c '
                                          'requirements/constraints.txt -r '
                                          'requirements/optional.txt)')
    text = readme.read_text()
    assert 'old' not in text and text.endswith('<!-- benchmark:end -->\n'
                                               'after\n')
    assert '| deeplabv3_repvit-m0-9_8xb4-80k_ade20k-512x512 | backbone | ' \
        '32x32 | timm repvit_m0_9 |' in text
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith('| ')]
    assert len(printed) == 3 and all(line in text for line in printed)


# -- --amp on the CPU ---------------------------------------------------------
def test_amp_on_cpu(monkeypatch):
    """--amp without CUDA: bf16 autocast on a bf16 CPU (AGC kept); the
    forward of a training step runs in bf16, the weights stay float32."""
    from mmengine.optim import build_optim_wrapper

    from mmlightvit.apis.cli import enable_amp
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr('mmlightvit.apis.cli.cpu_bf16_support',
                        lambda: (True, 'AMX'))
    cfg = load_model_config(osp.join(ROOT, SEG_CONFIG))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    cfg.optim_wrapper.type = 'AGCOptimWrapper'
    cfg.optim_wrapper.pop('dtype')
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpAGCOptimWrapper'
    model = torch.nn.Conv2d(3, 4, 1)
    wrapper = build_optim_wrapper(model, dict(
        type='CPUAmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    with wrapper.optim_context(model):
        out = model(torch.randn(1, 3, 4, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert model.weight.dtype == torch.float32
    with pytest.raises(ValueError, match='autocasts to bfloat16'):
        build_optim_wrapper(model, dict(
            type='CPUAmpOptimWrapper', dtype='float16',
            optimizer=dict(type='SGD', lr=0.1)))


def test_pytorch2onnx_backends(tmp_path, capsys):
    """tools/deployment/pytorch2onnx.py runs the ONNX file with each backend
    asked for and checks it against PyTorch (OpenVINO: when installed,
    else one error line naming the optional extra)."""
    from mmlightvit.apis.backends import backend_available
    tool = load_tool('tools/deployment/pytorch2onnx.py')
    cfg = load_model_config(osp.join(ROOT, SEG_CONFIG))
    whole = live_statistics(build_model(cfg, with_aux=True))
    ckpt = str(tmp_path / 'w.pth')
    torch.save({'state_dict': whole.state_dict()}, ckpt)
    args = [osp.join(ROOT, SEG_CONFIG), ckpt, '--out',
            str(tmp_path / 'm.onnx'), '--shape', '32', '--exporter',
            'legacy', '--repeat', '2', '--backends', 'onnxruntime',
            'openvino']
    if not backend_available('openvino'):
        with pytest.raises(SystemExit, match='openvino is not installed'):
            tool.main(args)
        return
    res = tool.main(args)
    assert set(res['checks']) == {'onnxruntime', 'openvino'}
    for check in res['checks'].values():
        assert check['max_abs_diff'] <= 1e-3 * check['scale']
        assert check['median_s'] > 0
    out = capsys.readouterr().out
    assert 'openvino vs PyTorch (fp32): max abs difference' in out
    if BF16_OK:
        res = tool.main(args[:-2] + ['openvino', '--precision', 'bf16'])
        check = res['checks']['openvino']
        assert check['max_abs_diff'] <= 5e-2 * check['scale']
