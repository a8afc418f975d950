# Runtime of the ImageNet classification configs (mmpretrain 1.x style):
# mmpretrain's registries, per-epoch checkpoints, top-1/top-5 validation.
default_scope = 'mmpretrain'
# Registers mmlightvit's backbones (in mmengine's root MODELS, found from the
# mmpretrain scope) and classification heads (in mmpretrain's MODELS).
custom_imports = dict(imports=['mmlightvit'], allow_failed_imports=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
# Saves the RNG states in checkpoints. Leaf configs that add hooks (the
# recipes' EMAHook) repeat it: a list is replaced, not merged.
custom_hooks = [dict(type='RandomStateHook')]
