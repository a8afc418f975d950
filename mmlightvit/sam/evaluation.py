"""How close a student SAM's masks are to its teacher's.

For each image, the teacher's automatic masks (``SamAutomaticMaskGenerator``)
give the prompts: for each of (up to) ``max_masks`` of them, drawn at random,
one point drawn at random inside the mask and the mask's bounding box. Teacher
and student both predict one mask per prompt (``multimask_output=False``),
and the IoU of the student's mask with the teacher's is averaged over all
prompts of a kind (point mIoU, box mIoU). Two empty masks count as IoU 1.
"""
import numpy as np
import torch
from segment_anything import SamAutomaticMaskGenerator, SamPredictor


def mask_iou(a, b):
    """IoU of two boolean masks of the same shape (1.0 when both are
    empty)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def sample_prompts(masks, max_masks, rng):
    """``(points Kx2, boxes Kx4)`` in image pixels (x, y; x1, y1, x2, y2)
    from up to ``max_masks`` of the mask generator's records, drawn with
    ``rng``."""
    chosen = rng.permutation(len(masks))[:max_masks]
    points, boxes = [], []
    for i in sorted(chosen):
        ys, xs = np.nonzero(masks[i]['segmentation'])
        j = rng.integers(len(xs))
        points.append((xs[j], ys[j]))
        x, y, w, h = masks[i]['bbox']
        boxes.append((x, y, x + w, y + h))
    return (np.array(points, np.float32).reshape(-1, 2),
            np.array(boxes, np.float32).reshape(-1, 4))


@torch.inference_mode()
def predict_masks(predictor, points=None, boxes=None, chunk=16):
    """One mask per prompt (``K x H x W`` bool) of a predictor whose image is
    set: single positive ``points`` (Kx2) or ``boxes`` (Kx4), image
    pixels."""
    prompts = points if points is not None else boxes
    size = predictor.original_size
    tensor = dict(dtype=torch.float, device=predictor.device)
    out = []
    for i in range(0, len(prompts), chunk):
        part = prompts[i:i + chunk]
        if points is not None:
            coords = predictor.transform.apply_coords(part[:, None], size)
            kwargs = dict(
                point_coords=torch.as_tensor(coords, **tensor),
                point_labels=torch.ones(len(part), 1, **tensor))
        else:
            kwargs = dict(point_coords=None, point_labels=None, boxes=(
                torch.as_tensor(predictor.transform.apply_boxes(part, size),
                                **tensor)))
        masks = predictor.predict_torch(multimask_output=False, **kwargs)[0]
        out.append(masks[:, 0].cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, *size), bool)


class MaskAgreement:
    """Accumulates the point and box IoUs of student vs teacher, image by
    image.

    Args:
        teacher, student (Sam): Both in eval mode on the same device.
        max_masks (int): Teacher masks (prompts of each kind) per image.
        seed (int): Seed of the prompt sampling (image ``i`` draws from
            ``default_rng([seed, i])``).
        **amg_kwargs: ``SamAutomaticMaskGenerator`` options for the
            teacher's masks (``points_per_side``, ``pred_iou_thresh``, ...).
    """

    def __init__(self, teacher, student, max_masks=16, seed=0, **amg_kwargs):
        self.generator = SamAutomaticMaskGenerator(teacher, **amg_kwargs)
        self.teacher = SamPredictor(teacher)
        self.student = SamPredictor(student)
        self.max_masks = max_masks
        self.seed = seed
        self.ious = dict(point=[], box=[])
        self.num_images = 0
        self.images_without_masks = 0

    def add(self, image):
        """Add one ``HxWx3`` uint8 RGB image; returns its number of
        prompts of each kind."""
        rng = np.random.default_rng([self.seed, self.num_images])
        self.num_images += 1
        masks = self.generator.generate(image)
        if not masks:
            self.images_without_masks += 1
            return 0
        points, boxes = sample_prompts(masks, self.max_masks, rng)
        self.teacher.set_image(image)
        self.student.set_image(image)
        for kind, prompts in (('point', dict(points=points)),
                              ('box', dict(boxes=boxes))):
            ref = predict_masks(self.teacher, **prompts)
            pred = predict_masks(self.student, **prompts)
            self.ious[kind] += [mask_iou(a, b) for a, b in zip(pred, ref)]
        return len(points)

    def summary(self):
        """``dict(point_mIoU, box_mIoU, prompts, images,
        images_without_masks)``; mIoUs are None without prompts."""
        result = {f'{k}_mIoU': float(np.mean(v)) if v else None
                  for k, v in self.ious.items()}
        return dict(result, prompts=len(self.ious['point']),
                    images=self.num_images,
                    images_without_masks=self.images_without_masks)
