"""Run a model on one image and draw its prediction.

    python demo/image_demo.py IMAGE CONFIG CHECKPOINT --out-file out.png
        [--device cpu] [--opacity 0.5] [--score-thr 0.3]
        [--cfg-options k=v ...]

Dispatches on the config's ``default_scope``:

* mmseg: ``mmseg.apis.init_model`` + ``inference_model``, drawn by
  ``SegLocalVisualizer`` (class colours blended over the image, with labels);
* mmdet: ``mmdet.apis.init_detector`` + ``inference_detector``, drawn by
  ``DetLocalVisualizer`` (boxes with scores >= ``--score-thr``);
* mmpretrain: ``ImageClassificationInferencer``, drawn by
  ``UniversalVisualizer`` (the top class and its score).

The class names / palette come from the checkpoint's ``dataset_meta`` (saved
by training), else from the dataset of the config.
"""
import argparse
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for path in (ROOT, osp.join(ROOT, 'tools', 'analysis_tools')):
    if path not in sys.path:
        sys.path.insert(0, path)

import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from get_flops import load_model_config, task_of  # noqa: E402
from mmlightvit.apis.cli import run_cli  # noqa: E402

_visualizers = 0


def _name(prefix):
    """A new instance name (mmengine visualizers are named singletons)."""
    global _visualizers
    _visualizers += 1
    return f'{prefix}_image_demo_{os.getpid()}_{_visualizers}'


def _drop_annotations(pipeline):
    """The test pipeline without the steps that read or check ground truth
    (``LoadAnnotations``, ``CheckSegLabels``): a demo image has none."""
    def needs_labels(t):
        kind = str(t.get('type', '')).split('.')[-1]
        return 'Annotations' in kind or kind.endswith('Labels')
    return [t for t in pipeline if not needs_labels(t)]


def _test_pipeline(cfg):
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    pipeline = cfg.get('test_pipeline') or loader.dataset.pipeline
    return _drop_annotations(pipeline)


def segment(image_path, cfg, checkpoint, out_file, device, opacity):
    from mmseg.apis import inference_model, init_model
    from mmseg.visualization import SegLocalVisualizer
    cfg.test_pipeline = _test_pipeline(cfg)
    model = init_model(cfg, checkpoint, device=device)
    result = inference_model(model, image_path)
    image = mmcv.imread(image_path, channel_order='rgb')
    visualizer = SegLocalVisualizer(name=_name('seg'), alpha=opacity)
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('result', image, data_sample=result,
                              draw_gt=False, draw_pred=True, show=False,
                              out_file=out_file)
    labels = result.pred_sem_seg.data.cpu().numpy().ravel()
    counts = np.bincount(labels)
    classes = model.dataset_meta.get('classes') or []
    top = [(classes[i] if i < len(classes) else str(i), c / labels.size)
           for i, c in sorted(enumerate(counts), key=lambda t: -t[1])
           if c][:5]
    return 'classes (share of pixels): ' + ', '.join(
        f'{name} {share:.0%}' for name, share in top)


def detect(image_path, cfg, checkpoint, out_file, device, score_thr):
    from mmdet.apis import inference_detector, init_detector
    from mmdet.visualization import DetLocalVisualizer
    cfg.test_dataloader.dataset.pipeline = _test_pipeline(cfg)
    cfg.pop('test_pipeline', None)
    model = init_detector(cfg, checkpoint, device=device)
    result = inference_detector(model, image_path)
    image = mmcv.imread(image_path, channel_order='rgb')
    visualizer = DetLocalVisualizer(name=_name('det'))
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('result', image, data_sample=result,
                              draw_gt=False, show=False,
                              pred_score_thr=score_thr, out_file=out_file)
    scores = result.pred_instances.scores
    return f'{int((scores >= score_thr).sum())} boxes with score >= ' \
        f'{score_thr} (of {len(scores)})'


def classify(image_path, cfg, checkpoint, out_file, device):
    from mmpretrain.apis import ImageClassificationInferencer
    from mmpretrain.visualization import UniversalVisualizer
    cfg.test_dataloader.dataset.pipeline = _test_pipeline(cfg)
    inferencer = ImageClassificationInferencer(
        model=cfg, pretrained=checkpoint, device=device)
    result = inferencer(image_path, return_datasamples=True)[0]
    image = mmcv.imread(image_path, channel_order='rgb')
    classes = inferencer.classes
    visualizer = UniversalVisualizer(name=_name('cls'))
    visualizer.visualize_cls(image, result, classes=classes, draw_gt=False,
                             show=False, out_file=out_file)
    label = int(result.pred_label[0])
    name = classes[label] if classes and label < len(classes) else label
    return f'class {name} (score {float(result.pred_score[label]):.3f})'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the prediction of a model on one image')
    parser.add_argument('image', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', required=True,
                        help='where to write the drawn image (e.g. out.png)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda:0')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='segmentation: opacity of the class colours')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: boxes with at least this score')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.image, 'image'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    cfg = load_model_config(args.config, args.cfg_options)
    out_dir = osp.dirname(osp.abspath(args.out_file))
    os.makedirs(out_dir, exist_ok=True)
    task = task_of(cfg)
    if task == 'seg':
        summary = segment(args.image, cfg, args.checkpoint, args.out_file,
                          args.device, args.opacity)
    elif task == 'det':
        summary = detect(args.image, cfg, args.checkpoint, args.out_file,
                         args.device, args.score_thr)
    else:
        summary = classify(args.image, cfg, args.checkpoint, args.out_file,
                           args.device)
    print(f'{summary}\nprediction drawn to {args.out_file}')
    return summary


if __name__ == '__main__':
    run_cli(main)
