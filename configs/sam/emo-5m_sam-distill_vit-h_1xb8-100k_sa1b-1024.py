# EMO-SAM: EMO-5M at output stride 16 (attention window 16) + SAM's neck,
# distilled from SAM ViT-H, starting from the ImageNet EMO-5M
# (zhangzjn/EMO resources/EMO_5M/net.pth).
_base_ = ['./_base_/sam_distill_runtime.py']
_weights = 'https://github.com/zhangzjn/EMO/raw/main/resources/EMO_5M/net.pth'
model = dict(encoder=dict(trunk=dict(
    type='EMO', arch='5M', window_size=16,
    init_cfg=dict(type='Pretrained', checkpoint=_weights))))
