"""Write a small procedural dataset in a real dataset's folder layout.

    python tools/dataset_converters/make_toy_data.py ade20k
        -> data/ade/ADEChallengeData2016 (mmseg's default ADE20K data_root)
    python tools/dataset_converters/make_toy_data.py ade20k --out data/toy/ade
        -> data/toy/ade/ADEChallengeData2016 (the CPU demo config's data_root)
    python tools/dataset_converters/make_toy_data.py coco --out data/toy/coco
        -> data/toy/coco/{annotations,train2017,val2017} (COCO 2017 layout)
    python tools/dataset_converters/make_toy_data.py imagenet
        -> data/imagenet/{train,val,meta} (mmpretrain's ImageNet layout)
    python tools/dataset_converters/make_toy_data.py yolo --out data/toy/yolo
        -> data/toy/yolo/{data.yaml,images,labels} (YOLO layout, 20 classes)
    python tools/dataset_converters/make_toy_data.py folder-seg \
        --out data/toy/folder_seg
        -> data/toy/folder_seg/{classes.txt,palette.txt,images,masks}
           (a folder of images + PNG masks, 5 classes)
    python tools/dataset_converters/make_toy_data.py voc
        -> data/VOCdevkit/VOC2012 (PASCAL VOC 2012 + the augmented set, as
           mmseg's pascal_voc12_aug.py reads it)

An existing non-empty dataset folder is left as it is unless --overwrite.
"""
import argparse
import os
import os.path as osp
import sys
import time

# Runnable from a checkout without installing the package.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmlightvit.datasets.toy import (ADE20K_TOY_CLASSES,  # noqa: E402
                                     COCO_TOY_CLASSES, make_toy_ade20k,
                                     make_toy_coco)


def _count(folder):
    return len(os.listdir(folder)) if osp.isdir(folder) else 0


def _ade20k(args):
    data_root = osp.join(args.out, 'ADEChallengeData2016')
    existed = osp.isdir(data_root) and bool(os.listdir(data_root))
    start = time.time()
    data_root = make_toy_ade20k(
        args.out, num_train=args.num_train, num_val=args.num_val,
        size=args.size, seed=args.seed, overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{data_root} already exists and is not empty: left unchanged '
              '(pass --overwrite to regenerate it).')
        return
    print(f'Wrote toy ADE20K to {data_root} in {time.time() - start:.1f}s '
          f'(seed {args.seed}, {args.size}x{args.size}):')
    for sub in ('images/training', 'annotations/training',
                'images/validation', 'annotations/validation'):
        print(f'  {osp.join(data_root, sub)}/: {_count(osp.join(data_root, sub))} files')
    classes = ', '.join(f'{v}={name}'
                        for v, (name, _, _) in ADE20K_TOY_CLASSES.items())
    print(f'  label values: 0=other/ignore, {classes} '
          '(read with reduce_zero_label=True)')


def _coco(args):
    parts = [osp.join(args.out, d) for d in ('annotations', 'train2017',
                                             'val2017')]
    existed = any(_count(p) for p in parts)
    start = time.time()
    make_toy_coco(args.out, num_train=args.num_train, num_val=args.num_val,
                  size=args.size, seed=args.seed, overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{args.out} already holds COCO folders: left unchanged '
              '(pass --overwrite to regenerate them).')
        return
    print(f'Wrote toy COCO to {args.out} in {time.time() - start:.1f}s '
          f'(seed {args.seed}, {args.size}x{args.size}):')
    for split in ('train2017', 'val2017'):
        print(f'  {osp.join(args.out, split)}/: '
              f'{_count(osp.join(args.out, split))} images')
    print(f'  {osp.join(args.out, "annotations")}/: '
          'instances_train2017.json, instances_val2017.json')
    classes = ', '.join(f'{cid}={name}'
                        for cid, (name, _, _) in COCO_TOY_CLASSES.items())
    print(f'  objects of the COCO categories {classes} '
          '(all 80 categories listed)')


