"""The SAM encoder distillation recipe on CPU in seconds: a small randomly
initialised 64 px SAM ViT teacher, toy images, tools/sam/dump_teacher.py
(resumable, safe to kill), the dataset and model of configs/sam/ (every
family), tools/train.py with resume, tools/sam/evaluate.py."""
import json
import os
import os.path as osp
import sys
from functools import partial

import cv2
import numpy as np
import pytest
import torch
from helpers import ROOT, failure_summary, run_tool
from mmengine.optim import OptimWrapper
from segment_anything.modeling import ImageEncoderViT

import mmlightvit.sam.data as sam_data
from mmlightvit.sam import (EmbeddingStore, SamDistillDataset,
                            SamEncoderDistiller, build_teacher, load_sam,
                            preprocess)
from mmlightvit.sam.build import sam_around
from mmlightvit.sam.evaluation import MaskAgreement
from mmlightvit.sam.teacher import SAM_VITS, registry_name, vit_config

sys.path.insert(0, osp.join(ROOT, 'tools', 'sam'))
import dump_teacher  # noqa: E402
import evaluate  # noqa: E402

pytestmark = pytest.mark.usefixtures('single_thread')

TOY_CONFIG = osp.join(ROOT, 'configs', 'sam',
                      'repvit-m0-9_sam-distill_toy-64.py')
TINY_VIT = dict(img_size=64, patch_size=16, embed_dim=32, depth=2,
                num_heads=2, mlp_ratio=2., out_chans=256, qkv_bias=True,
                use_rel_pos=True, window_size=2, global_attn_indexes=(1, ))


def tiny_teacher(seed=0, **changes):
    torch.manual_seed(seed)
    sam = sam_around(ImageEncoderViT(
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        **dict(TINY_VIT, **changes)))
    with torch.no_grad():  # SAM zero-initialises the position embeddings
        for name, p in sam.named_parameters():
            if 'pos' in name:
                p.normal_(0, 0.1)
    return sam


def toy_image(rng, h, w):
    """A gradient with a bright ellipse and a dark rectangle."""
    yy, xx = np.mgrid[:h, :w]
    image = np.stack([40 + 100 * xx / w, 60 + 80 * yy / h,
                      np.full((h, w), 90.)], -1)
    cy, cx = rng.uniform(0.3, 0.7, 2) * (h, w)
    image[((yy - cy) / (0.25 * h))**2 + ((xx - cx) / (0.2 * w))**2 < 1] = \
        rng.integers(150, 255, 3)
    image[int(0.75 * h):int(0.9 * h), 3:w - 3] = rng.integers(0, 80, 3)
    return image.astype(np.uint8)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """``data/images/{train,val}`` (nested, sizes that need resizing and
    padding) and a teacher checkpoint."""
    root = tmp_path_factory.mktemp('sam_toy')
    rng = np.random.default_rng(0)
    for split, count in (('train', 5), ('val', 2)):
        for i in range(count):
            sub = 'sa_000000/' if split == 'train' and i % 2 else ''
            name = f'{sub}sa_{i}.jpg' if split == 'train' else f'val_{i}.jpg'
            path = root / 'data' / 'images' / split / name
            os.makedirs(path.parent, exist_ok=True)
            cv2.imwrite(str(path), toy_image(rng, 40 + 9 * i, 70 - 6 * i))
    teacher = str(root / 'teacher.pth')
    torch.save(tiny_teacher().state_dict(), teacher)
    return root, teacher


def dump(image_dir, teacher, out, *extra):
    dump_teacher.main([str(image_dir), '--checkpoint', teacher, '--out',
                       str(out), *extra])


@pytest.fixture(scope='module')
def embeddings(toy):
    root, teacher = toy
    for split in ('train', 'val'):
        dump(root / 'data' / 'images' / split, teacher,
             root / 'data' / 'embeddings' / split, '--shard-size', '2')
    return root / 'data'


def test_teacher_shape_is_read_off_the_weights(toy):
    config = vit_config(tiny_teacher().state_dict())
    assert config == TINY_VIT
    assert registry_name(config) is None
    from segment_anything import sam_model_registry
    for name in SAM_VITS:
        with torch.device('meta'):
            state_dict = sam_model_registry[name]().state_dict()
        assert registry_name(vit_config(state_dict)) == name
    sam, info = build_teacher(toy[1])
    assert info['type'] == 'custom' and sam.image_encoder.img_size == 64


