"""Detection data in the YOLO layout, read as it is or converted to COCO.

The layout most labelling tools export and ultralytics reads::

    <data_root>/
        data.yaml                  names: [cat, dog, ...]  (or {0: cat, ...})
        images/train/0001.jpg ...
        labels/train/0001.txt ...  one object a line: "class cx cy w h",
                                   centre and size normalised by the image
        images/val/... labels/val/...

An empty label file is an image without objects; the label folder of
``.../images/<split>`` is ``.../labels/<split>``. A line with more than four
coordinates is a polygon (ultralytics' segment format): its box is used.

:func:`scan_yolo_split` reads one split and finds what would otherwise be
trained on silently or crash later, each named by file: images without a
label file, label files without an image, unreadable images, malformed
lines, unknown class ids and boxes outside their image (boxes out by less
than ``tolerance`` pixels are clipped). ``on_error='raise'`` refuses the
split with the list; ``'skip'`` leaves out what is broken (the image, or the
one label line) and logs each. :class:`YOLODataset` (registered in mmdet's
``DATASETS``) reads a split with it; ``tools/dataset_converters/
yolo2coco.py`` writes it once as a COCO annotation file (:func:`to_coco`).
"""
import logging
import os
import os.path as osp

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.fileio import list_from_file
from mmengine.logging import print_log
from PIL import Image

from .coco import DatasetConfigError

__all__ = ['IMG_EXTENSIONS', 'YOLODataError', 'YOLODataset',
           'label_dir_of', 'read_class_names', 'scan_yolo_split', 'to_coco']

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
ON_ERROR = ('raise', 'skip')
_LISTED = 10  # problems listed in an error message
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


class YOLODataError(DatasetConfigError):
    """YOLO labels, class lists or folders that cannot be used as they are
    (the tools end with its message, no traceback)."""


def read_class_names(path):
    """The class names of a YOLO ``data.yaml`` (``names`` as a list, or as a
    dict ``{0: name, ...}``; ``nc`` must agree) or of a text file with one
    name a line (darknet's ``obj.names``, ``classes.txt``)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'class list {path} does not exist')
    if osp.splitext(path)[1].lower() not in ('.yaml', '.yml'):
        names = [n.strip() for n in list_from_file(path) if n.strip()]
    else:
        import yaml
        with open(path) as f:
            data = yaml.safe_load(f)
        names = data.get('names') if isinstance(data, dict) else None
        if isinstance(names, dict):
            if sorted(names) != list(range(len(names))):
                raise YOLODataError(
                    f'{path}: the keys of names must be 0..{len(names) - 1}, '
                    f'got {sorted(names)}')
            names = [names[i] for i in range(len(names))]
        if not isinstance(names, list):
            raise YOLODataError(f'{path}: expected a "names" list (or dict '
                                'of class id -> name)')
        nc = data.get('nc')
        if nc is not None and nc != len(names):
            raise YOLODataError(f'{path}: nc is {nc} but names lists '
                                f'{len(names)} classes')
        names = [str(n) for n in names]
    if not names:
        raise YOLODataError(f'{path}: no class names')
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise YOLODataError(f'{path}: class names listed twice: '
                            f'{duplicates}')
    return tuple(names)


def label_dir_of(img_dir):
    """The label folder of an image folder: the last ``images`` component
    of the path becomes ``labels`` (the YOLO convention)."""
    parts = osp.normpath(img_dir).split(os.sep)
    if 'images' not in parts:
        raise YOLODataError(
            f'{img_dir}: no "images" folder in the path to find the labels '
            'beside; give the label folder (data_prefix label=...)')
    i = len(parts) - 1 - parts[::-1].index('images')
    return os.sep.join(parts[:i] + ['labels'] + parts[i + 1:])


def _files(root, extensions):
    """Paths relative to ``root`` (without extension) -> full paths."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            stem, ext = osp.splitext(name)
            if ext.lower() in extensions:
                rel = osp.relpath(osp.join(folder, stem), root)
                found[rel] = osp.join(folder, name)
    return found


def _image_size(path):
    """(width, height) as decoded (EXIF rotation applied), from the header."""
    with Image.open(path) as img:
        w, h = img.size
        if img.getexif().get(_EXIF_ORIENTATION, 1) in _TRANSPOSED:
            w, h = h, w
    return w, h


