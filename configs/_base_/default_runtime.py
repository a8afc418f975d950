# Runtime shared by every config (mmseg 1.x style). The default_hooks (logger
# every 50 iters, checkpoints, ...) live in the schedule files, as in mmseg:
# mmengine does not allow the same top-level key in two _base_ files.
default_scope = 'mmseg'
# Registers mmlightvit's backbones (EMO, ...) in mmengine's root MODELS.
custom_imports = dict(imports=['mmlightvit'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

tta_model = dict(type='SegTTAModel')
# RandomStateHook saves the RNG states in checkpoints so that --resume
# continues exactly; FusedSegLossHook computes the plain cross-entropy of the
# decode heads without the full-resolution logits (the same loss, faster).
custom_hooks = [dict(type='RandomStateHook'), dict(type='FusedSegLossHook')]