def test_dump_stores_the_teacher_embeddings(toy, embeddings, capsys):
    root, teacher_file = toy
    store = EmbeddingStore(str(embeddings / 'embeddings' / 'train'))
    index = store.index()
    assert sorted(index) == ['sa_0.jpg', 'sa_000000/sa_1.jpg',
                             'sa_000000/sa_3.jpg', 'sa_2.jpg', 'sa_4.jpg']
    assert store.shard_ids() == [0, 1, 2]
    assert store.read_meta()['embed_shape'] == [256, 4, 4]
    teacher, _ = build_teacher(teacher_file)
    image = cv2.imread(str(embeddings / 'images' / 'train' / 'sa_2.jpg'))
    with torch.no_grad():
        expected = teacher.image_encoder(preprocess(image[..., ::-1], 64))
    torch.testing.assert_close(store.embedding(*index['sa_2.jpg'][:2]),
                               expected[0], atol=2e-3, rtol=2e-3)  # float16
    # a second run finds everything done
    dump(embeddings / 'images' / 'train', teacher_file,
         embeddings / 'embeddings' / 'train')
    assert '5 already in' in capsys.readouterr().out
    assert store.shard_ids() == [0, 1, 2]


def test_dump_survives_a_kill(toy, embeddings, tmp_path, monkeypatch):
    root, teacher = toy
    images = embeddings / 'images' / 'train'
    out = tmp_path / 'killed'
    real_write = sam_data.write_file_atomically
    calls = []

    def killed_in_second_shard(data, filename):
        calls.append(filename)
        if len(calls) == 5:  # meta, npy, json, npy, json: killed mid-write
            with open(filename + '.tmp', 'wb') as f:
                f.write(data[:5])
            raise KeyboardInterrupt
        real_write(data, filename)

    monkeypatch.setattr(sam_data, 'write_file_atomically',
                        killed_in_second_shard)
    with pytest.raises(KeyboardInterrupt):
        dump(images, teacher, out, '--shard-size', '2')
    monkeypatch.undo()
    assert sorted(os.listdir(out)) == [
        'meta.json', 'shard_000000.json', 'shard_000000.npy',
        'shard_000001.json.tmp', 'shard_000001.npy']
    assert len(EmbeddingStore(str(out)).index()) == 2  # one whole shard
    dump(images, teacher, out, '--shard-size', '2')
    killed = EmbeddingStore(str(out))
    clean = EmbeddingStore(str(embeddings / 'embeddings' / 'train'))
    assert killed.index() == clean.index()
    for name, where in clean.index().items():
        torch.testing.assert_close(killed.embedding(*where[:2]),
                                   clean.embedding(*where[:2]), rtol=0, atol=0)


def test_dump_refuses_another_teacher_and_bad_images(toy, embeddings,
                                                     tmp_path):
    root, _ = toy
    other = str(tmp_path / 'other.pth')
    torch.save(tiny_teacher(depth=1).state_dict(), other)
    out = embeddings / 'embeddings' / 'train'
    with pytest.raises(SystemExit, match='another teacher.*teacher_config'):
        dump(embeddings / 'images' / 'train', other, out)
    images = tmp_path / 'images'
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f'{i}.png'),
                    toy_image(np.random.default_rng(i), 30, 40))
    (images / '3_broken.png').write_bytes(b'not an image')
    with pytest.raises(SystemExit, match='cannot read image .*3_broken.png'):
        dump(images, other, tmp_path / 'emb', '--shard-size', '2')
    assert len(EmbeddingStore(str(tmp_path / 'emb')).index()) == 3


def test_dataset_pairs_images_with_embeddings(embeddings, log_messages):
    dataset = SamDistillDataset(
        data_root=str(embeddings),
        data_prefix=dict(img_path='images/train',
                         embed_path='embeddings/train'))
    assert len(dataset) == 5
    sample = dataset[1]
    assert sample['inputs'].shape == (3, 64, 64)
    assert sample['embedding'].shape == (256, 4, 4)
    image = cv2.imread(sample['img_path'])[..., ::-1]
    torch.testing.assert_close(sample['inputs'],
                               preprocess(image.copy(), 64)[0])
    with pytest.raises(FileNotFoundError, match='none of the 2 images'):
        SamDistillDataset(data_root=str(embeddings), data_prefix=dict(
            img_path='images/val', embed_path='embeddings/train'))


def test_images_without_embedding_are_left_out(toy, embeddings, tmp_path,
                                               log_messages):
    dump(embeddings / 'images' / 'train', toy[1], tmp_path / 'emb',
         '--limit', '3')
    dataset = SamDistillDataset(data_prefix=dict(
        img_path=str(embeddings / 'images' / 'train'),
        embed_path=str(tmp_path / 'emb')))
    assert len(dataset) == 3
    assert any('2 of the 5 images' in m and 'left out' in m
               for m in log_messages)


