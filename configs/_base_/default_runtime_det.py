# Runtime shared by the detection configs (mmdet 3.x style; the segmentation
# configs use default_runtime.py). As there, the default_hooks (logger,
# checkpoints, ...) live in the schedule files: mmengine does not allow the
# same top-level key in two _base_ files.
default_scope = 'mmdet'
# Registers mmlightvit's backbones (EMO, RepViT, ...) in mmengine's root
# MODELS, where mmdet finds them, and SSDLite's head (SSDLiteHead) in mmdet's.
custom_imports = dict(imports=['mmlightvit', 'mmlightvit.models.ssdlite_head'],
                      allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False

# Saves the RNG states in checkpoints so that --resume restores them.
custom_hooks = [dict(type='RandomStateHook')]
