# Runtime shared by every mmpose_plus config. Plain type names resolve in the
# mmpose_plus scope first and fall back to mmaction2 / mmengine.
default_scope = 'mmpose_plus'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Recipes set save_best to an explicit metric name: 'auto' picks an
    # arbitrary key when a metric reports several (e.g. RGBPose streams).
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

# Forked dataloader workers, each with single-threaded OpenCV (the workers
# already run in parallel).
env_cfg = dict(
    cudnn_benchmark=False, dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