def _parse_line(line, num_classes, w, h, tolerance):
    """``(label, [x1, y1, x2, y2])`` in pixels, or a problem message."""
    fields = line.split()
    try:
        values = [float(v) for v in fields]
    except ValueError:
        return f'not numbers: "{line}"'
    if len(values) < 5 or (len(values) > 5 and len(values) % 2 == 0):
        return (f'expected "class cx cy w h" (or "class x1 y1 x2 y2 ..." for '
                f'a polygon), got "{line}"')
    label = values[0]
    if label != int(label) or not 0 <= label < num_classes:
        return (f'unknown class id {fields[0]} (the class list has '
                f'{num_classes}: 0..{num_classes - 1})')
    if len(values) == 5:
        cx, cy, bw, bh = values[1:]
        box = [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w,
               (cy + bh / 2) * h]
    else:  # polygon
        xs, ys = values[1::2], values[2::2]
        box = [min(xs) * w, min(ys) * h, max(xs) * w, max(ys) * h]
    t = tolerance
    if (box[0] < -t or box[1] < -t or box[2] > w + t or box[3] > h + t
            or box[2] <= box[0] or box[3] <= box[1]):
        return (f'box {[round(v, 1) for v in box]} (x1, y1, x2, y2) lies '
                f'outside the {w}x{h} image')
    box = [round(min(max(v, 0.), size), 3)
           for v, size in zip(box, (w, h, w, h))]
    return int(label), box


def _read_labels(path, num_classes, w, h, tolerance, problems):
    """The objects of one label file; each bad line goes to ``problems``."""
    objects = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parsed = _parse_line(line, num_classes, w, h, tolerance)
            if isinstance(parsed, str):
                problems.append(f'{path}:{n}: {parsed}')
            else:
                objects.append(parsed)
    return objects


