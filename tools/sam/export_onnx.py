"""Export a SAM on this project's encoders to ONNX, in two files, and check
both with onnxruntime against PyTorch.

    python tools/sam/export_onnx.py CHECKPOINT --out-dir DIR [--deploy]
        [--encoder repvit|emo|mobilevit] [--arch ARCH] [--img-size 1024]
        [--exporter dynamo|legacy] [--opset 17] [--return-single-mask]
        [--rtol 1e-3]

* ``DIR/encoder.onnx``: ``image`` (1x3xSxS, pre-processed as
  ``SamPredictor.set_image`` makes it: RGB resized to the longest side S,
  normalised, zero-padded) -> ``image_embeddings`` (1x256xS/16xS/16).
  ``--deploy`` exports the re-parameterised encoder (RepViT).
* ``DIR/decoder.onnx``: SAM's ONNX decoder interface
  (``segment_anything.utils.onnx.SamOnnxModel``, as SAM's
  ``scripts/export_onnx_model.py`` exports it): inputs ``image_embeddings``,
  ``point_coords`` (1xNx2, in the S-px input frame; N dynamic),
  ``point_labels`` (1xN), ``mask_input`` (1x1x(S/4)x(S/4)),
  ``has_mask_input`` (1), ``orig_im_size`` (2); outputs ``masks`` (logits at
  ``orig_im_size``), ``iou_predictions``, ``low_res_masks``. So any SAM ONNX
  front end runs it with this encoder.

The check runs both files with onnxruntime (CPU) on a random image and on
prompts of 2 and 4 points with and without a mask input, and fails (exit 1)
when an output differs from PyTorch's by more than ``--rtol`` times its
largest absolute value.
"""
import argparse
import os
import os.path as osp
import sys
import warnings

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from segment_anything.utils.onnx import SamOnnxModel  # noqa: E402

from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.sam.build import load_sam  # noqa: E402
from mmlightvit.sam.encoder import FAMILIES  # noqa: E402

DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels',
                  'mask_input', 'has_mask_input', 'orig_im_size']
DECODER_OUTPUTS = ['masks', 'iou_predictions', 'low_res_masks']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--encoder', default='repvit', choices=FAMILIES)
    parser.add_argument('--arch')
    parser.add_argument('--img-size', type=int, default=1024)
    parser.add_argument('--deploy', action='store_true')
    parser.add_argument('--exporter', choices=['dynamo', 'legacy'],
                        default='dynamo', help='encoder exporter: '
                        'torch.onnx.export(dynamo=True) (default) or the '
                        'TorchScript one; the decoder always uses the '
                        'TorchScript exporter, as SAM\'s own script')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--return-single-mask', action='store_true',
                        help='decoder returns the best mask only')
    parser.add_argument('--rtol', type=float, default=1e-3)
    return parser.parse_args(argv)


def decoder_inputs(sam, num_points, with_mask, seed=0):
    """Random decoder inputs (embedding included) of SAM's ONNX interface."""
    g = torch.Generator().manual_seed(seed)
    size = sam.image_encoder.img_size
    grid = sam.prompt_encoder.image_embedding_size
    return dict(
        image_embeddings=torch.randn(1, 256, *grid, generator=g),
        point_coords=torch.rand(1, num_points, 2, generator=g) * size,
        point_labels=torch.randint(-1, 4, (1, num_points), generator=g,
                                   dtype=torch.int64).float(),
        mask_input=torch.randn(1, 1, 4 * grid[0], 4 * grid[1], generator=g),
        has_mask_input=torch.tensor([float(with_mask)]),
        orig_im_size=torch.tensor([0.75 * size, size]))


def export(model, args, path, input_names, output_names, opset,
           dynamo=False, dynamic_axes=None):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer / deprecation chatter
        with torch.no_grad():
            kwargs = dict(input_names=input_names, output_names=output_names,
                          opset_version=opset)
            if dynamo:
                torch.onnx.export(model, args, path, dynamo=True,
                                  external_data=False, **kwargs)
            else:
                torch.onnx.export(model, args, path, dynamo=False,
                                  dynamic_axes=dynamic_axes, **kwargs)


def relative_error(torch_outs, ort_outs):
    """Largest ``max|a - b| / max|a|`` over paired outputs."""
    worst = 0.
    for a, b in zip(torch_outs, ort_outs):
        a = a.detach().numpy()
        worst = max(worst, float(np.abs(a - b).max() /
                                 max(np.abs(a).max(), 1e-12)))
    return worst


def main(argv=None):
    args = parse_args(argv)
    import onnxruntime as ort
    trunk = {} if args.arch is None else dict(arch=args.arch)
    sam = load_sam(args.checkpoint, args.encoder, args.img_size, **trunk)
    if args.deploy:
        sam.image_encoder.switch_to_deploy()
    os.makedirs(args.out_dir, exist_ok=True)
    size = sam.image_encoder.img_size

    enc_path = osp.join(args.out_dir, 'encoder.onnx')
    image = torch.randn(1, 3, size, size,
                        generator=torch.Generator().manual_seed(1))
    export(sam.image_encoder, (image, ), enc_path, ['image'],
           ['image_embeddings'], args.opset, args.exporter == 'dynamo')
    with torch.no_grad():
        embedding = sam.image_encoder(image)
    session = ort.InferenceSession(enc_path,
                                   providers=['CPUExecutionProvider'])
    errors = {'encoder': relative_error(
        [embedding], session.run(None, {'image': image.numpy()}))}

    dec_path = osp.join(args.out_dir, 'decoder.onnx')
    decoder = SamOnnxModel(sam, return_single_mask=args.return_single_mask)
    dynamic = {'point_coords': {1: 'num_points'},
               'point_labels': {1: 'num_points'}}
    export(decoder, tuple(decoder_inputs(sam, 2, False).values()), dec_path,
           DECODER_INPUTS, DECODER_OUTPUTS, args.opset, dynamic_axes=dynamic)
    session = ort.InferenceSession(dec_path,
                                   providers=['CPUExecutionProvider'])
    for points, with_mask in ((2, False), (4, True)):
        inputs = decoder_inputs(sam, points, with_mask, seed=points)
        inputs['image_embeddings'] = embedding
        with torch.no_grad():
            ref = decoder(**inputs)
        out = session.run(None, {k: v.numpy() for k, v in inputs.items()})
        errors[f'decoder ({points} points, mask input {with_mask})'] = \
            relative_error(ref, out)
    for what, error in errors.items():
        print(f'onnxruntime vs PyTorch, {what}: max relative difference '
              f'{error:.2e}')
    print(f'exported {enc_path} and {dec_path} ({size} px input, opset '
          f'{args.opset})')
    if max(errors.values()) > args.rtol:
        sys.exit(f'error: onnxruntime differs from PyTorch by more than '
                 f'--rtol {args.rtol}')


if __name__ == '__main__':
    run_cli(main)
