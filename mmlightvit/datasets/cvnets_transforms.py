"""Training augmentations of ml-cvnets (apple/ml-cvnets data/transforms/
image_pil.py) that mmseg has in another form: MobileViT's PASCAL VOC recipe
(``random_gaussian_noise``, ``photo_metric_distort``) draws them.

They work on the BGR ``results['img']`` of mmseg pipelines through PIL and
torchvision's functional ops, as ml-cvnets does, and leave the segmentation
map alone.
"""
import numpy as np
import torchvision.transforms.functional as TF
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS
from PIL import Image, ImageFilter

__all__ = ['CvnetsGaussianBlur', 'CvnetsPhotometricDistort']


def _to_pil(img):
    return Image.fromarray(np.ascontiguousarray(img[..., ::-1]))


def _from_pil(img):
    return np.ascontiguousarray(np.asarray(img)[..., ::-1])


@TRANSFORMS.register_module()
class CvnetsGaussianBlur(BaseTransform):
    """ml-cvnets' ``RandomGaussianBlur`` (enabled by its config key
    ``random_gaussian_noise``): with probability ``prob``, PIL's Gaussian
    blur with a radius (standard deviation) drawn from U(0, 1)."""

    def __init__(self, prob=0.5):
        self.prob = prob

    def transform(self, results):
        if np.random.rand() < self.prob:
            blur = ImageFilter.GaussianBlur(radius=np.random.rand())
            results['img'] = _from_pil(_to_pil(results['img']).filter(blur))
        return results


@TRANSFORMS.register_module()
class CvnetsPhotometricDistort(BaseTransform):
    """ml-cvnets' ``PhotometricDistort`` (PIL): each with probability
    ``prob``, in this order: brightness x U(0.875, 1.125); contrast x U(0.5,
    1.5) (before or after the next two, at random); saturation x U(0.5,
    1.5); hue shift U(-0.05, 0.05) of a turn; a random permutation of the
    channels. (mmseg's ``PhotoMetricDistortion`` adds +-32 to the
    brightness, shifts the hue by up to 18 degrees and never permutes.)"""

    def __init__(self, prob=0.5, brightness=(0.875, 1.125),
                 contrast=(0.5, 1.5), saturation=(0.5, 1.5),
                 hue=(-0.05, 0.05)):
        self.prob = prob
        self.brightness, self.contrast = brightness, contrast
        self.saturation, self.hue = saturation, hue

    def transform(self, results):
        r = np.random.rand(7)
        img = _to_pil(results['img'])

        def contrast(img):
            return TF.adjust_contrast(img, np.random.uniform(*self.contrast))

        if r[0] < self.prob:
            img = TF.adjust_brightness(img,
                                       np.random.uniform(*self.brightness))
        contrast_first = r[1] < self.prob
        if contrast_first and r[2] < self.prob:
            img = contrast(img)
        if r[3] < self.prob:
            img = TF.adjust_saturation(img,
                                       np.random.uniform(*self.saturation))
        if r[4] < self.prob:
            img = TF.adjust_hue(img, np.random.uniform(*self.hue))
        if not contrast_first and r[5] < self.prob:
            img = contrast(img)
        img = np.asarray(img)
        if r[6] < self.prob:
            img = img[..., np.random.permutation(3)]
        results['img'] = np.ascontiguousarray(img[..., ::-1])
        return results