def test_another_image_under_the_same_name_is_refused(embeddings, tmp_path):
    cv2.imwrite(str(tmp_path / 'sa_0.jpg'),
                toy_image(np.random.default_rng(9), 40, 70))
    dataset = SamDistillDataset(data_prefix=dict(
        img_path=str(tmp_path),
        embed_path=str(embeddings / 'embeddings' / 'train')))
    with pytest.raises(ValueError, match='sa_0.jpg is not the image whose'):
        dataset[0]


@pytest.mark.parametrize('trunk', [
    dict(type='RepViT', arch='m0_9'),
    dict(type='EMO', arch='1M', window_size=4),
    dict(type='MobileViTBackbone', arch='xxs'),
])
def test_every_family_distils(embeddings, trunk):
    """A few optimizer steps of the recipe's model on the stored
    embeddings lower the MSE, whatever the family."""
    torch.manual_seed(0)
    model = SamEncoderDistiller(
        encoder=dict(type='SamImageEncoder', img_size=64, trunk=trunk))
    dataset = SamDistillDataset(
        data_root=str(embeddings),
        data_prefix=dict(img_path='images/train',
                         embed_path='embeddings/train'))
    batch = dict(inputs=torch.stack([dataset[i]['inputs'] for i in range(4)]),
                 embedding=torch.stack(
                     [dataset[i]['embedding'] for i in range(4)]))
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3))
    losses = [model.train_step(batch, wrapper)['loss_mse'].item()
              for _ in range(4)]
    assert losses[-1] < losses[0]
    model.eval()
    scores = model.val_step(batch)
    assert len(scores) == 4 and all(-1 <= s['cosine'] <= 1 for s in scores)


def test_mask_agreement_of_the_teacher_with_itself(toy, embeddings):
    teacher, _ = build_teacher(toy[1])
    image = cv2.imread(str(embeddings / 'images' / 'val' / 'val_1.jpg'))
    kwargs = dict(max_masks=3, points_per_side=4, pred_iou_thresh=0.,
                  stability_score_thresh=0.)
    same = MaskAgreement(teacher, teacher, **kwargs)
    assert same.add(image[..., ::-1].copy()) > 0
    assert same.summary()['point_mIoU'] == same.summary()['box_mIoU'] == 1.
    other = MaskAgreement(teacher, tiny_teacher(seed=1), **kwargs)
    other.add(image[..., ::-1].copy())
    assert other.summary()['box_mIoU'] < 1.


def test_evaluate_a_distillation_checkpoint(toy, embeddings, tmp_path,
                                            capsys):
    """tools/sam/evaluate.py on a training checkpoint of the toy config
    (weights saved as tools/train.py saves them), --save-sam reloads."""
    torch.manual_seed(0)
    model = SamEncoderDistiller(encoder=dict(
        type='SamImageEncoder', img_size=64,
        trunk=dict(type='RepViT', arch='m0_9')))
    ckpt = str(tmp_path / 'iter_4.pth')
    torch.save(dict(meta=dict(iter=4), state_dict=model.state_dict()), ckpt)
    whole, result = str(tmp_path / 'student.pth'), str(tmp_path / 'r.json')
    evaluate.main([
        '--teacher', toy[1], '--images', str(embeddings / 'images' / 'val'),
        '--config', TOY_CONFIG, '--checkpoint', ckpt, '--points-per-side',
        '4', '--pred-iou-thresh', '0', '--stability-score-thresh', '0',
        '--save-sam', whole, '--out', result])
    assert 'point mIoU' in capsys.readouterr().out
    with open(result) as f:
        summary = json.load(f)
    assert summary['images'] == 2 and summary['prompts'] > 0
    assert 0 <= summary['point_mIoU'] <= 1 and 0 <= summary['box_mIoU'] <= 1
    student = load_sam(whole)
    teacher, _ = build_teacher(toy[1])
    torch.testing.assert_close(student.mask_decoder.state_dict(),
                               teacher.mask_decoder.state_dict())
    torch.testing.assert_close(
        student.image_encoder.state_dict(),
        {k[len('encoder.'):]: v for k, v in model.state_dict().items()})


@pytest.mark.slow
def test_train_and_resume_through_tools(embeddings, tmp_path):
    work = str(tmp_path / 'work')
    data = [f'{k}_dataloader.dataset.data_root={embeddings}'
            for k in ('train', 'val', 'test')]
    code, out = run_tool('tools/train.py', TOY_CONFIG, '--work-dir', work,
                         '--cfg-options', 'train_cfg.max_iters=2', *data)
    assert code == 0, failure_summary(out)
    assert 'distill/mse' in out and osp.isfile(osp.join(work, 'iter_2.pth'))
    code, out = run_tool('tools/train.py', TOY_CONFIG, '--work-dir', work,
                         '--resume', '--cfg-options', *data)
    assert code == 0, failure_summary(out)
    assert 'Resumed the data order at iteration 2' in out
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
