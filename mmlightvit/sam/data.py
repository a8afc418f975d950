"""Images and teacher embeddings for SAM encoder distillation.

* :func:`list_images` / :func:`read_rgb` / :func:`preprocess`: an image
  folder (SA-1B's ``sa_*.jpg`` or any images, nested or not) and SAM's
  pre-processing, exactly as ``SamPredictor.set_image`` + ``Sam.preprocess``
  do it (longest side resized to ``img_size``, normalised, zero-padded to a
  square);
* :class:`EmbeddingStore`: the teacher's embeddings in shards,
  ``<dir>/shard_NNNNNN.npy`` (N x 256 x S/16 x S/16) beside
  ``shard_NNNNNN.json`` (the images of its rows, with the SHA-1 of each
  file) and ``meta.json`` (the
  teacher and the pre-processing). A shard is written to a temporary file and
  renamed into place, its ``.npy`` before its ``.json``: a shard counts once
  its ``.json`` exists, so a run killed at any moment leaves only complete
  shards, and a restart skips the images they hold;
* :class:`SamDistillDataset`: (pre-processed image, teacher embedding) pairs
  of such a folder, for training through ``tools/train.py``.
"""
import hashlib
import io
import json
import logging
import os
import os.path as osp
import re

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DATASETS
from segment_anything.utils.transforms import ResizeLongestSide

from ..compat import write_file_atomically
from .build import PIXEL_MEAN, PIXEL_STD

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
DUMP_SCRIPT = 'tools/sam/dump_teacher.py'


