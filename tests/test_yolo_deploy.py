"""Deploying the detectors: reparameterize.py folds RepViT inside whole
detector checkpoints (RTMDet, YOLOX, RetinaNet, SSDLite, Mask R-CNN) with
the same detections before and after; pytorch2onnx.py --det-output boxes
exports the decoded boxes and scores before NMS, and onnxruntime + the
numpy post-processing give mmdet's detections; --det-output detections puts
the post-processing, NMS included, in the file."""
import copy
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlightvit  # noqa: F401  (registers the backbones)
from mmlightvit.apis.export import (DetectorBoxes, compare_detections,
                                    postprocess_detections,
                                    postprocess_metadata)
from mmlightvit.apis.reparam import switch_to_deploy
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import make_toy_yolo
from helpers import ROOT

SCRATCH = ['--cfg-options', 'model.backbone.init_cfg=None']
SHAPE = (128, 128)

pytestmark = pytest.mark.usefixtures('single_thread')


def load_tool(path):
    """A tool script as a module (its ``main(argv)`` runs in-process)."""
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(rel, **options):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    cfg.model.backbone.init_cfg = None
    cfg.merge_from_dict(options)
    return cfg


def build(cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return MODELS.build(sync_bn_to_bn(copy.deepcopy(cfg.model)))


def random_checkpoint(cfg, path, seed=0):
    """A checkpoint of the detector as initialised for training (the heads'
    own schemes), with BN statistics and affine parameters drawn around
    their initial values, so that folding BN is not trivial."""
    torch.manual_seed(seed)
    model = build(cfg)
    model.init_weights()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
            m.weight.data.uniform_(0.8, 1.2)
            m.bias.data.uniform_(-0.1, 0.1)
    torch.save(dict(meta={}, state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def toy_images(tmp_path_factory):
    root = make_toy_yolo(str(tmp_path_factory.mktemp('yolo')), num_train=0,
                         num_val=2)
    return [cv2.imread(osp.join(root, 'images', 'val', f'{i:06d}.jpg'))
            for i in (1, 2)]


def preprocess(model, img):
    """``(network input, data sample)`` of a BGR image of the network's
    input size, through the model's data preprocessor."""
    from mmdet.structures import DetDataSample
    h, w = img.shape[:2]
    sample = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.),
        pad_shape=(h, w), batch_input_shape=(h, w)))
    data = model.data_preprocessor(dict(
        inputs=[torch.from_numpy(img).permute(2, 0, 1).contiguous()],
        data_samples=[sample]), False)
    return data['inputs'], data['data_samples']


def canonical(bboxes, scores, labels, max_per_img=None):
    """Detections in one order (score, then class, then box): which of two
    exactly equal scores comes first is up to the sort. When the list is
    full (``max_per_img``), the lowest score is left out: which of the
    boxes tied at the cut stay is up to the sort as well."""
    order = np.lexsort((*bboxes.T[::-1], labels, -scores))
    if max_per_img and len(order) == max_per_img:
        order = order[scores[order] > scores.min()]
    return bboxes[order], scores[order], labels[order]


def numpy_detections(model, cfg, x):
    """Detections of :func:`postprocess_detections` on the decoded boxes
    and scores of ``model`` (:class:`DetectorBoxes`), in the model's
    precision, with no score threshold (an untrained YOLOX or SSD scores
    under it everywhere)."""
    wrapper = DetectorBoxes(model, x.shape[-2:]).eval()
    with torch.no_grad():
        boxes, scores = wrapper(x)
    return postprocess_detections(
        boxes[0].numpy(), scores[0].numpy(),
        dict(cfg.model.test_cfg.to_dict(), score_thr=0.),
        wrapper.level_sizes, wrapper.multi_label)


