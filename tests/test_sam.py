"""RepViT-SAM as published (official layout and outputs in
tests/data/repvit_sam_official), SAM's predictor and automatic mask generator
on it, and the EMO / MobileViT SAM encoders.

CPU cost: one 1024x1024 forward of the M2.3 encoder (~3-5 s), everything
else at 256x320 or on small models.
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import ROOT
from official_data import draw_weights, official_input
from segment_anything import SamAutomaticMaskGenerator, SamPredictor
from segment_anything.modeling import Sam

from mmlightvit.compat import CheckpointError
from mmlightvit.sam import (SamImageEncoder, build_sam,
                            convert_sam_state_dict, load_sam, preprocess,
                            save_sam)
from mmlightvit.sam.build import PIXEL_MEAN, PIXEL_STD

pytestmark = pytest.mark.usefixtures('single_thread')

DATA = osp.join(ROOT, 'tests', 'data', 'repvit_sam_official')


def assert_close_rel(actual, expected, rtol=1e-4):
    """``max|a - e| <= rtol * max|e|``."""
    actual = torch.as_tensor(actual).float()
    expected = torch.as_tensor(expected).float()
    assert actual.shape == expected.shape
    err = (actual - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert err <= rtol * scale, \
        f'max abs error {err:.3g} > {rtol} x {scale:.3g}'


@pytest.fixture(scope='module')
def official():
    with open(osp.join(DATA, 'repvit_sam_layout.json')) as f:
        layout = json.load(f)
    with open(osp.join(DATA, 'cases.json')) as f:
        cases = json.load(f)
    outputs = dict(np.load(osp.join(DATA, 'repvit_sam_outputs.npz')))
    return layout, cases, outputs


@pytest.fixture(scope='module')
def published_file(official, tmp_path_factory):
    """A file laid out as the published repvit_sam.pt (flat state_dict,
    official keys), weights drawn by the fixture's rule."""
    path = str(tmp_path_factory.mktemp('sam') / 'repvit_sam.pt')
    torch.save(draw_weights(official[0]), path)
    return path


@pytest.fixture(scope='module')
def repvit_sam(published_file):
    return build_sam('repvit', checkpoint=published_file)


def test_build_sam_is_segment_anything_sam():
    sam = build_sam('repvit')
    assert isinstance(sam, Sam)
    assert isinstance(sam.image_encoder, SamImageEncoder)
    assert sam.image_encoder.img_size == 1024
    assert sam.prompt_encoder.image_embedding_size == (64, 64)
    # the trunk is this project's RepViT-M2.3 whose last downsampling
    # block keeps stride 1
    trunk = sam.image_encoder.trunk
    assert type(trunk).__name__ == 'RepViT' and trunk.arch == 'm2_3'
    assert trunk.stages[3][1].spatial_downsample.conv.stride == (1, 1)
    assert trunk.stages[2][1].spatial_downsample.conv.stride == (2, 2)


def test_published_layout_loads_strictly(official, published_file):
    layout = official[0]
    state_dict = draw_weights(layout)
    converted = convert_sam_state_dict(state_dict)
    own = build_sam('repvit').state_dict()
    assert set(converted) == set(own)
    assert all(converted[k].shape == v.shape for k, v in own.items())
    # every official value lands somewhere, untouched
    assert sorted(v.sum().item() for v in converted.values()) == sorted(
        v.sum().item() for v in state_dict.values())


def test_incomplete_checkpoint_is_refused(official, tmp_path):
    state_dict = draw_weights(official[0])
    del state_dict['image_encoder.neck.2.weight']
    state_dict['image_encoder.features.54.extra'] = torch.zeros(1)
    path = str(tmp_path / 'broken.pt')
    torch.save(state_dict, path)
    with pytest.raises(CheckpointError) as e:
        build_sam('repvit', checkpoint=path)
    msg = str(e.value)
    assert path in msg and 'image_encoder.neck.2.weight' in msg
    assert '1 missing' in msg and '1 unexpected' in msg


def test_encoder_only_checkpoint_is_refused(tmp_path):
    path = str(tmp_path / 'encoder.pth')
    torch.save({'state_dict': {'encoder.neck.0.weight': torch.zeros(1)}},
               path)
    with pytest.raises(CheckpointError, match='not a whole SAM'):
        load_sam(path)


def test_embedding_256x320_matches_official(official, repvit_sam):
    _, cases, outputs = official
    with torch.no_grad():
        emb = repvit_sam.image_encoder(official_input((256, 320)))
    assert list(emb.shape) == cases['arrays']['embedding_256x320']
    assert_close_rel(emb, outputs['embedding_256x320'])


def test_deploy_gives_the_same_embedding(official, published_file):
    sam = build_sam('repvit', checkpoint=published_file)
    x = official_input((256, 320))
    sam.image_encoder.switch_to_deploy()
    assert not any('token_mixer.conv1' in k for k in sam.state_dict())
    with torch.no_grad():
        emb = sam.image_encoder(x)
    assert_close_rel(emb, official[2]['embedding_256x320'])