def _imagenet(args):
    from mmlightvit.datasets.toy import IMAGENET_TOY_CLASSES, make_toy_imagenet
    parts = [osp.join(args.out, d) for d in ('train', 'val', 'meta')]
    existed = any(_count(p) for p in parts)
    start = time.time()
    make_toy_imagenet(args.out, num_classes=args.num_classes,
                      per_class=args.per_class, size=args.size,
                      seed=args.seed, val_per_class=args.val_per_class,
                      overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{args.out} already holds ImageNet folders: left unchanged '
              '(pass --overwrite to regenerate them).')
        return
    print(f'Wrote toy ImageNet to {args.out} in {time.time() - start:.1f}s '
          f'(seed {args.seed}, {args.size}x{args.size}):')
    for split in ('train', 'val'):
        with open(osp.join(args.out, 'meta', f'{split}.txt')) as f:
            num = sum(1 for _ in f)
        print(f'  {osp.join(args.out, split)}/: {num} images, listed in '
              f'{osp.join(args.out, "meta", split + ".txt")}')
    labels = ', '.join(f'{label}={wnid}' for label, wnid in
                       IMAGENET_TOY_CLASSES[:args.num_classes])
    print(f'  ImageNet-1k labels {labels}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    ade = sub.add_parser('ade20k', help='ADE20K layout (ADEChallengeData2016)')
    ade.add_argument('--out', default='data/ade',
                     help='folder that receives ADEChallengeData2016 '
                     '(default: data/ade)')
    ade.add_argument('--num-train', type=int, default=64)
    ade.add_argument('--num-val', type=int, default=16)
    ade.add_argument('--size', type=int, default=128, help='image side')
    ade.add_argument('--seed', type=int, default=0)
    ade.add_argument('--overwrite', action='store_true',
                     help='replace an existing non-empty dataset folder')
    ade.set_defaults(func=_ade20k)
    coco = sub.add_parser('coco', help='COCO 2017 detection layout '
                          '(annotations/instances_*2017.json, train2017/, '
                          'val2017/)')
    coco.add_argument('--out', default='data/coco',
                      help='the dataset folder, a config\'s data_root '
                      '(default: data/coco)')
    coco.add_argument('--num-train', type=int, default=64)
    coco.add_argument('--num-val', type=int, default=32)
    coco.add_argument('--size', type=int, default=128, help='image side')
    coco.add_argument('--seed', type=int, default=0)
    coco.add_argument('--overwrite', action='store_true',
                      help='replace existing annotations/train2017/val2017')
    coco.set_defaults(func=_coco)
    imnet = sub.add_parser('imagenet', help='ImageNet layout (train/<wnid>/, '
                           'val/, meta/{train,val}.txt)')
    imnet.add_argument('--out', default='data/imagenet',
                       help="the dataset folder, a config's data_root "
                       '(default: data/imagenet)')
    imnet.add_argument('--num-classes', type=int, default=10)
    imnet.add_argument('--per-class', type=int, default=16,
                       help='training images per class')
    imnet.add_argument('--val-per-class', type=int, default=None,
                       help='default: per-class // 4')
    imnet.add_argument('--size', type=int, default=64, help='image side')
    imnet.add_argument('--seed', type=int, default=0)
    imnet.add_argument('--overwrite', action='store_true',
                       help='replace existing train/val/meta')
    imnet.set_defaults(func=_imagenet)
    _add_own_data_parsers(sub)
    _add_voc_parser(sub)
    return parser.parse_args(argv)


# -- your own data's layouts: YOLO detection, a segmentation folder ----------
def _own_data(args):
    from mmlightvit.datasets import toy
    make, parts, classes = dict(
        yolo=(toy.make_toy_yolo, ('data.yaml', 'images', 'labels'),
              toy.YOLO_TOY_CLASSES),
        folder_seg=(toy.make_toy_folder_seg,
                    ('classes.txt', 'palette.txt', 'images', 'masks'),
                    toy.FOLDER_SEG_TOY_CLASSES))[args.layout]
    paths = [osp.join(args.out, p) for p in parts]
    existed = any(osp.isfile(p) or _count(p) for p in paths)
    start = time.time()
    make(args.out, num_train=args.num_train, num_val=args.num_val,
         size=args.size, seed=args.seed, overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{args.out} already holds {", ".join(parts)}: left unchanged '
              '(pass --overwrite to regenerate them).')
        return
    print(f'Wrote {args.layout} toy data to {args.out} in '
          f'{time.time() - start:.1f}s (seed {args.seed}, '
          f'{args.size}x{args.size}):')
    for part in paths[:-2]:
        print(f'  {part}')
    for part in paths[-2:]:
        for split in ('train', 'val'):
            print(f'  {osp.join(part, split)}/: '
                  f'{_count(osp.join(part, split))} files')
    print(f'  {len(classes)} classes: ' + ', '.join(
        f'{value}={name}' for value, (name, _, _) in classes.items()))


def _add_own_data_parsers(sub):
    for layout, name, default, nums, size, text in (
            ('yolo', 'yolo', 'data/toy/yolo', (96, 24), 128,
             'YOLO detection layout (data.yaml, images/{train,val}, '
             'labels/{train,val}/*.txt), 20 classes'),
            ('folder_seg', 'folder-seg', 'data/toy/folder_seg', (64, 16),
             128,
             'segmentation folder (classes.txt, palette.txt, '
             'images/{train,val}, masks/{train,val}/*.png), 5 classes')):
        p = sub.add_parser(name, help=text)
        p.add_argument('--out', default=default,
                       help=f"the dataset folder, a config's data_root "
                       f'(default: {default})')
        p.add_argument('--num-train', type=int, default=nums[0])
        p.add_argument('--num-val', type=int, default=nums[1])
        p.add_argument('--size', type=int, default=size, help='image side')
        p.add_argument('--seed', type=int, default=0)
        p.add_argument('--overwrite', action='store_true',
                       help='replace what the set writes in --out')
        p.set_defaults(func=_own_data, layout=layout)


# -- PASCAL VOC 2012 (+ the SBD-augmented set) ------------------------------
def _voc(args):
    from mmlightvit.datasets.toy import VOC_TOY_CLASSES, make_toy_voc
    data_root = osp.join(args.out, 'VOCdevkit', 'VOC2012')
    existed = bool(_count(data_root))
    start = time.time()
    make_toy_voc(args.out, num_train=args.num_train, num_aug=args.num_aug,
                 num_val=args.num_val, size=args.size, seed=args.seed,
                 overwrite=args.overwrite)
    if existed and not args.overwrite:
        print(f'{data_root} already exists and is not empty: left unchanged '
              '(pass --overwrite to regenerate it).')
        return
    print(f'Wrote toy PASCAL VOC 2012 to {data_root} in '
          f'{time.time() - start:.1f}s (seed {args.seed}, '
          f'{args.size}x{args.size}):')
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug'):
        print(f'  {osp.join(data_root, sub)}/: '
              f'{_count(osp.join(data_root, sub))} files')
    print(f'  {osp.join(data_root, "ImageSets", "Segmentation")}/: '
          'train.txt, aug.txt, val.txt, trainval.txt')
    classes = ', '.join(f'{v}={name}'
                        for v, (name, _, _) in VOC_TOY_CLASSES.items())
    print(f'  labels {classes}, 255=void (object borders)')


def _add_voc_parser(sub):
    voc = sub.add_parser('voc', help='PASCAL VOC 2012 layout with the '
                         'augmented set (VOCdevkit/VOC2012/{JPEGImages,'
                         'SegmentationClass,SegmentationClassAug,ImageSets})')
    voc.add_argument('--out', default='data',
                     help='folder that receives VOCdevkit/VOC2012 '
                     '(default: data)')
    voc.add_argument('--num-train', type=int, default=32)
    voc.add_argument('--num-aug', type=int, default=32,
                     help='images of the augmented set (aug.txt)')
    voc.add_argument('--num-val', type=int, default=16)
    voc.add_argument('--size', type=int, default=128, help='image side')
    voc.add_argument('--seed', type=int, default=0)
    voc.add_argument('--overwrite', action='store_true',
                     help='replace an existing non-empty VOC2012 folder')
    voc.set_defaults(func=_voc)


def main(argv=None):
    args = parse_args(argv)
    args.func(args)


if __name__ == '__main__':
    main()
