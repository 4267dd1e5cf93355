# A small PoseC3D (SlowOnly on keypoint heatmaps) on the built-in tiny
# stick-figure dataset: one block per stage, half the width, 16 frames of
# 16x16 heatmaps (coarse heatmaps learn faster here than 32x32 ones: 97.5%
# vs 65% top-1 after 6 epochs). A minute or two on 2 CPU cores:
#   python tools/data/generate_tiny_dataset.py      # -> data/tiny_ntu
#   python tools/train.py configs/tiny/slowonly_tiny_tinyntu-keypoint.py
_base_ = [
    '../_base_/models/slowonly_r50_pose.py', '../_base_/datasets/tiny_ntu.py',
    '../_base_/schedules/sgd_cosine_tiny_6e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(stage_blocks=(1, 1, 1), base_channels=16),
    cls_head=dict(num_classes=5, in_channels=256, dropout_ratio=0.2))

# Shaped like the pose pre-training pipeline (square resize, random resized
# crop, no centre crop) with 16 frames of 16x16 heatmaps; PoseC3D's heatmap
# settings spelled out.
compact = dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True)
pose_target = dict(type='GeneratePoseTarget', sigma=0.6, use_score=True,
                   with_kp=True, with_limb=False)
format_shape = dict(type='FormatShape', input_format='NCTHW_Heatmap')
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=16),
    dict(type='PoseDecode'), compact,
    dict(type='Resize', scale=(18, 18), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=_base_.left_kp,
         right_kp=_base_.right_kp),
    pose_target, format_shape, dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=16, num_clips=1, test_mode=True),
    dict(type='PoseDecode'), compact,
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    pose_target, format_shape, dict(type='PackActionInputs')]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(weight_decay=3e-4))
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='acc/top1', rule='greater', max_keep_ckpts=1))
