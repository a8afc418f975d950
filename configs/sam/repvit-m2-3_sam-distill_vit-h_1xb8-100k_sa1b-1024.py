# RepViT-SAM (the published architecture: RepViT-M2.3 at output stride 16 +
# SAM's neck) distilled from SAM ViT-H, starting from the ImageNet RepViT-M2.3
# (THU-MIG/RepViT release v1.0, 450 epochs, distilled).
_base_ = ['./_base_/sam_distill_runtime.py']
_weights = ('https://github.com/THU-MIG/RepViT/releases/download/v1.0/'
            'repvit_m2_3_distill_450e.pth')
model = dict(encoder=dict(trunk=dict(
    type='RepViT', arch='m2_3',
    init_cfg=dict(type='Pretrained', checkpoint=_weights))))
