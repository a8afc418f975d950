"""Segmentation data as a plain folder of images and PNG masks.

::

    <data_root>/
        classes.txt                 one class name a line: mask value = line
        palette.txt                 (optional) one "R G B" colour a line
        images/train/0001.jpg ...
        masks/train/0001.png ...    uint8 label values, same name as the image
        images/val/... masks/val/...

:class:`FolderSegDataset` is mmseg's ``BaseSegDataset`` whose class names
(and palette) come from those files, given as ``metainfo=dict(classes=PATH,
palette=PATH)`` (paths as written, i.e. from the working directory, as
mmengine reads metainfo files). A metainfo file that does not exist is an
error here (mmengine would take the path itself as a class name).

``reduce_zero_label``: masks in which 0 means "unlabelled" and 1..N the N
classes of the list (ADE20K's convention) are read with
``reduce_zero_label=True``: 0 becomes 255 (ignored), k becomes k - 1. Masks
in which 0 is the first class of the list (e.g. "background") are read with
``False`` (the default). 255 is ignored either way.
"""
import os.path as osp

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .coco import DatasetConfigError

__all__ = ['FolderSegDataset']


def _parse_colour(line, path):
    values = line.replace(',', ' ').split()
    try:
        colour = [int(v) for v in values]
    except ValueError:
        colour = []
    if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
        raise DatasetConfigError(
            f'{path}: expected "R G B" (0..255) a line, got "{line}"')
    return colour


@DATASETS.register_module()
class FolderSegDataset(BaseSegDataset):
    """A folder of images and PNG masks (see the module docstring).

    Args: as mmseg's ``BaseSegDataset`` (``img_suffix='.jpg'``,
    ``seg_map_suffix='.png'``, ``data_prefix=dict(img_path=...,
    seg_map_path=...)``, ``reduce_zero_label``), with ``metainfo.classes``
    required (a sequence of names or a file with one name a line) and
    ``metainfo.palette`` optional (colours, or a file with one "R G B" a
    line).
    """

    @classmethod
    def _load_metainfo(cls, metainfo=None):
        metainfo = dict(metainfo or {})
        files = {k: v for k, v in metainfo.items()
                 if k in ('classes', 'palette') and isinstance(v, str)}
        for key, path in files.items():
            if not osp.isfile(path):
                raise FileNotFoundError(f'{key} file {path} (metainfo.{key}) '
                                        'does not exist')
        meta = super()._load_metainfo(metainfo)
        classes = meta.get('classes')
        where = files.get('classes', 'metainfo.classes')
        if not classes:
            raise DatasetConfigError(
                f'{cls.__name__} needs its class names: '
                "metainfo=dict(classes='.../classes.txt') (one name a line) "
                'or a list of names')
        classes = [c.strip() for c in classes] if 'classes' in files \
            else list(classes)
        duplicates = sorted({c for c in classes if classes.count(c) > 1})
        if duplicates:
            raise DatasetConfigError(
                f'{where}: class names listed twice: {duplicates}')
        meta['classes'] = tuple(classes)
        palette = meta.get('palette')
        if 'palette' in files:
            palette = [_parse_colour(line, files['palette'])
                       for line in palette if line.strip()]
            meta['palette'] = palette
        if palette is not None and len(palette) != len(classes):
            raise DatasetConfigError(
                f'{files.get("palette", "metainfo.palette")} has '
                f'{len(palette)} colours for the {len(classes)} classes of '
                f'{where}')
        return meta