def scan_yolo_split(img_dir, label_dir, num_classes, on_error='raise',
                    tolerance=1.0):
    """Read one split of a YOLO dataset, checked.

    Returns:
        list[dict]: One per usable image, sorted by path: ``img_path``,
        ``width``, ``height``, ``objects`` (``[(label, [x1, y1, x2, y2])]``
        in pixels, clipped to the image).

    Raises:
        YOLODataError: With ``on_error='raise'``, when anything is wrong
            (the first problems listed, each naming its file).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f'on_error must be one of {ON_ERROR}, got '
                         f'{on_error!r}')
    img_dir, label_dir = osp.normpath(img_dir), osp.normpath(label_dir)
    for what, folder in (('image', img_dir), ('label', label_dir)):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{what} folder {folder} does not exist')
    images = _files(img_dir, IMG_EXTENSIONS)
    labels = _files(label_dir, ('.txt', ))
    problems, samples = [], []
    for rel in sorted(set(labels) - set(images)):
        problems.append(f'{labels[rel]}: label file without an image in '
                        f'{img_dir}')
    for rel in sorted(images):
        path = images[rel]
        if rel not in labels:
            problems.append(f'{path}: image without a label file (expected '
                            f'{osp.join(label_dir, rel)}.txt; an empty file '
                            'means no objects)')
            continue
        try:
            w, h = _image_size(path)
        except Exception as e:  # truncated, not an image
            problems.append(f'{path}: cannot read the image '
                            f'({type(e).__name__}: {e})')
            continue
        objects = _read_labels(labels[rel], num_classes, w, h, tolerance,
                               problems)
        samples.append(dict(img_path=path, width=w, height=h,
                            objects=objects))
    if problems and on_error == 'raise':
        listed = '\n'.join(f'  {p}' for p in problems[:_LISTED])
        more = len(problems) - _LISTED
        raise YOLODataError(
            f'{problems[0]}\n{len(problems)} problem(s) in the YOLO split '
            f'{img_dir}:\n{listed}' + (f'\n  ... and {more} more'
                                       if more > 0 else '') +
            "\nFix them, or leave them out: on_error='skip' "
            '(yolo2coco.py: --on-error skip).')
    for p in problems:
        print_log(f'skipped: {p}', logger='current', level=logging.WARNING)
    return samples


def to_coco(samples, class_names, img_dir):
    """A COCO detection dict of :func:`scan_yolo_split`'s samples (image
    ``file_name`` relative to ``img_dir``; category ids 1..N in class-list
    order)."""
    images, annotations = [], []
    for img_id, s in enumerate(samples, 1):
        images.append(dict(id=img_id, width=s['width'], height=s['height'],
                           file_name=osp.relpath(s['img_path'], img_dir)))
        for label, (x1, y1, x2, y2) in s['objects']:
            w, h = x2 - x1, y2 - y1
            annotations.append(dict(
                id=len(annotations) + 1, image_id=img_id,
                category_id=label + 1, bbox=[x1, y1, w, h], area=w * h,
                iscrowd=0))
    categories = [dict(id=i, name=name)
                  for i, name in enumerate(class_names, 1)]
    return dict(images=images, annotations=annotations,
                categories=categories)


@DATASETS.register_module()
class YOLODataset(BaseDetDataset):
    """A split of a YOLO-layout dataset (see the module docstring).

    The class names are those of ``ann_file`` (``data.yaml``, or a text
    file with one name a line); ``metainfo=dict(classes=...)`` may repeat
    them (they must be the same). Boxes are checked as
    :func:`scan_yolo_split` does. ``filter_cfg`` works as for
    ``CocoDataset`` (``filter_empty_gt``, ``min_size``; not in test mode).

    Args:
        ann_file (str): The class list, relative to ``data_root``.
        data_prefix (dict): ``img``: the split's image folder (relative to
            ``data_root``); ``label``: its label folder (default: the
            image folder with ``images`` -> ``labels``).
        on_error (str): 'raise' (default) refuses a split with any problem;
            'skip' leaves broken images / label lines out, logging each.
        tolerance (float): Pixels a box may stick out of its image (it is
            clipped).
    """
    METAINFO = dict(classes=None)

    def __init__(self, *args, ann_file='data.yaml',
                 data_prefix=dict(img='images/train/'), on_error='raise',
                 tolerance=1.0, metainfo=None, **kwargs):
        class_file = self._class_file(ann_file, kwargs.get('data_root'))
        names = read_class_names(class_file)
        metainfo = dict(metainfo or {})
        given = metainfo.get('classes')
        if isinstance(given, str):
            given = list_from_file(given)
        if given is not None and tuple(given) != names:
            raise YOLODataError(
                f'metainfo.classes ({len(given)}: {tuple(given)}) is not the '
                f'class list of {class_file} ({len(names)}: {names})')
        metainfo['classes'] = names
        self.on_error, self.tolerance = on_error, tolerance
        super().__init__(*args, ann_file=ann_file, data_prefix=data_prefix,
                         metainfo=metainfo, **kwargs)

    @staticmethod
    def _class_file(ann_file, data_root):
        """The class list's path, as mmengine resolves ``ann_file``."""
        if osp.isabs(ann_file) or not data_root:
            return ann_file
        return osp.join(data_root, ann_file)

    @classmethod
    def classes_of(cls, dataset_cfg):
        """The class names of a ``YOLODataset`` config's class list, read
        before the dataset is built (for the start-up checks); None if the
        list is not there or not readable."""
        path = cls._class_file(dataset_cfg.get('ann_file', 'data.yaml'),
                               dataset_cfg.get('data_root'))
        try:
            return read_class_names(path)
        except (FileNotFoundError, YOLODataError):
            return None

    def load_data_list(self):
        img_dir = osp.normpath(self.data_prefix['img'])
        label_dir = self.data_prefix.get('label') or label_dir_of(img_dir)
        samples = scan_yolo_split(img_dir, label_dir,
                                  len(self.metainfo['classes']),
                                  self.on_error, self.tolerance)
        if not samples:
            raise YOLODataError(f'{img_dir}: no usable images (extensions '
                                f'{", ".join(IMG_EXTENSIONS)})')
        return [dict(img_id=i, img_path=s['img_path'], width=s['width'],
                     height=s['height'],
                     instances=[dict(bbox=box, bbox_label=label,
                                     ignore_flag=0)
                                for label, box in s['objects']])
                for i, s in enumerate(samples)]

    def filter_data(self):
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        kept = [d for d in self.data_list
                if (d['instances'] or not empty_gt)
                and min(d['width'], d['height']) >= min_size]
        if not kept:
            raise YOLODataError(
                f'{osp.normpath(self.data_prefix["img"])}: filter_cfg '
                f'{dict(self.filter_cfg)} leaves none of its '
                f'{len(self.data_list)} images')
        return kept
