# PoseC3D (SlowOnly-R50) on NTU RGB+D 60 cross-subject, limb heatmaps: the
# keypoint recipe with one heatmap channel per COCO bone pair instead of per
# joint (17 limbs, so the backbone input stays 17 channels).
# Published top-1: 93.4; joint + limb late fusion 94.1.
_base_ = [
    '../_base_/models/slowonly_r50_pose.py',
    '../_base_/datasets/ntu60_xsub_limb.py',
    '../_base_/schedules/sgd_cosine_24e.py', '../_base_/default_runtime.py'
]

default_hooks = dict(checkpoint=dict(save_best='acc/top1', rule='greater'))

# 8 GPUs x 16 clips.
auto_scale_lr = dict(enable=False, base_batch_size=128)
