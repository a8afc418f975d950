"""Run a model on one image and paint input | ground truth | prediction.

    python demo/image_demo.py IMAGE CONFIG CHECKPOINT --out-file out.png
        [--gt GROUND_TRUTH] [--device cpu] [--score-thr 0.3]
        [--fast [--precision fp32|bf16|fp16]] [--cfg-options k=v ...]

The prediction comes from the toolbox's own inferencer, chosen by the
config's ``default_scope``: mmseg ``MMSegInferencer``, mmdet
``DetInferencer``, mmpretrain ``ImageClassificationInferencer``
(:func:`mmlightvit.apis.inference.predict`). The picture
(:func:`mmlightvit.visualization.paint`, the painter of
``tools/test.py --show-dir`` too) puts the input, the ground truth when
``--gt`` gives it and the prediction side by side under titles, small
images upscaled to at least 512 px, with a legend of the classes present:

* segmentation: ``--gt`` is the image's label PNG (the config's
  ``reduce_zero_label`` applies); class colours over the image;
* detection: ``--gt`` is a COCO JSON file holding the image; boxes with
  class and score (``--score-thr`` and up);
* classification: ``--gt`` is the class name or index; the top-5 scores.

The class names / palette come from the checkpoint's ``dataset_meta`` (saved
by training), else from the dataset of the config.
"""
import argparse
import sys

import mmcv
import numpy as np
from mmengine.config import DictAction

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.fast import PRECISIONS, autocast_dtype
from mmlightvit.apis.inference import load_ground_truth, predict
from mmlightvit.visualization import from_data_sample, paint, save_picture


def summarize(task, pred, classes, score_thr):
    """One line saying what the model predicted."""
    def name(i):
        return str(classes[i]) if classes and i < len(classes) else str(i)
    if task == 'seg':
        labels, counts = np.unique(pred, return_counts=True)
        top = sorted(zip(counts.tolist(), labels.tolist()), reverse=True)[:5]
        return 'classes (share of pixels): ' + ', '.join(
            f'{name(lb)} {c / pred.size:.0%}' for c, lb in top)
    if task == 'det':
        scores = pred['scores']
        return f'{int((scores >= score_thr).sum())} boxes with score >= ' \
            f'{score_thr} (of {len(scores)})'
    label = int(np.argmax(pred))
    return f'class {name(label)} (score {float(pred[label]):.3f})'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Paint the prediction of a model on one image')
    parser.add_argument('image', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', required=True,
                        help='where to write the picture (e.g. out.png)')
    parser.add_argument('--gt', help='ground truth: label PNG (seg), COCO '
                        'JSON (det) or class name/index (cls)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda:0')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: boxes with at least this score')
    parser.add_argument('--fast', action='store_true',
                        help='through the fast inference path '
                        '(mmlightvit.apis.fast_inference)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='precision of --fast')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.fast:
        try:
            autocast_dtype(args.precision, args.device)
        except ValueError as e:
            parser.error(str(e))
    return args


def main(argv=None):
    args = parse_args(argv)
    result = predict(args.image, args.config, args.checkpoint, args.device,
                     args.cfg_options, args.fast, args.precision)
    task, pred, _ = from_data_sample(result['sample'])
    classes, palette = result['classes'], result['palette']
    try:
        gt = None if args.gt is None else load_ground_truth(
            task, args.gt, args.image, classes, result['reduce_zero_label'])
    except ValueError as e:  # a ground truth that does not fit: one line
        sys.exit(f'error: {e}')
    image = mmcv.imread(args.image, channel_order='rgb')
    picture = paint(image, task, pred, gt, classes, palette, args.score_thr,
                    title=f'input ({image.shape[0]}x{image.shape[1]})')
    save_picture(picture, args.out_file)
    summary = summarize(task, pred, classes, args.score_thr)
    print(f'{summary}\npicture (input | '
          f'{"ground truth | " if gt is not None else ""}prediction) '
          f'written to {args.out_file}')
    return summary


if __name__ == '__main__':
    run_cli(main)