def test_predictor_1024_matches_official(official, repvit_sam):
    """One 1024 px forward through SamPredictor, unchanged: the official
    pre-processed input de-normalised, so that SAM's own pre-processing
    gives it back; then the two prompts of cases.json."""
    _, cases, outputs = official
    mean = torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
    predictor = SamPredictor(repvit_sam)
    predictor.set_torch_image(official_input((1024, 1024)) * std + mean,
                              (1024, 1024))
    assert_close_rel(predictor.features.mean((2, 3)),
                     outputs['embedding_1024_mean'])
    prompts = cases['prompts']
    runs = {
        'point': dict(
            point_coords=torch.tensor(prompts['point']['point_coords']),
            point_labels=torch.tensor(prompts['point']['point_labels'])),
        'box': dict(point_coords=None, point_labels=None,
                    boxes=torch.tensor(prompts['box']['boxes'])),
    }
    for name, kwargs in runs.items():
        masks, iou, low_res = predictor.predict_torch(
            multimask_output=True, return_logits=True, **kwargs)
        assert masks.shape == (1, 3, 1024, 1024)
        assert_close_rel(low_res, outputs[f'{name}_low_res_masks'])
        assert_close_rel(iou, outputs[f'{name}_iou_predictions'])


def small_sam(encoder='repvit', **kwargs):
    """A quick SAM: small trunk, 128 px input (8x8 embedding)."""
    torch.manual_seed(0)
    return build_sam(encoder, img_size=128, **kwargs)


def toy_image(h=96, w=72):
    """An RGB image with a bright disc and a dark bar on a gradient."""
    yy, xx = np.mgrid[:h, :w]
    image = np.stack([40 + 100 * xx / w, 60 + 80 * yy / h,
                      np.full((h, w), 90.)], -1)
    image[(yy - h / 3)**2 + (xx - w / 2)**2 < (w / 5)**2] = (240, 220, 30)
    image[int(0.7 * h):int(0.85 * h), 5:w - 5] = (10, 10, 120)
    return image.astype(np.uint8)


def test_predictor_on_a_small_image():
    sam = small_sam(arch='m0_9')
    image = toy_image()
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    # the predictor's input is preprocess() of the image
    with torch.no_grad():
        expected = sam.image_encoder(preprocess(image, 128))
    torch.testing.assert_close(predictor.features, expected)
    masks, scores, low_res = predictor.predict(
        point_coords=np.array([[36., 32.], [10., 80.]]),
        point_labels=np.array([1, 0]), multimask_output=True)
    assert masks.shape == (3, 96, 72) and masks.dtype == bool
    assert scores.shape == (3, ) and low_res.shape == (3, 32, 32)
    masks, scores, _ = predictor.predict(box=np.array([5., 60., 67., 85.]),
                                         multimask_output=False)
    assert masks.shape == (1, 96, 72)


def test_automatic_mask_generator():
    sam = small_sam(arch='m0_9')
    image = toy_image()
    generator = SamAutomaticMaskGenerator(
        sam, points_per_side=4, pred_iou_thresh=0.,
        stability_score_thresh=0., box_nms_thresh=1.)
    records = generator.generate(image)
    assert records
    for r in records:
        assert r['segmentation'].shape == (96, 72)
        assert r['area'] == r['segmentation'].sum()
        assert len(r['bbox']) == 4 and len(r['point_coords']) == 1


@pytest.mark.parametrize('encoder', ['repvit', 'emo', 'mobilevit'])
def test_every_family_is_a_sam_encoder(encoder):
    sam = small_sam(encoder)
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        emb = sam.image_encoder(x)
    assert emb.shape == (1, 256, 8, 8)
    # SAM's LayerNorm2d at the end: unit variance over channels
    torch.testing.assert_close(emb.var(1, unbiased=False).mean(),
                               torch.tensor(1.), atol=1e-3, rtol=0)
    # the whole SAM runs on it
    low_res, iou = sam.mask_decoder(
        image_embeddings=emb, image_pe=sam.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sam.prompt_encoder(
            points=(torch.tensor([[[40., 50.]]]), torch.tensor([[1]])),
            boxes=None, masks=None)[0],
        dense_prompt_embeddings=sam.prompt_encoder(
            points=None, boxes=None, masks=None)[1],
        multimask_output=True)
    assert low_res.shape == (1, 3, 32, 32) and iou.shape == (1, 3)


def test_save_and_load_keep_the_encoder(tmp_path):
    sam = small_sam('emo', arch='1M')
    path = str(tmp_path / 'emo_sam.pth')
    save_sam(sam, path)
    loaded = load_sam(path)  # the encoder config comes from the file
    assert loaded.image_encoder.img_size == 128
    assert type(loaded.image_encoder.trunk).__name__ == 'EMO'
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(loaded.image_encoder(x),
                                   sam.image_encoder(x))
    # a deployed RepViT-SAM reloads in its deploy form
    sam = small_sam(arch='m0_9')
    sam.image_encoder.switch_to_deploy()
    save_sam(sam, path)
    loaded = load_sam(path)
    assert loaded.image_encoder.trunk.deploy
    with torch.no_grad():
        torch.testing.assert_close(loaded.image_encoder(x),
                                   sam.image_encoder(x))


def test_unknown_family():
    with pytest.raises(ValueError, match="Unknown SAM encoder 'vit'"):
        build_sam('vit')
