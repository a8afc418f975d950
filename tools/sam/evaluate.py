"""mIoU of a distilled student SAM's masks against its teacher's, for point
and box prompts sampled from the teacher's own masks, on held-out images.

    python tools/sam/evaluate.py --teacher sam_vit_h_4b8939.pth
        --images HELDOUT_DIR (--config CONFIG --checkpoint STUDENT.pth |
        --sam WHOLE_SAM.pth) [--max-masks 16] [--points-per-side 16]
        [--pred-iou-thresh 0.88] [--stability-score-thresh 0.95]
        [--seed 0] [--limit N] [--device cpu|cuda] [--out result.json]
        [--save-sam STUDENT_SAM.pth]

The student is either a distillation run (``--config`` of
``configs/sam/`` + a checkpoint of ``tools/train.py``: its image encoder,
with the teacher's prompt encoder and mask decoder, as MobileSAM's decoupled
distillation uses them) or any whole SAM of this project (``--sam``, e.g.
the published ``repvit_sam.pt``).

Per image: the teacher's automatic masks (``SamAutomaticMaskGenerator`` with
the given options); up to ``--max-masks`` of them drawn at random; for each,
a point drawn inside it and its bounding box as prompts; both models predict
one mask per prompt; IoU of student vs teacher, averaged over all prompts of
each kind. ``--save-sam`` writes the student as a whole SAM (for
``segment.py`` / ``export_onnx.py``).
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from mmengine.config import Config  # noqa: E402

from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.models.checkpoint import select_prefix  # noqa: E402
from mmlightvit.sam.build import (load_sam, load_state_dict_exactly,  # noqa
                                  read_state_dict, sam_from_config, save_sam)
from mmlightvit.sam.data import list_images, read_rgb  # noqa: E402
from mmlightvit.sam.evaluation import MaskAgreement  # noqa: E402
from mmlightvit.sam.teacher import build_teacher  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--teacher', required=True, help='teacher checkpoint')
    parser.add_argument('--images', required=True, help='held-out images')
    parser.add_argument('--config', help='distillation config')
    parser.add_argument('--checkpoint', help='its training checkpoint')
    parser.add_argument('--sam', help='or: a whole-SAM student checkpoint')
    parser.add_argument('--max-masks', type=int, default=16)
    parser.add_argument('--points-per-side', type=int, default=16)
    parser.add_argument('--pred-iou-thresh', type=float, default=0.88)
    parser.add_argument('--stability-score-thresh', type=float, default=0.95)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--limit', type=int, help='first N images only')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the result as JSON')
    parser.add_argument('--save-sam', help='save the student as a whole SAM')
    args = parser.parse_args(argv)
    if bool(args.sam) == bool(args.config or args.checkpoint) or \
            bool(args.config) != bool(args.checkpoint):
        parser.error('give either --config and --checkpoint (a distillation '
                     'run) or --sam (a whole SAM)')
    return args


def _without_init_cfg(cfg):
    """A model config without its (pretrained) ``init_cfg`` entries: the
    weights come from the checkpoint."""
    if isinstance(cfg, dict):
        return {k: _without_init_cfg(v) for k, v in cfg.items()
                if k != 'init_cfg'}
    return cfg


def distilled_student(config, checkpoint, teacher):
    """Student encoder of a distillation run + the teacher's prompt encoder
    and mask decoder, as one SAM."""
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config} does not exist')
    import mmlightvit.sam  # noqa: F401  (registers the SAM modules)
    encoder_cfg = _without_init_cfg(
        Config.fromfile(config).model.encoder.to_dict())
    student = sam_from_config(encoder_cfg)
    state_dict, _ = read_state_dict(checkpoint)
    load_state_dict_exactly(student.image_encoder,
                            select_prefix(state_dict, 'encoder.'),
                            checkpoint)
    for part in ('prompt_encoder', 'mask_decoder'):
        getattr(student, part).load_state_dict(
            getattr(teacher, part).state_dict())
    return student


def main(argv=None):
    args = parse_args(argv)
    names = list_images(args.images)[:args.limit]
    teacher, info = build_teacher(args.teacher)
    if args.sam:
        student = load_sam(args.sam)
    else:
        student = distilled_student(args.config, args.checkpoint, teacher)
    sizes = (teacher.image_encoder.img_size, student.image_encoder.img_size)
    if sizes[0] != sizes[1]:
        sys.exit(f'error: the teacher takes {sizes[0]} px inputs, the '
                 f'student {sizes[1]} px: they must be the same')
    if args.save_sam:
        save_sam(student, args.save_sam)
        print(f'saved the student SAM to {args.save_sam}')
    agreement = MaskAgreement(
        teacher.to(args.device), student.to(args.device),
        max_masks=args.max_masks, seed=args.seed,
        points_per_side=args.points_per_side,
        pred_iou_thresh=args.pred_iou_thresh,
        stability_score_thresh=args.stability_score_thresh)
    for i, name in enumerate(names):
        try:
            image = read_rgb(osp.join(args.images, name))
        except ValueError as e:
            sys.exit(f'error: {e}')
        count = agreement.add(image)
        print(f'[{i + 1}/{len(names)}] {name}: {count} teacher masks '
              'prompted', flush=True)
    result = dict(agreement.summary(), teacher=info['type'],
                  images_dir=args.images)
    if result['prompts'] == 0:
        sys.exit('error: the teacher produced no mask on any image: lower '
                 '--pred-iou-thresh / --stability-score-thresh')
    print(f'student vs teacher ({info["type"]}) on {result["images"]} images'
          f', {result["prompts"]} prompts of each kind: point mIoU '
          f'{result["point_mIoU"]:.4f}, box mIoU {result["box_mIoU"]:.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    run_cli(main)
