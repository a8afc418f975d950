"""Export a segmentor / detector / classifier to ONNX and check it with
onnxruntime against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT
        [--out model.onnx] [--shape H W] [--deploy]
        [--det-output raw|boxes|detections]
        [--exporter dynamo|legacy] [--opset N] [--rtol 1e-3]
        [--backends onnxruntime openvino] [--precision fp32|bf16]
        [--repeat 10] [--threads N]
        [--cfg-options k=v ...]

What is exported (static shapes, batch 1; the input is the normalised image
tensor ``input`` of shape 1x3xHxW, i.e. after the data preprocessor's
BGR->RGB / mean / std, as mmdeploy does):

* segmentors: the whole network up to the class logits resized to the input
  (``seg_logits``, 1 x classes x H x W; mmseg's ``encode_decode``), without
  the training-only auxiliary head; argmax gives the label map;
* detectors: up to the raw head outputs, per FPN/SSD level, ``cls_score_<i>``
  and ``bbox_pred_<i>`` (no anchor decoding / NMS, which stay outside); with
  ``--det-output boxes`` (one-stage dense heads: RTMDet, YOLOX, RetinaNet,
  SSDLite) up to the decoded ``boxes`` (1xNx4, input pixels) and ``scores``
  (1xNxclasses) of every prior before NMS, the file's metadata holding what
  the post-processing needs (``level_sizes``, ``multi_label``, the model's
  ``test_cfg``): :func:`mmlightvit.apis.export.postprocess_detections`
  (numpy) then gives mmdet's detections (README, "Deploy the detector");
  with ``--det-output detections`` (the same heads) up to the detections
  themselves, NMS included (ONNX NonMaxSuppression): ``dets`` (Kx5: x1 y1 x2
  y2 in input pixels, score) and ``labels`` (K), the config's ``test_cfg``
  in the graph (:class:`mmlightvit.apis.export.DetectorDetections`); the
  check pairs each detection with the backend's of the same label;
* classifiers: the logits (``logits``).

``--deploy`` exports the re-parameterised form (``switch_to_deploy()``,
RepViT). The default input size is get_flops': seg 512x512, det the config's
test scale, cls its test crop.

Exporter: ``torch.onnx.export(..., dynamo=True)`` (torch.export-based, the
default of torch >= 2.9, opset 18) by default; ``--exporter legacy`` uses the
deprecated TorchScript exporter (``dynamo=False``, opset 17), about three
times faster to export. Both export every family of this project (EMO,
RepViT, MobileViT, ExMobileViT) under all three heads with the same outputs.

The check runs the ONNX file with each of ``--backends`` (CPU; default
onnxruntime; ``openvino`` needs the optional extra, requirements/optional.txt)
and PyTorch on the same random input and prints, per backend and precision
(``--precision``: fp32, or bf16 for OpenVINO on CPUs with AMX /
AVX512-BF16), the largest absolute difference and the median latency of
``--repeat`` runs; it fails (exit 1) when the difference exceeds ``--rtol``
times the largest absolute PyTorch output (bf16: ``--rtol`` is raised to
5e-2 unless given). The wrappers, the export and the check are
:mod:`mmlightvit.apis.export` and :mod:`mmlightvit.apis.backends`.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

from mmlightvit.apis import backends, export
from mmlightvit.apis.backends import BACKENDS
from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.model import (ShapeAction, build_model,
                                   default_input_shape, load_model_config,
                                   task_of)
from mmlightvit.apis.reparam import switch_to_deploy
from mmlightvit.apis.tables import fmt_ms
from mmlightvit.apis.timing import summarize, time_fn


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export a model to ONNX and check it with onnxruntime')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', default='model.onnx', help='ONNX file')
    parser.add_argument('--shape', type=int, nargs='+', action=ShapeAction,
                        help='input H W (or one side)')
    parser.add_argument('--deploy', action='store_true',
                        help='export the re-parameterised form '
                        '(switch_to_deploy)')
    parser.add_argument('--det-output',
                        choices=['raw', 'boxes', 'detections'],
                        default='raw',
                        help='detectors: the raw head outputs (default), '
                        'the decoded boxes and scores before NMS, or the '
                        'detections after NMS')
    parser.add_argument('--exporter', choices=['dynamo', 'legacy'],
                        default='dynamo',
                        help='torch.onnx.export(dynamo=True) (default) or '
                        'the TorchScript one (dynamo=False)')
    parser.add_argument('--opset', type=int,
                        help='ONNX opset (default 18 dynamo / 17 legacy)')
    parser.add_argument('--rtol', type=float,
                        help='accepted max |onnx - torch| / max |torch| '
                        '(default 1e-3; 5e-2 for bf16)')
    parser.add_argument('--backends', nargs='+', choices=BACKENDS,
                        default=['onnxruntime'],
                        help='runtimes that run and check the ONNX file')
    parser.add_argument('--precision', choices=['fp32', 'bf16'],
                        default='fp32',
                        help='precision the backends run at (bf16: '
                        'OpenVINO only)')
    parser.add_argument('--repeat', type=int, default=10,
                        help='timed runs per backend (median printed)')
    parser.add_argument('--threads', type=int,
                        help='backend CPU threads (default: theirs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.rtol is None:
        args.rtol = 5e-2 if args.precision == 'bf16' else 1e-3
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_model_config(args.config, args.cfg_options)
    task = task_of(cfg)
    shape = tuple(args.shape or default_input_shape(cfg))
    model = build_model(cfg, checkpoint=args.checkpoint)
    switched = switch_to_deploy(model) if args.deploy else []
    model.eval()
    wrapper, names = export.export_wrapper(model, task, shape,
                                           args.det_output)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    x = torch.randn(1, 3, *shape)
    opset = export.export_onnx(wrapper, x, args.out, names, args.exporter,
                               args.opset)
    if type(wrapper) is export.DetectorBoxes:
        export.write_postprocess_metadata(args.out, wrapper, cfg)
    with torch.no_grad():
        torch_outs = wrapper(x)
    torch_outs = [torch_outs] if torch.is_tensor(torch_outs) \
        else list(torch_outs)
    shapes = ', '.join(f'{n} {tuple(t.shape)}'
                       for n, t in zip(names, torch_outs))
    print(f'exported {task} model ({args.exporter} exporter, opset {opset}'
          f'{", deploy form: " + ", ".join(switched) if switched else ""})'
          f' to {args.out}\ninput 1x3x{shape[0]}x{shape[1]}; outputs: '
          f'{shapes}')
    checks, failed = {}, []
    for name in args.backends:
        try:
            run = backends.load_backend(name, args.out, args.precision,
                                        args.threads)
        except backends.BackendUnavailable as e:
            sys.exit(f'error: {e}')
        if isinstance(wrapper, export.DetectorDetections):
            # boxes within rtol x the largest coordinate, scores (at most
            # 1) within rtol
            diff, scale, unmatched = export.compare_detections(
                torch_outs, run(x), wrapper.score_thr,
                args.rtol * max(wrapper.shape), args.rtol)
            print(f'{name} vs PyTorch: {len(torch_outs[0])} detections, '
                  f'{unmatched} without a match (those at the score '
                  f'threshold left aside)')
            if unmatched:
                failed.append(f'{name}: {unmatched} detections without a '
                              f'match in PyTorch\'s')
        else:
            diff, scale = export.compare(torch_outs, run(x))
        latency = summarize(time_fn(lambda: run(x), args.repeat, 1))
        checks[name] = dict(max_abs_diff=diff, scale=scale,
                            median_s=latency['median'])
        print(f'{name} vs PyTorch ({args.precision}): max abs difference '
              f'{diff:.3g} (largest output {scale:.3g}, relative '
              f'{diff / max(scale, 1e-12):.3g}); latency median '
              f'{fmt_ms(latency["median"])} over {args.repeat} runs')
        if diff > args.rtol * max(scale, 1e-6):
            failed.append(f'{name} outputs differ from PyTorch by '
                          f'{diff:.3g} (> {args.rtol:g} x {scale:.3g})')
    if failed:
        sys.exit('error: ' + '; '.join(failed))
    first = checks[args.backends[0]]
    return dict(task=task, shape=shape, outputs=names,
                max_abs_diff=first['max_abs_diff'], scale=first['scale'],
                exporter=args.exporter, opset=opset, switched=switched,
                checks=checks)


if __name__ == '__main__':
    run_cli(main)
