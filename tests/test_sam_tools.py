"""tools/sam: segment.py paints masks, export_onnx.py (onnxruntime parity),
benchmark_encoders.py; on a small SAM (RepViT-M0.9 encoder, 128 px)."""
import os.path as osp
import sys

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch
from helpers import ROOT

from mmlightvit.sam import build_sam, save_sam

sys.path.insert(0, osp.join(ROOT, 'tools', 'sam'))
import benchmark_encoders  # noqa: E402
import export_onnx  # noqa: E402
import segment  # noqa: E402

pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A small whole-SAM checkpoint and a 150x200 image (a yellow disc and
    a blue bar on a gradient)."""
    root = tmp_path_factory.mktemp('sam_tools')
    torch.manual_seed(0)
    ckpt = str(root / 'sam.pth')
    save_sam(build_sam('repvit', img_size=128, arch='m0_9'), ckpt)
    yy, xx = np.mgrid[:150, :200]
    image = np.stack([40 + 100 * xx / 200, 60 + 80 * yy / 150,
                      np.full((150, 200), 90.)], -1).astype(np.uint8)
    image[(yy - 50)**2 + (xx - 100)**2 < 40**2] = (30, 220, 240)
    image[105:125, 10:190] = (120, 10, 10)
    path = str(root / 'image.png')
    cv2.imwrite(path, image)
    return ckpt, path, image


def painted(out):
    picture = cv2.imread(out)
    assert picture is not None and picture.shape == (150, 200, 3)
    return picture


def mask_lines(text):
    return [line for line in text.splitlines() if line.startswith('mask ')]


def test_segment_points(files, tmp_path, capsys):
    ckpt, image, pixels = files
    out = str(tmp_path / 'points.png')
    segment.main([image, '--checkpoint', ckpt, '--out', out,
                  '--points', '100,50', '20,20,0'])
    lines = mask_lines(capsys.readouterr().out)
    assert len(lines) == 1 and 'score' in lines[0]
    assert (painted(out) != pixels).any()


def test_segment_boxes_and_everything(files, tmp_path, capsys):
    ckpt, image, _ = files
    out = str(tmp_path / 'boxes.png')
    segment.main([image, '--checkpoint', ckpt, '--out', out, '--boxes',
                  '60,10,140,90', '10,100,190,130'])
    assert len(mask_lines(capsys.readouterr().out)) == 2
    painted(out)
    segment.main([image, '--checkpoint', ckpt, '--out', out, '--everything',
                  '--points-per-side', '4', '--pred-iou-thresh', '0',
                  '--stability-score-thresh', '0', '--deploy'])
    text = capsys.readouterr().out
    assert len(mask_lines(text)) >= 1
    assert f'mask(s) into {out}' in text


def test_paint_puts_each_mask_and_its_score():
    image = np.full((60, 80, 3), 100, np.uint8)
    mask = np.zeros((60, 80), bool)
    mask[10:50, 10:40] = True
    picture = segment.paint(image, [(mask, 0.87)])
    changed = (picture != 100).any(-1)
    assert changed[mask].mean() > 0.9  # the mask is coloured
    assert not changed[:, 50:].any()  # nothing outside it
    again = segment.paint(image, [(mask, 0.87)])
    np.testing.assert_array_equal(picture, again)  # deterministic
    other = segment.paint(image, [(mask, 0.12)])
    assert (other != picture).any()  # the score is written


def test_segment_bad_inputs(files, tmp_path, capsys):
    ckpt, image, _ = files
    out = str(tmp_path / 'x.png')
    cases = [([], 'give --points, --boxes or --everything'),
             (['--points', '1,2,3,4'], 'a point (x,y[,label]) must be 2 or 3'),
             (['--points', '1,2,5'], 'a point label must be 0 or 1, got 5'),
             (['--points', '1,2', '--boxes', '0,0,5,5', '1,1,6,6'],
              'one box at most')]
    for extra, message in cases:
        with pytest.raises(SystemExit) as e:
            segment.main([image, '--checkpoint', ckpt, '--out', out, *extra])
        assert e.value.code == 2 and message in capsys.readouterr().err
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match=f'image {missing} does not'):
        segment.main([missing, '--checkpoint', ckpt, '--out', out,
                      '--points', '1,2'])
    with open(missing, 'w') as f:
        f.write('not an image')
    with pytest.raises(SystemExit, match=f'cannot read image {missing}'):
        segment.main([missing, '--checkpoint', ckpt, '--out', out,
                      '--points', '1,2'])


def test_export_onnx_parity(files, tmp_path, capsys):
    ckpt, _, _ = files
    out_dir = str(tmp_path / 'onnx')
    export_onnx.main([ckpt, '--out-dir', out_dir, '--exporter', 'legacy',
                      '--deploy'])
    text = capsys.readouterr().out
    assert text.count('max relative difference') == 3
    # SAM's ONNX decoder interface, any number of points
    session = ort.InferenceSession(osp.join(out_dir, 'decoder.onnx'),
                                   providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == \
        export_onnx.DECODER_INPUTS
    sam = build_sam('repvit', img_size=128, arch='m0_9')
    inputs = export_onnx.decoder_inputs(sam, 3, False)
    masks, iou, low_res = session.run(
        None, {k: v.numpy() for k, v in inputs.items()})
    # all four mask tokens (no --return-single-mask), at orig_im_size
    assert masks.shape == (1, 4, 96, 128)
    assert iou.shape == (1, 4) and low_res.shape == (1, 4, 32, 32)
    encoder = ort.InferenceSession(osp.join(out_dir, 'encoder.onnx'),
                                   providers=['CPUExecutionProvider'])
    emb = encoder.run(None, {'image': np.zeros((1, 3, 128, 128),
                                                np.float32)})[0]
    assert emb.shape == (1, 256, 8, 8)


def test_benchmark_table(capsys, tmp_path):
    out = str(tmp_path / 'table.md')
    benchmark_encoders.main([
        '--img-size', '64', '--repeat', '2', '--warmup', '0', '--encoders',
        'repvit', 'mobilevit', 'vit_b', 'tinyvit_5m', '--out', out])
    with open(out) as f:
        table = f.read()
    assert table.strip() in capsys.readouterr().out
    rows = {r.split(' | ')[0].strip('| '): r for r in table.splitlines()
            if r.startswith('| ') and 'encoder' not in r}
    assert set(rows) == {'RepViT-SAM (M2.3, ours)', 'MobileViT-SAM (S, ours)',
                         'SAM ViT-B (segment-anything)', 'TinyViT-5M (timm)'}
    assert '256x4x4' in rows['RepViT-SAM (M2.3, ours)']
    assert rows['SAM ViT-B (segment-anything)'].split(' | ')[4] == '1.00x'
