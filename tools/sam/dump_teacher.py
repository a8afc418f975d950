"""Run a SAM teacher over an image folder and store its image embeddings in
shards, for decoupled distillation (MobileSAM's recipe).

    python tools/sam/dump_teacher.py IMAGE_DIR --checkpoint sam_vit_h.pth
        --out EMBED_DIR [--shard-size 64] [--batch-size 1] [--dtype float16]
        [--device cpu|cuda] [--limit N]

IMAGE_DIR: any images, nested or not (SA-1B's ``sa_000000/sa_1.jpg`` ...);
they are named by their path relative to IMAGE_DIR. The teacher is any
``segment-anything`` ViT checkpoint (ViT-H/L/B are built through
``sam_model_registry``; other shapes are read off the weights). Each image is
pre-processed as ``SamPredictor.set_image`` does (longest side to the
teacher's input size, normalised, padded) and its 256 x S/16 x S/16
embedding stored (``float16`` by default: 2 MB per image at 1024 px).

Resumable and safe to kill: shards are written to a temporary file and
renamed into place, and a shard counts once its ``.json`` list of images is
there; a second run over the same folders skips every image already stored.
A second run with another teacher into the same EMBED_DIR is refused.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.sam.build import PIXEL_MEAN, PIXEL_STD  # noqa: E402
from mmlightvit.sam.data import (EmbeddingStore, list_images,  # noqa: E402
                                 preprocess, read_rgb)
from mmlightvit.sam.teacher import build_teacher  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('image_dir', help='folder of images (any depth)')
    parser.add_argument('--checkpoint', required=True,
                        help='SAM teacher checkpoint (ViT-H/L/B or other)')
    parser.add_argument('--out', required=True, help='embedding folder')
    parser.add_argument('--shard-size', type=int, default=64,
                        help='images per shard (default 64)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--dtype', choices=['float16', 'float32'],
                        default='float16', help='storage type')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--limit', type=int,
                        help='stop after this many new images')
    args = parser.parse_args(argv)
    for name in ('shard_size', 'batch_size', 'limit'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{value}')
    return args


def main(argv=None):
    args = parse_args(argv)
    names = list_images(args.image_dir)
    teacher, info = build_teacher(args.checkpoint)
    teacher.to(args.device)
    size = teacher.image_encoder.img_size
    store = EmbeddingStore(args.out)
    try:
        store.init_meta(dict(
            teacher=info['type'], teacher_config=info['config'],
            checkpoint=osp.abspath(args.checkpoint), img_size=size,
            embed_shape=[256, size // 16, size // 16], dtype=args.dtype,
            pixel_mean=list(PIXEL_MEAN), pixel_std=list(PIXEL_STD)))
    except ValueError as e:
        sys.exit(f'error: {e}')
    done = store.index()
    todo = [n for n in names if n not in done]
    print(f'{len(names)} images in {args.image_dir}: {len(names) - len(todo)}'
          f' already in {args.out}, {len(todo)} to do (teacher '
          f'{info["type"]}, {size} px)', flush=True)
    if args.limit is not None and args.limit < len(todo):
        todo = todo[:args.limit]
        print(f'--limit: the first {len(todo)} of them', flush=True)
    start, buffer, digests, arrays = time.time(), [], [], []

    def flush(count):
        shard = store.write_shard(buffer, digests, np.concatenate(arrays))
        rate = count / (time.time() - start)
        print(f'shard {shard}: {len(buffer)} images ({count}/{len(todo)}, '
              f'{rate:.2f} img/s, {(len(todo) - count) / rate:.0f} s left)',
              flush=True)
        for done in (buffer, digests, arrays):
            done.clear()

    for i in range(0, len(todo), args.batch_size):
        batch = todo[i:i + args.batch_size]
        try:
            read = [read_rgb(osp.join(args.image_dir, n), with_digest=True)
                    for n in batch]
        except ValueError as e:
            if buffer:
                flush(i)  # keep what is done
            sys.exit(f'error: {e}; the images before it are stored: remove '
                     'or replace it and run again to go on')
        x = torch.cat([preprocess(image, size) for image, _ in read])
        with torch.inference_mode():
            emb = teacher.image_encoder(x.to(args.device))
        buffer.extend(batch)
        digests.extend(digest for _, digest in read)
        arrays.append(emb.cpu().numpy().astype(args.dtype))
        count = i + len(batch)
        if len(buffer) >= args.shard_size or count == len(todo):
            flush(count)
    print(f'done: {len(store.index())} embeddings in {args.out}')


if __name__ == '__main__':
    run_cli(main)