@pytest.mark.parametrize('rel', [
    'repvit/rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py',
    'repvit/yolox_s_repvit-m0-9_8xb8-300e_coco.py',
    'repvit/retinanet_repvit-m0-9_fpn_8xb4-1x_coco.py',
    'repvit/ssdlite_repvit-m0-9_8xb24-120e_coco-320x320.py',
    'repvit/mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco.py',
])
def test_reparameterize_whole_detector(rel, tmp_path, toy_images, capsys):
    """The deploy-form checkpoint of the whole detector loads strictly into
    the config built with backbone.deploy=True (fewer parameters) and gives
    the training form's features to float32 rounding (1e-3 of their range,
    the tool's own check); folded in float64,
    where rounding cannot hide a difference, the features are the same to
    1e-9 and so are the detections (one-stage heads: every box, class and
    score of mmdet's post-processing)."""
    cfg = load(rel)
    ckpt = random_checkpoint(cfg, str(tmp_path / 'train.pth'))
    out = str(tmp_path / 'deploy.pth')
    result = load_tool('tools/deployment/reparameterize.py').main(
        [osp.join(ROOT, 'configs', rel), ckpt, out, '--shape',
         *map(str, SHAPE), *SCRATCH])
    assert 'switched to deploy form: backbone' in capsys.readouterr().out
    assert result['cfg_options'] == {'model.backbone.deploy': True}
    trained = build(cfg)
    trained.load_state_dict(torch.load(ckpt)['state_dict'])
    trained.eval()
    deployed = build(load(rel, **result['cfg_options']))
    state = torch.load(out, weights_only=False)
    deployed.load_state_dict(state['state_dict'], strict=True)
    deployed.eval()
    assert state['meta']['deploy'] is True
    assert sum(p.numel() for p in deployed.parameters()) < \
        sum(p.numel() for p in trained.parameters())
    exact = copy.deepcopy(trained).double()
    folded = copy.deepcopy(exact)
    switch_to_deploy(folded)
    for img in toy_images:
        x = preprocess(trained, img)[0]
        with torch.no_grad():
            for a, b in zip(trained.extract_feat(x),
                            deployed.extract_feat(x)):
                assert (a - b).abs().max() <= 1e-3 * a.abs().max()
            for a, b in zip(exact.extract_feat(x.double()),
                            folded.extract_feat(x.double())):
                assert (a - b).abs().max() <= 1e-9 * a.abs().max()
        if hasattr(trained, 'bbox_head'):  # one-stage
            a = canonical(*numpy_detections(exact, cfg, x.double()))
            b = canonical(*numpy_detections(folded, cfg, x.double()))
            assert len(a[2]) > 0
            np.testing.assert_array_equal(a[2], b[2])  # labels
            np.testing.assert_allclose(a[0], b[0], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('rel', [
    'repvit/rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py',
    'emo/yolox_s_emo-1m_8xb8-300e_coco.py',
    'mobilevit/rtmdet_tiny_mobilevit-xxs_8xb32-300e_coco.py',
])
def test_onnx_boxes_before_nms(rel, tmp_path, toy_images, capsys):
    """pytorch2onnx.py --det-output boxes (RepViT in its deploy form):
    onnxruntime's boxes and scores are PyTorch's, the file holds what the
    post-processing needs, and the numpy post-processing of the README
    gives exactly mmdet's detections from the same decoded outputs."""
    import onnxruntime as ort
    cfg = load(rel)
    ckpt = random_checkpoint(cfg, str(tmp_path / 'model.pth'))
    onnx_file = str(tmp_path / 'det.onnx')
    deploy = ['--deploy'] if 'repvit' in rel else []
    result = load_tool('tools/deployment/pytorch2onnx.py').main([
        osp.join(ROOT, 'configs', rel), ckpt, '--out', onnx_file,
        '--shape', *map(str, SHAPE), '--det-output', 'boxes',
        '--exporter', 'legacy', *deploy, *SCRATCH])
    assert result['outputs'] == ['boxes', 'scores']
    assert 'onnxruntime vs PyTorch' in capsys.readouterr().out
    model = build(cfg)
    model.load_state_dict(torch.load(ckpt)['state_dict'])
    if deploy:
        switch_to_deploy(model)
    model.eval()
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    meta = postprocess_metadata(session)
    assert meta['test_cfg'] == cfg.model.test_cfg.to_dict()
    # no score threshold: an untrained YOLOX scores under it everywhere
    meta['test_cfg']['score_thr'] = model.bbox_head.test_cfg.score_thr = 0.
    for img in toy_images:
        x, samples = preprocess(model, img)
        wrapper = DetectorBoxes(model, SHAPE).eval()
        assert meta['level_sizes'] == wrapper.level_sizes
        assert meta['multi_label'] == wrapper.multi_label
        with torch.no_grad():
            ours = wrapper(x)
            pred = model.predict(x, samples)[0].pred_instances
        for torch_out, ort_out in zip(ours, session.run(
                None, {'input': x.numpy()})):
            np.testing.assert_allclose(ort_out, torch_out.numpy(),
                                       rtol=1e-3, atol=1e-3)
        full = meta['test_cfg'].get('max_per_img')
        ours = canonical(*postprocess_detections(
            ours[0][0].numpy(), ours[1][0].numpy(), **meta), full)
        theirs = canonical(pred.bboxes.numpy(), pred.scores.numpy(),
                           pred.labels.numpy(), full)
        assert len(ours[2]) == len(theirs[2]) > 0
        np.testing.assert_array_equal(ours[2], theirs[2])  # labels
        np.testing.assert_allclose(ours[0], theirs[0], atol=1e-4)
        np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)


