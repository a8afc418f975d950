"""Segment an image with a SAM on this project's encoders and paint the masks
with their scores.

    python tools/sam/segment.py IMAGE --checkpoint repvit_sam.pt --out out.png
        [--points X,Y[,LABEL] ...] [--boxes X1,Y1,X2,Y2 ...] [--everything]
        [--encoder repvit|emo|mobilevit] [--arch ARCH] [--img-size 1024]
        [--deploy] [--device cpu|cuda] [--fast [--precision bf16]]
        [--points-per-side 32]

Prompts are in image pixels. ``--points``: one object from all the points
(label 1 = on the object, the default; 0 = background), SAM's three
candidate masks when there is a single point, the best one painted.
``--boxes``: one object per box (with the points when there is one box).
``--everything``: SAM's automatic mask generator over the whole image.
Every mask is painted in its own colour with its score (SAM's predicted
IoU) at its most interior pixel, and listed on stdout.

The checkpoint is the published ``repvit_sam.pt`` (or any whole-SAM file of
this project, which carries its encoder config); ``--encoder/--arch/
--img-size`` only describe files without one. ``--deploy`` re-parameterises
the encoder (RepViT) first: the same masks, faster.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from segment_anything import (SamAutomaticMaskGenerator,  # noqa: E402
                              SamPredictor)

from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.apis.fast import (PRECISIONS, autocast_dtype,  # noqa: E402
                                  fast_inference)
from mmlightvit.sam.build import load_sam  # noqa: E402
from mmlightvit.sam.data import read_rgb  # noqa: E402
from mmlightvit.sam.encoder import FAMILIES  # noqa: E402


def numbers(count, name):
    """argparse type: ``count`` comma-separated numbers (``x,y`` ...)."""

    def parse(text):
        try:
            values = [float(v) for v in text.split(',')]
        except ValueError:
            values = []
        if len(values) not in count:
            raise argparse.ArgumentTypeError(
                f'{name} must be {" or ".join(map(str, count))} '
                f'comma-separated numbers, got {text!r}')
        return values

    return parse


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('image')
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--points', nargs='+', default=[],
                        type=numbers((2, 3), 'a point (x,y[,label])'))
    parser.add_argument('--boxes', nargs='+', default=[],
                        type=numbers((4, ), 'a box (x1,y1,x2,y2)'))
    parser.add_argument('--everything', action='store_true',
                        help='automatic masks over the whole image')
    parser.add_argument('--encoder', default='repvit', choices=FAMILIES)
    parser.add_argument('--arch', help='trunk arch (default: the family\'s)')
    parser.add_argument('--img-size', type=int, default=1024)
    parser.add_argument('--deploy', action='store_true')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--fast', action='store_true',
                        help='image encoder through the fast inference path '
                        '(mmlightvit.apis.fast_inference)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='precision of --fast')
    parser.add_argument('--points-per-side', type=int, default=32)
    parser.add_argument('--pred-iou-thresh', type=float, default=0.88)
    parser.add_argument('--stability-score-thresh', type=float, default=0.95)
    args = parser.parse_args(argv)
    if not (args.points or args.boxes or args.everything):
        parser.error('give --points, --boxes or --everything')
    if args.everything and (args.points or args.boxes):
        parser.error('--everything takes no --points / --boxes')
    if args.fast:
        try:
            autocast_dtype(args.precision, args.device)
        except ValueError as e:
            parser.error(str(e))
    if args.points and len(args.boxes) > 1:
        parser.error('--points go with one box at most (one object); '
                     f'got {len(args.boxes)} boxes')
    out_dir = osp.dirname(args.out)
    if out_dir and not osp.isdir(out_dir):
        parser.error(f'the folder of --out {args.out} does not exist')
    if osp.splitext(args.out)[1].lower() not in ('.png', '.jpg', '.jpeg'):
        parser.error(f'--out must end in .png or .jpg, got {args.out}')
    for p in args.points:
        if len(p) == 3 and p[2] not in (0, 1):
            parser.error(f'a point label must be 0 or 1, got {p[2]:g}')
    return args


def prompt_masks(predictor, points, boxes):
    """``[(mask HxW bool, score)]`` for the prompts (see the docstring)."""
    coords = labels = None
    if points:
        coords = np.array([p[:2] for p in points], np.float32)
        labels = np.array([p[2] if len(p) == 3 else 1 for p in points])
    if len(boxes) <= 1:
        box = np.array(boxes[0], np.float32) if boxes else None
        multi = len(points) == 1 and box is None
        masks, scores, _ = predictor.predict(coords, labels, box,
                                             multimask_output=multi)
        best = int(np.argmax(scores))
        return [(masks[best], float(scores[best]))]
    size = predictor.original_size
    tboxes = torch.as_tensor(
        predictor.transform.apply_boxes(np.array(boxes, np.float32), size),
        dtype=torch.float, device=predictor.device)
    with torch.inference_mode():
        masks, scores, _ = predictor.predict_torch(None, None, tboxes,
                                                   multimask_output=False)
    return [(m[0].cpu().numpy(), float(s[0]))
            for m, s in zip(masks, scores)]


def colour(i):
    """A distinct BGR colour for mask ``i`` (golden-angle hues)."""
    hsv = np.uint8([[[int(i * 137.508) % 180, 200, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def paint(image_rgb, masks, points=(), boxes=()):
    """BGR picture: masks blended in their colours with outlines and
    ``score`` labels, the prompts drawn on top."""
    out = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    scale = max(1., max(out.shape[:2]) / 640)
    for i, (mask, _) in enumerate(masks):
        out[mask] = (0.45 * out[mask] + 0.55 * np.array(colour(i))).astype(
            np.uint8)
    for i, (mask, score) in enumerate(masks):
        contours, _ = cv2.findContours(mask.astype(np.uint8),
                                       cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour(i),
                         max(1, round(2 * scale)))
    for p in points:
        positive = len(p) == 2 or p[2] == 1
        cv2.drawMarker(out, (int(p[0]), int(p[1])),
                       (0, 255, 0) if positive else (0, 0, 255),
                       cv2.MARKER_STAR, max(8, round(16 * scale)),
                       max(1, round(2 * scale)))
    for b in boxes:
        cv2.rectangle(out, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])),
                      (0, 255, 0), max(1, round(2 * scale)))
    for mask, score in masks:
        if mask.any():  # the label at the mask's most interior pixel
            inside = cv2.distanceTransform(
                np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
            y, x = np.unravel_index(np.argmax(inside), mask.shape)
            text = f'{score:.2f}'
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                          0.5 * scale, max(1, round(scale)))
            org = (int(np.clip(x - tw // 2, 0, out.shape[1] - tw)),
                   int(np.clip(y + th // 2, th, out.shape[0] - 1)))
            for thick, col in ((3, (0, 0, 0)), (1, (255, 255, 255))):
                cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX,
                            0.5 * scale, col, max(1, round(thick * scale)))
    return out


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.image):
        raise FileNotFoundError(f'image {args.image} does not exist')
    try:
        image = read_rgb(args.image)
    except ValueError as e:
        sys.exit(f'error: {e}')
    trunk = {} if args.arch is None else dict(arch=args.arch)
    sam = load_sam(args.checkpoint, args.encoder, args.img_size, **trunk)
    if args.deploy:
        sam.image_encoder.switch_to_deploy()
    sam.to(args.device)
    if args.fast:
        fast_inference(sam.image_encoder, args.precision)
    if args.everything:
        generator = SamAutomaticMaskGenerator(
            sam, points_per_side=args.points_per_side,
            pred_iou_thresh=args.pred_iou_thresh,
            stability_score_thresh=args.stability_score_thresh)
        records = sorted(generator.generate(image), key=lambda r: -r['area'])
        masks = [(r['segmentation'], r['predicted_iou']) for r in records]
    else:
        predictor = SamPredictor(sam)
        predictor.set_image(image)
        masks = prompt_masks(predictor, args.points, args.boxes)
    for i, (mask, score) in enumerate(masks):
        ys, xs = np.nonzero(mask)
        box = (f'box {xs.min()},{ys.min()},{xs.max()},{ys.max()}'
               if len(xs) else 'empty')
        print(f'mask {i}: score {score:.3f}, {int(mask.sum())} px, {box}')
    if not masks:
        print('no mask passed the thresholds (--pred-iou-thresh, '
              '--stability-score-thresh)')
    cv2.imwrite(args.out, paint(image, masks, args.points, args.boxes))
    print(f'painted {len(masks)} mask(s) into {args.out}')


if __name__ == '__main__':
    run_cli(main)
