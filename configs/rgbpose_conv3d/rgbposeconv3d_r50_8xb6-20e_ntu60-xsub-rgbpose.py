# RGBPoseConv3D on NTU RGB+D 60, cross-subject: RGB (8 frames, 224x224) +
# pose heatmaps (32 frames, 56x56), 8 GPUs x 6 clips, 20 epochs, fine-tuned
# from the merged RGB-only and pose-only pre-trained models (see load_from).
# Published top-1 (1 clip / 10 clips): RGB 96.2/96.4, pose 96.0/96.2,
# fused 1:1 96.6/96.8.
_base_ = [
    '../_base_/models/rgbposeconv3d.py',
    '../_base_/schedules/sgd_multistep_20e.py',
    '../_base_/default_runtime.py'
]

dataset_type = 'PoseDataset'
data_root = 'data/nturgbd_videos/'
ann_file = 'data/skeleton/ntu60_2d.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
# Heatmaps at 1/4 of the RGB resolution, scored by keypoint confidence.
pose_target = dict(
    type='GeneratePoseTarget',
    sigma=0.7,
    use_score=True,
    with_kp=True,
    with_limb=False,
    scaling=0.25)
train_pipeline = [
    dict(
        type='MMUniformSampleFrames',
        clip_len=dict(RGB=8, Pose=32),
        num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    pose_target,
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))
]
val_pipeline = [
    dict(
        type='MMUniformSampleFrames',
        clip_len=dict(RGB=8, Pose=32),
        num_clips=1,
        test_mode=True),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    pose_target,
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))
]
test_pipeline = [
    dict(
        type='MMUniformSampleFrames',
        clip_len=dict(RGB=8, Pose=32),
        num_clips=10,
        test_mode=True),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    pose_target,
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))
]

train_dataloader = dict(
    batch_size=6,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        split='xsub_train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        split='xsub_val',
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        split='xsub_val',
        pipeline=test_pipeline,
        test_mode=True))

# Reports acc/{rgb,pose}_{top1,top5,mean1} and the fused
# acc/RGBPose_{1:1,2:1,1:2}_{top1,top5,mean1}.
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(save_best='acc/RGBPose_1:1_top1', rule='greater'))

# The recipe fine-tunes from the RGB-only and pose-only models merged into
# one state dict (backbone.* -> backbone.{rgb,pose}_path.*, fc_cls ->
# fc_{rgb,pose}, widened lateral inputs zero-padded). Published file:
# https://download.openmmlab.com/mmaction/v1.0/skeleton/posec3d/rgbpose_conv3d/rgbpose_conv3d_init_20230228-09b7684b.pth  # noqa: E501
# Checkpoints are not downloaded at run time: place it here, or override
# with --cfg-options load_from=PATH (load_from=None trains from scratch).
load_from = 'checkpoints/rgbpose_conv3d_init_20230228-09b7684b.pth'

# 8 GPUs x 6 clips; --auto-scale-lr rescales lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=48)
