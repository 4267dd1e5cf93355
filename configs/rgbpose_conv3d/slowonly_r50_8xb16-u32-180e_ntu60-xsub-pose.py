# Pose-only pre-training for RGBPoseConv3D: the PoseC3D SlowOnly-R50 on 32
# frames of 56x56 keypoint heatmaps, without temporal downsampling (the pose
# pathway inside RGBPoseConv3D keeps all 32 frames).
# 8 GPUs x 16 clips, 18 epochs x RepeatDataset(10) ("180e").
_base_ = [
    '../_base_/models/slowonly_r50_pose.py',
    '../_base_/datasets/ntu60_xsub_keypoint.py',
    '../_base_/schedules/sgd_cosine_18e.py', '../_base_/default_runtime.py'
]

model = dict(backbone=dict(temporal_strides=(1, 1, 1)))

# The PoseC3D keypoint data with 32 frames and the people crop resized
# straight to 64x64 (no centre crop for val/test, no flipped test views).
# GeneratePoseTarget's defaults are PoseC3D's sigma 0.6 and score weighting.
resize = dict(type='Resize', scale=(64, 64), keep_ratio=False)
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=32),
    dict(type='PoseDecode'), _base_.compact, resize,
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False), _base_.flip,
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    _base_.format_shape, dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=32, num_clips=1, test_mode=True),
    dict(type='PoseDecode'), _base_.compact, resize,
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    _base_.format_shape, dict(type='PackActionInputs')]
test_pipeline = [dict(val_pipeline[0], num_clips=10), *val_pipeline[1:]]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

default_hooks = dict(checkpoint=dict(save_best='acc/top1', rule='greater'))

# 8 GPUs x 16 clips.
auto_scale_lr = dict(enable=False, base_batch_size=128)