def list_images(folder):
    """Relative paths (``/``-separated, sorted) of the images below
    ``folder``; ``FileNotFoundError`` when it is missing or has none."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder} does not exist')
    names = []
    for root, _, files in os.walk(folder):
        for f in files:
            if f.lower().endswith(IMAGE_EXTENSIONS):
                rel = osp.relpath(osp.join(root, f), folder)
                names.append(rel.replace(os.sep, '/'))
    if not names:
        raise FileNotFoundError(
            f'no images ({", ".join(IMAGE_EXTENSIONS)}) below {folder}')
    return sorted(names)


def read_rgb(path, with_digest=False):
    """An image file as an ``HxWx3`` uint8 RGB array (and the SHA-1 of the
    file when ``with_digest``); ``ValueError`` naming the file when it
    cannot be decoded."""
    with open(path, 'rb') as f:
        data = f.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read image {path} (empty or not an '
                         'image)')
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return (image, hashlib.sha1(data).hexdigest()) if with_digest else image


def preprocess(image, img_size, pixel_mean=PIXEL_MEAN, pixel_std=PIXEL_STD):
    """``HxWx3`` uint8 RGB -> the ``1x3xSxS`` float input of SAM's image
    encoder (``S = img_size``), as ``SamPredictor.set_image`` makes it."""
    resized = ResizeLongestSide(img_size).apply_image(image)
    x = torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None]
    x = (x - torch.tensor(pixel_mean).view(-1, 1, 1)) / torch.tensor(
        pixel_std).view(-1, 1, 1)
    h, w = x.shape[-2:]
    return F.pad(x, (0, img_size - w, 0, img_size - h))


class EmbeddingStore:
    """A folder of teacher embeddings in shards (see the module docstring).

    Args:
        root (str): The folder.
    """
    _SHARD = re.compile(r'shard_(\d{6})\.json$')

    def __init__(self, root):
        self.root = root
        self._arrays = {}

    @property
    def meta_file(self):
        return osp.join(self.root, 'meta.json')

    def read_meta(self):
        """The meta of the folder; ``FileNotFoundError`` (how to make one)
        when there is none."""
        if not osp.isfile(self.meta_file):
            raise FileNotFoundError(
                f'{self.root} holds no teacher embeddings (no meta.json); '
                f'make them with: python {DUMP_SCRIPT} IMAGE_DIR --checkpoint '
                f'TEACHER.pth --out {self.root}')
        with open(self.meta_file) as f:
            return json.load(f)

    def init_meta(self, meta):
        """Start a folder with ``meta``, or check that it continues one made
        with the same teacher and pre-processing (``ValueError`` naming what
        differs; nothing is touched then)."""
        os.makedirs(self.root, exist_ok=True)
        if not osp.isfile(self.meta_file):
            write_file_atomically(json.dumps(meta, indent=1).encode(),
                                  self.meta_file)
            return
        old = self.read_meta()
        diff = [k for k in sorted(set(old) | set(meta))
                if k != 'checkpoint' and old.get(k) != meta.get(k)]
        if diff:
            raise ValueError(
                f'{self.root} holds embeddings of another teacher or '
                f'pre-processing ({", ".join(diff)} differ: '
                f'{ {k: old.get(k) for k in diff} } there, '
                f'{ {k: meta.get(k) for k in diff} } now); use another '
                'output folder or the same teacher')

    def shard_ids(self):
        """Ids of the complete shards, sorted."""
        if not osp.isdir(self.root):
            return []
        return sorted(int(m.group(1)) for f in os.listdir(self.root)
                      if (m := self._SHARD.match(f)))

    def _path(self, shard, ext):
        return osp.join(self.root, f'shard_{shard:06d}.{ext}')

    def index(self):
        """``{image name: (shard id, row, SHA-1 of the image file)}`` of
        every stored embedding."""
        index = {}
        for shard in self.shard_ids():
            with open(self._path(shard, 'json')) as f:
                rows = json.load(f)
            index.update(
                (n, (shard, row, digest)) for row, (n, digest) in enumerate(
                    zip(rows['images'], rows['sha1'])))
        return index

    def write_shard(self, names, digests, embeddings):
        """Store ``embeddings`` (``N x C x H x W`` array) of the images
        ``names`` (files of SHA-1 ``digests``) as the next shard; returns
        its id."""
        if not len(names) == len(digests) == len(embeddings):
            raise ValueError(f'{len(names)} names, {len(digests)} digests '
                             f'and {len(embeddings)} embeddings')
        ids = self.shard_ids()
        shard = ids[-1] + 1 if ids else 0
        with io.BytesIO() as f:
            np.save(f, np.ascontiguousarray(embeddings))
            write_file_atomically(f.getvalue(), self._path(shard, 'npy'))
        rows = dict(images=list(names), sha1=list(digests))
        write_file_atomically(json.dumps(rows).encode(),
                              self._path(shard, 'json'))
        return shard

    def embedding(self, shard, row):
        """One stored embedding (float32 tensor), read through a memory map
        of its shard."""
        if shard not in self._arrays:
            self._arrays[shard] = np.load(self._path(shard, 'npy'),
                                          mmap_mode='r')
        return torch.from_numpy(np.array(self._arrays[shard][row],
                                         dtype=np.float32))


@DATASETS.register_module()
class SamDistillDataset(BaseDataset):
    """Images with their teacher embeddings (:class:`EmbeddingStore`).

    Every image of ``data_prefix['img_path']`` that has an embedding in
    ``data_prefix['embed_path']`` is a sample ``dict(inputs=3xSxS float
    tensor pre-processed as the teacher's input was, embedding=256x(S/16)x
    (S/16) float tensor, img_path=str)``; ``S`` is the teacher's
    ``img_size`` (from the store's meta). Images without an embedding are
    left out (and counted in the log); a store without any of the images is
    an error, and so is an image file that is not the one the embedding was
    made of (images are matched by their path below the folder, and checked
    by the SHA-1 of the file).

    Args:
        data_root (str): Root of both folders.
        data_prefix (dict): ``img_path`` (images) and ``embed_path``
            (embeddings), relative to ``data_root``.
        **kwargs: Other ``BaseDataset`` arguments.
    """

    def __init__(self, data_root='', data_prefix=dict(img_path='images',
                                                      embed_path='embeddings'),
                 **kwargs):
        super().__init__(data_root=data_root, data_prefix=data_prefix,
                         **kwargs)

    def load_data_list(self):
        img_dir = self.data_prefix['img_path']
        store = EmbeddingStore(self.data_prefix['embed_path'])
        meta = store.read_meta()
        self.img_size = meta['img_size']
        self.pixel_mean, self.pixel_std = meta['pixel_mean'], meta['pixel_std']
        index = store.index()
        names = list_images(img_dir)
        data_list = [dict(img_path=osp.join(img_dir, n), name=n,
                          shard=index[n][0], row=index[n][1],
                          sha1=index[n][2]) for n in names if n in index]
        if not data_list:
            raise FileNotFoundError(
                f'none of the {len(names)} images of {img_dir} has an '
                f'embedding in {store.root}; make them with: python '
                f'{DUMP_SCRIPT} {img_dir} --checkpoint TEACHER.pth --out '
                f'{store.root}')
        self.store = store
        if len(data_list) < len(names):
            print_log(f'{len(names) - len(data_list)} of the {len(names)} '
                      f'images of {img_dir} have no embedding in '
                      f'{store.root} and are left out', logger='current',
                      level=logging.WARNING)
        return data_list

    def prepare_data(self, idx):
        info = self.get_data_info(idx)
        image, digest = read_rgb(info['img_path'], with_digest=True)
        if digest != info['sha1']:
            raise ValueError(
                f'{info["img_path"]} is not the image whose embedding '
                f'{self.store.root} holds as {info["name"]} (the file '
                f'differs); dump the embeddings of these images with '
                f'{DUMP_SCRIPT} into a new folder')
        x = preprocess(image, self.img_size, self.pixel_mean,
                       self.pixel_std)[0]
        return dict(inputs=x, img_path=info['img_path'],
                    embedding=self.store.embedding(info['shard'],
                                                   info['row']))
