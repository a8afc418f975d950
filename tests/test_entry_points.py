"""mmseg's and mmdet's inference entry points take the project's configs:
their test pipelines keep the names that inference code looks for
(``LoadImageFromFile``, ``LoadAnnotations``), while the checking transforms
stay in the training and validation pipelines."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmlightvit  # noqa: F401
from helpers import ROOT

pytestmark = pytest.mark.usefixtures('single_thread')

SEG_CONFIG = osp.join(
    ROOT, 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py')
DET_CONFIG = osp.join(
    ROOT, 'configs/mobilevit/'
    'ssdlite_mobilevit-xxs_1xb8-20e_toy-coco-128x128.py')


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    path = str(tmp_path_factory.mktemp('img') / 'tiny.jpg')
    cv2.imwrite(path, img)
    return img, path


def save_weights(model, path, dataset_meta):
    """A checkpoint of ``model`` (random weights) as the tools write it."""
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': dataset_meta}}, path)
    return path


@pytest.mark.parametrize('config', [SEG_CONFIG, DET_CONFIG])
def test_configs_keep_checks_in_train_val_and_plain_names_in_test(config):
    cfg = Config.fromfile(config)
    names = {key: [step['type'] for step in pipeline] for key, pipeline in (
        ('train', cfg.train_dataloader.dataset.pipeline),
        ('val', cfg.val_dataloader.dataset.pipeline),
        ('test', cfg.test_dataloader.dataset.pipeline),
        ('top-level test', cfg.test_pipeline))}
    check = 'CheckSegLabels' if 'ade20k' in config else 'CheckBoxes'
    for key in ('train', 'val'):
        assert names[key][0] == 'CheckedLoadImageFromFile'
        assert names[key][names[key].index('LoadAnnotations') + 1] == check
    for key in ('test', 'top-level test'):
        assert names[key][0] == 'LoadImageFromFile'
        assert 'LoadAnnotations' in names[key]
        assert not any(n.startswith('Check') for n in names[key])


def test_mmseg_init_model_and_inference_model(image, tmp_path):
    from mmseg.apis import MMSegInferencer, inference_model, init_model
    img, path = image
    model = init_model(SEG_CONFIG, device='cpu')
    for item in (path, img):  # (an array changes the pipeline for good)
        result = inference_model(model, item)
        assert tuple(result.pred_sem_seg.data.shape) == (1, 48, 64)

    from mmseg.datasets import ADE20KDataset
    weights = save_weights(model, str(tmp_path / 'seg.pth'),
                           ADE20KDataset.METAINFO)
    inferencer = MMSegInferencer(model=SEG_CONFIG, weights=weights,
                                 device='cpu')
    out = inferencer(path, return_datasamples=True)
    assert tuple(out.pred_sem_seg.data.shape) == (1, 48, 64)
    expected = inference_model(init_model(SEG_CONFIG, weights, 'cpu'), path)
    assert torch.equal(out.pred_sem_seg.data, expected.pred_sem_seg.data)


def test_mmdet_init_detector_and_inference_detector(image, tmp_path):
    from mmdet.apis import DetInferencer, inference_detector, init_detector
    img, path = image
    model = init_detector(DET_CONFIG, device='cpu')
    for item in (path, img):  # (an array changes the pipeline for good)
        result = inference_detector(model, item)
        assert result.ori_shape == (48, 64)
        assert 'bboxes' in result.pred_instances

    weights = save_weights(model, str(tmp_path / 'det.pth'),
                           dict(classes=model.dataset_meta['classes']))
    inferencer = DetInferencer(model=DET_CONFIG, weights=weights,
                               device='cpu')
    out = inferencer(path, return_datasamples=True, no_save_pred=True)
    predictions = out['predictions']
    assert len(predictions) == 1 and predictions[0].ori_shape == (48, 64)
    expected = inference_detector(init_detector(DET_CONFIG, weights,
                                                device='cpu'), path)
    assert torch.equal(predictions[0].pred_instances.scores,
                       expected.pred_instances.scores)
