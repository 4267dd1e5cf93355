# A small RGBPoseConv3D on the built-in tiny stick-figure dataset: the NTU
# recipe's architecture and pipeline with one block per stage, 1/4 of the
# width, RGB 4 x 64 x 64 and pose heatmaps 16 x 16 x 16. A smoke / demo run
# of a few minutes on 2 CPU cores, not a benchmark:
#   python tools/data/generate_tiny_dataset.py      # -> data/tiny_ntu
#   python tools/train.py configs/tiny/rgbposeconv3d_tiny_tinyntu.py
_base_ = [
    '../_base_/models/rgbposeconv3d.py', '../_base_/datasets/tiny_ntu.py',
    '../_base_/schedules/sgd_cosine_tiny_6e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        rgb_pathway=dict(stage_blocks=(1, 1, 1, 1), base_channels=16),
        pose_pathway=dict(stage_blocks=(1, 1, 1), base_channels=8)),
    cls_head=dict(num_classes=5, in_channels=[512, 128], dropout=0.2))

# The NTU RGB+Pose pipeline with half the frames, 64x64 RGB (72x72 before
# the random crop) and 16x16 heatmaps.
clip_len = dict(RGB=4, Pose=16)
compact = dict(type='MMCompact', hw_ratio=1., allow_imgpad=True)
pose_target = dict(type='GeneratePoseTarget', sigma=0.7, use_score=True,
                   with_kp=True, with_limb=False, scaling=0.25)
pack = dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(72, 72), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=_base_.left_kp,
         right_kp=_base_.right_kp),
    pose_target, dict(type='FormatShape', input_format='NCTHW'), pack]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    pose_target, dict(type='FormatShape', input_format='NCTHW'), pack]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='acc/RGBPose_1:1_top1', rule='greater',
                    max_keep_ckpts=1))
