# PoseC3D (SlowOnly-R50) on NTU RGB+D 60 cross-subject, joint heatmaps:
# 48 uniformly sampled frames, 56x56 heatmaps (sigma 0.6), 8 GPUs x 16 clips,
# 24 epochs x RepeatDataset(10) ("240e"). Test: 10 clips, flip-doubled.
# Published top-1: 93.6 (mmaction2) / 93.7 (PYSKL).
_base_ = [
    '../_base_/models/slowonly_r50_pose.py',
    '../_base_/datasets/ntu60_xsub_keypoint.py',
    '../_base_/schedules/sgd_cosine_24e.py', '../_base_/default_runtime.py'
]

default_hooks = dict(checkpoint=dict(save_best='acc/top1', rule='greater'))

# 8 GPUs x 16 clips.
auto_scale_lr = dict(enable=False, base_batch_size=128)
