# MobileViT-SAM: MobileViT-S at output stride 16 + SAM's neck, distilled from
# SAM ViT-H, starting from the ImageNet MobileViT-S (apple/ml-cvnets).
_base_ = ['./_base_/sam_distill_runtime.py']
_weights = ('https://docs-assets.developer.apple.com/ml-research/models/'
            'cvnets/classification/mobilevit_s.pt')
model = dict(encoder=dict(trunk=dict(
    type='MobileViTBackbone', arch='s',
    init_cfg=dict(type='Pretrained', checkpoint=_weights))))
