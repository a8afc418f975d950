"""Convert a YOLO-layout detection dataset to COCO annotation files, once.

    python tools/dataset_converters/yolo2coco.py DATA_ROOT
        [--classes data.yaml] [--splits train val] [--out-dir DIR]
        [--on-error raise|skip] [--tolerance PIXELS] [--overwrite]

DATA_ROOT holds ``data.yaml`` (``names``; a text file with one name a line
works too, ``--classes``), ``images/<split>/`` and ``labels/<split>/``
(``class cx cy w h`` normalised, one object a line; an empty file = no
objects). A split folder named in ``data.yaml`` (``train: images/train``,
relative to the file's folder, or to its ``path``) is used instead of
``images/<split>``.

Before anything is written every split is checked, each problem named by
file: images without a label file, label files without an image,
unreadable images, malformed lines, unknown class ids, boxes outside their
image. ``--on-error raise`` (default) refuses the whole conversion with the
list; ``--on-error skip`` leaves out what is broken (the image or the one
label line), printing each. Boxes out by less than ``--tolerance`` pixels
are clipped to the image.

Writes ``<out-dir>/instances_<split>.json`` (default out-dir:
``DATA_ROOT/annotations``; existing files are kept unless ``--overwrite``):
COCO images (``file_name`` relative to the split's image folder),
annotations and categories (ids 1..N in class-list order). Read them with
mmdet's ``CocoDataset`` (the lines to put in a config are printed).
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmlightvit.apis.cli import run_cli
from mmlightvit.datasets.yolo import (label_dir_of, read_class_names,
                                      scan_yolo_split, to_coco)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a YOLO-layout dataset to COCO json files')
    parser.add_argument('data_root', help='the dataset folder')
    parser.add_argument('--classes', default='data.yaml',
                        help='class list in DATA_ROOT: data.yaml (names) or '
                        'a text file with one name a line (default: '
                        'data.yaml)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--out-dir', help='where the json files go '
                        '(default: DATA_ROOT/annotations)')
    parser.add_argument('--on-error', choices=['raise', 'skip'],
                        default='raise', help='refuse the conversion when '
                        'anything is wrong (default), or skip the broken '
                        'images / label lines')
    parser.add_argument('--tolerance', type=float, default=1.0,
                        help='pixels a box may stick out of its image (it '
                        'is clipped; default 1)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing json files')
    return parser.parse_args(argv)


def split_image_dir(data_root, class_file, split):
    """The image folder of ``split``: data.yaml's entry for it when it names
    a folder, else ``DATA_ROOT/images/<split>``."""
    entry = None
    if osp.splitext(class_file)[1].lower() in ('.yaml', '.yml'):
        import yaml
        with open(class_file) as f:
            data = yaml.safe_load(f) or {}
        base = osp.join(osp.dirname(class_file), str(data.get('path') or ''))
        entry = data.get(split)
        if isinstance(entry, str):
            entry = osp.normpath(osp.join(base, entry))
    return entry if entry and osp.isdir(entry) else osp.join(
        data_root, 'images', split)


def main(argv=None):
    args = parse_args(argv)
    class_file = osp.join(args.data_root, args.classes)
    names = read_class_names(class_file)
    out_dir = args.out_dir or osp.join(args.data_root, 'annotations')
    outs = {s: osp.join(out_dir, f'instances_{s}.json') for s in args.splits}
    existing = [p for p in outs.values() if osp.exists(p)]
    if existing and not args.overwrite:
        sys.exit(f'error: {existing[0]} exists: left as it is (pass '
                 '--overwrite to replace it)')
    converted = {}
    for split in args.splits:  # check every split before writing anything
        img_dir = split_image_dir(args.data_root, class_file, split)
        samples = scan_yolo_split(img_dir, label_dir_of(img_dir), len(names),
                                  args.on_error, args.tolerance)
        converted[split] = (img_dir, to_coco(samples, names, img_dir))
    os.makedirs(out_dir, exist_ok=True)
    print(f'{len(names)} classes from {class_file}')
    for split, (img_dir, coco) in converted.items():
        with open(outs[split], 'w') as f:
            json.dump(coco, f)
        print(f'{split}: {len(coco["images"])} images, '
              f'{len(coco["annotations"])} objects -> {outs[split]}')
    root = osp.normpath(args.data_root)
    print('\nIn a config (mmdet CocoDataset), per split:\n'
          f"  dataset=dict(type='CocoDataset', data_root='{root}/',\n"
          f"      ann_file='{osp.relpath(outs[args.splits[0]], root)}',\n"
          f"      data_prefix=dict(img='"
          f"{osp.relpath(converted[args.splits[0]][0], root)}/'),\n"
          f'      metainfo=dict(classes={names!r}))\n'
          f'  and num_classes={len(names)} in the heads.')


if __name__ == '__main__':
    run_cli(main)
