"""The painter of the image demo, make demo and tools/test.py --show-dir
(mmlightvit.visualization) on synthetic predictions."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from PIL import Image

from mmlightvit.visualization import (GAP, add_paint_hook, class_colours,
                                      from_data_sample, paint, panel_scale)

CLASSES = ('road', 'tree', 'sky', 'car')
PALETTE = [(128, 64, 128), (0, 200, 0), (70, 130, 180), (250, 0, 0)]


def image(h=64, w=96):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def panel(picture, index, size, top):
    """Panel ``index`` (0: input) of a picture of equal panels."""
    w, h = size
    x = GAP + index * (w + GAP)
    return picture[top:top + h, x:x + w]


def colour_present(picture, rgb):
    return bool((picture.reshape(-1, 3) == rgb).all(1).any())


def test_segmentation_panels_legend_and_ignored_pixels():
    img = image()
    gt = np.full((64, 96), 255, np.int64)  # ignored
    gt[:32] = 2
    pred = np.zeros((64, 96), np.int64)
    pred[:, 48:] = 1
    picture = paint(img, 'seg', pred, gt, CLASSES, PALETTE)
    scale = panel_scale(64, 96)
    assert scale == 8  # short side 64 -> 512
    size = (96 * 8, 64 * 8)
    assert picture.shape[1] == 3 * size[0] + 4 * GAP
    # the input panel is the upscaled image (under its title bar)
    top = next(y for y in range(picture.shape[0])
               if (picture[y, GAP:GAP + size[0]] != 255).sum() > size[0])
    big = np.asarray(Image.fromarray(img).resize(size, Image.BICUBIC))
    assert np.array_equal(panel(picture, 0, size, top), big)
    # ground truth: ignored pixels keep the image, labelled ones change
    gt_panel = panel(picture, 1, size, top).astype(int)
    assert np.array_equal(gt_panel[-40:, 10:-10], big[-40:, 10:-10])
    assert np.abs(gt_panel[10:200, 10:-10] - big[10:200, 10:-10]).mean() > 5
    # legend: a swatch of every class present (pred: road, tree; gt: sky),
    # none of the absent 'car'
    legend = picture[top + size[1]:]
    for c in (0, 1, 2):
        assert colour_present(legend, PALETTE[c])
    assert not colour_present(legend, PALETTE[3])


def test_segmentation_gt_of_another_size_and_unknown_classes():
    picture = paint(image(), 'seg', np.full((64, 96), 7),
                    np.zeros((16, 24), np.int64))
    assert picture.shape[0] > 512 and picture.ndim == 3
    assert len(class_colours(9, PALETTE[:2])) == 9


def test_detection_boxes_above_threshold_with_labels():
    pred = dict(bboxes=np.array([[10, 10, 40, 40], [50, 5, 90, 60],
                                 [0, 0, 20, 20]], float),
                labels=np.array([3, 1, 2]), scores=np.array([.9, .8, .1]))
    picture = paint(image(), 'det', pred, None, CLASSES, PALETTE,
                    score_thr=0.5)
    assert picture.shape[1] == 2 * 96 * 8 + 3 * GAP  # input | prediction
    right = picture[:, GAP + 96 * 8:]
    assert colour_present(right, PALETTE[3]) and \
        colour_present(right, PALETTE[1])
    assert not colour_present(right, PALETTE[2])  # score 0.1 < 0.5


def test_classification_cards():
    scores = np.array([0.1, 0.6, 0.2, 0.1])
    with_gt = paint(image(), 'cls', scores, 2, CLASSES)
    without = paint(image(), 'cls', scores, None, CLASSES)
    assert with_gt.shape[1] - without.shape[1] == 96 * 8 + GAP


def test_bad_task():
    with pytest.raises(ValueError, match="task must be 'seg', 'det' or"):
        paint(image(), 'depth', None)


def test_from_data_sample():
    from mmdet.structures import DetDataSample
    from mmpretrain.structures import DataSample
    from mmseg.structures import SegDataSample
    seg = SegDataSample()
    seg.pred_sem_seg = PixelData(data=torch.ones(1, 4, 5, dtype=torch.long))
    seg.gt_sem_seg = PixelData(data=torch.zeros(1, 4, 5, dtype=torch.long))
    task, pred, gt = from_data_sample(seg)
    assert task == 'seg' and pred.shape == (4, 5) and gt.sum() == 0
    det = DetDataSample()
    det.pred_instances = InstanceData(bboxes=torch.zeros(2, 4),
                                      labels=torch.tensor([0, 1]),
                                      scores=torch.tensor([.5, .4]))
    task, pred, gt = from_data_sample(det)
    assert task == 'det' and gt is None and pred['labels'].tolist() == [0, 1]
    cls = DataSample().set_pred_score(torch.tensor([.2, .8])) \
        .set_gt_label(1)
    task, pred, gt = from_data_sample(cls)
    assert task == 'cls' and gt == 1 and pred.argmax() == 1


def test_add_paint_hook_keeps_the_config_hooks():
    from mmengine.config import Config
    cfg = Config(dict(custom_hooks=[dict(type='RandomStateHook')]))
    add_paint_hook(cfg, 'vis')
    assert [h['type'] for h in cfg.custom_hooks] == [
        'RandomStateHook', 'PaintPredictionsHook']
    assert cfg.custom_hooks[1]['out_dir'].endswith('vis')