@pytest.mark.parametrize('rel', [
    'repvit/rtmdet_tiny_repvit-m0-9_8xb32-300e_coco.py',
    'emo/yolox_s_emo-1m_8xb8-300e_coco.py',
    'mobilevit/rtmdet_tiny_mobilevit-xxs_8xb32-300e_coco.py',
])
def test_onnx_detections_with_nms(rel, tmp_path, toy_images, capsys):
    """pytorch2onnx.py --det-output detections: NMS in the file; on the toy
    images onnxruntime's detections are mmdet's ``predict``, with a score
    threshold under which some are left out (fewer than max_per_img, so
    the number of detections comes from the graph, not from a fixed
    size)."""
    import onnxruntime as ort
    cfg = load(rel)
    torch.manual_seed(1)
    model = build(cfg)
    model.init_weights()
    with torch.no_grad():  # scores spread out (as initialised they tie)
        for name, param in model.bbox_head.named_parameters():
            if name.endswith('bias') and ('cls' in name or 'obj' in name):
                param.add_(torch.randn_like(param))
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(meta={}, state_dict=model.state_dict()), ckpt)
    model.eval()
    inputs = [preprocess(model, img) for img in toy_images]
    # the threshold: in the widest gap between the scores of both images'
    # detections (no threshold) around the first image's 10th-30th best, so
    # that float rounding decides none
    model.bbox_head.test_cfg.score_thr = 0.
    with torch.no_grad():
        scores = [model.predict(x, s)[0].pred_instances.scores
                  for x, s in inputs]
    near = torch.cat(scores).unique()
    near = near[(near >= scores[0][30]) & (near <= scores[0][10])]
    i = int((near[1:] - near[:-1]).argmax())
    thr = float(near[i:i + 2].mean())
    onnx_file = str(tmp_path / 'det.onnx')
    result = load_tool('tools/deployment/pytorch2onnx.py').main([
        osp.join(ROOT, 'configs', rel), ckpt, '--out', onnx_file,
        '--shape', *map(str, SHAPE), '--det-output', 'detections',
        '--exporter', 'legacy', *SCRATCH, f'model.test_cfg.score_thr={thr}'])
    assert result['outputs'] == ['dets', 'labels']
    assert 'onnxruntime vs PyTorch' in capsys.readouterr().out
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    model.bbox_head.test_cfg.score_thr = thr
    for x, samples in inputs:
        with torch.no_grad():
            pred = model.predict(x, samples)[0].pred_instances
        dets, labels = session.run(None, {'input': x.numpy()})
        assert 0 < len(labels) == len(pred.labels) < cfg.model.test_cfg.get(
            'max_per_img', np.inf)
        theirs = torch.cat([pred.bboxes, pred.scores[:, None]], 1)
        # each paired with one of the same label, box within 1e-3 and score
        # within 1e-5 (the order of near-equal scores is up to rounding)
        diff, _, unmatched = compare_detections(
            (theirs, pred.labels), (dets, labels), thr, 1e-3, 1e-5)
        assert unmatched == 0 and diff <= 1e-3
