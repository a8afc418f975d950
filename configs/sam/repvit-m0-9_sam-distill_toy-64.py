# CPU check of the distillation recipe in seconds: RepViT-M0.9 (random init)
# as a 64 px SAM encoder, on a few toy images whose embeddings a small
# 64 px teacher stored (tests/test_sam_distill.py makes both):
#   python tools/sam/dump_teacher.py data/sam_toy/images/train \
#       --checkpoint TINY_TEACHER.pth --out data/sam_toy/embeddings/train
_base_ = ['./_base_/sam_distill_runtime.py']
img_size = 64
data_root = 'data/sam_toy'
model = dict(encoder=dict(img_size=img_size,
                          trunk=dict(type='RepViT', arch='m0_9')))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
max_iters = 4
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2))
env_cfg = dict(cudnn_benchmark=False)
