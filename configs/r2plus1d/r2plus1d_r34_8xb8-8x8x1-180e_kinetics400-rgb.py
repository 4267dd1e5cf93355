# R(2+1)D-34 on Kinetics-400 from scratch: 8 frames sampled every 8th frame
# (8x8x1), 224x224 crops, 8 GPUs x 8 clips, 180 epochs.
# Published top-1: 69.8 (53 GFLOPs, 63.8M params).
_base_ = [
    '../_base_/models/r2plus1d_r34.py',
    '../_base_/datasets/kinetics400_8x8x1_video.py',
    '../_base_/schedules/sgd_cosine_180e.py', '../_base_/default_runtime.py'
]

default_hooks = dict(
    checkpoint=dict(max_keep_ckpts=3, save_best='acc/top1', rule='greater'))

# 8 GPUs x 8 clips.
auto_scale_lr = dict(enable=False, base_batch_size=64)
