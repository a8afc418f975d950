"""Export a segmentor / detector / classifier to ONNX and check it with
onnxruntime against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT
        [--out model.onnx] [--shape H W] [--deploy] [--det-output raw|boxes]
        [--exporter dynamo|legacy] [--opset N] [--rtol 1e-3]
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
* classifiers: the logits (``logits``).

``--deploy`` exports the re-parameterised form (``switch_to_deploy()``,
RepViT). The default input size is get_flops': seg 512x512, det the config's
test scale, cls its test crop.

Exporter: ``torch.onnx.export(..., dynamo=True)`` (torch.export-based, the
default of torch >= 2.9, opset 18) by default; ``--exporter legacy`` uses the
deprecated TorchScript exporter (``dynamo=False``, opset 17), about three
times faster to export. Both export every family of this project (EMO,
RepViT, MobileViT, ExMobileViT) under all three heads with the same outputs.

The check runs the ONNX file with onnxruntime (CPU) and PyTorch on the same
random input and prints the largest absolute difference; it fails (exit 1)
when it exceeds ``--rtol`` times the largest absolute PyTorch output. The
wrappers, the export and the check are :mod:`mmlightvit.apis.export`.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

from mmlightvit.apis import export
from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.model import (ShapeAction, build_model,
                                   default_input_shape, load_model_config,
                                   task_of)
from mmlightvit.apis.reparam import switch_to_deploy


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
    parser.add_argument('--det-output', choices=['raw', 'boxes'],
                        default='raw',
                        help='detectors: the raw head outputs (default) or '
                        'the decoded boxes and scores before NMS')
    parser.add_argument('--exporter', choices=['dynamo', 'legacy'],
                        default='dynamo',
                        help='torch.onnx.export(dynamo=True) (default) or '
                        'the TorchScript one (dynamo=False)')
    parser.add_argument('--opset', type=int,
                        help='ONNX opset (default 18 dynamo / 17 legacy)')
    parser.add_argument('--rtol', type=float, default=1e-3,
                        help='accepted max |onnx - torch| / max |torch|')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
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
    if isinstance(wrapper, export.DetectorBoxes):
        export.write_postprocess_metadata(args.out, wrapper, cfg)
    with torch.no_grad():
        torch_outs = wrapper(x)
    torch_outs = [torch_outs] if torch.is_tensor(torch_outs) \
        else list(torch_outs)
    diff, scale = export.compare(
        torch_outs, export.onnxruntime_outputs(args.out, x))
    shapes = ', '.join(f'{n} {tuple(t.shape)}'
                       for n, t in zip(names, torch_outs))
    print(f'exported {task} model ({args.exporter} exporter, opset {opset}'
          f'{", deploy form: " + ", ".join(switched) if switched else ""})'
          f' to {args.out}\ninput 1x3x{shape[0]}x{shape[1]}; outputs: '
          f'{shapes}')
    print(f'onnxruntime vs PyTorch: max abs difference {diff:.3g} '
          f'(largest output {scale:.3g}, relative '
          f'{diff / max(scale, 1e-12):.3g})')
    if diff > args.rtol * max(scale, 1e-6):
        sys.exit(f'error: ONNX outputs differ from PyTorch by {diff:.3g} '
                 f'(> {args.rtol:g} x {scale:.3g})')
    return dict(task=task, shape=shape, outputs=names, max_abs_diff=diff,
                scale=scale, exporter=args.exporter, opset=opset,
                switched=switched)


if __name__ == '__main__':
    run_cli(main)
