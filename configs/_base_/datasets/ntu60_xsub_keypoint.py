# NTU RGB+D 60 cross-subject, 2D skeletons (PYSKL's ntu60_2d.pkl, COCO-17
# keypoints) rendered as one heatmap per keypoint: the PoseC3D data recipe.
#   train: 48 uniformly sampled frames, crop around the people, random
#          resized crop to 56x56, random flip;
#   val:   1 clip, centre crop 64x64;   test: 10 clips, each also mirrored.
dataset_type = 'PoseDataset'
ann_file = 'data/skeleton/ntu60_2d.pkl'
# COCO-17 keypoints that swap places in a mirrored frame.
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]

# Steps the variants (limb heatmaps, 32-frame pose pre-training) reuse.
# PoseCompact: crop to the box around all people, padded to a square.
compact = dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True)
flip = dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp)
pose_target = dict(type='GeneratePoseTarget', sigma=0.6, use_score=True,
                   with_kp=True, with_limb=False)
format_shape = dict(type='FormatShape', input_format='NCTHW_Heatmap')

train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48),
    dict(type='PoseDecode'), compact, dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False), flip,
    pose_target, format_shape, dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=1, test_mode=True),
    dict(type='PoseDecode'), compact, dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    pose_target, format_shape, dict(type='PackActionInputs')]
# 10 clips, each rendered as is and mirrored ("double"): 20 views a video.
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=10,
         test_mode=True),
    dict(type='PoseDecode'), compact, dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(pose_target, double=True, left_kp=left_kp, right_kp=right_kp),
    format_shape, dict(type='PackActionInputs')]

train_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # Ten passes over the training set per epoch: the x10 in "240e"/"180e".
    dataset=dict(type='RepeatDataset', times=10, dataset=dict(
        type=dataset_type, ann_file=ann_file, split='xsub_train',
        pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val',
                 pipeline=val_pipeline, test_mode=True))
# Multi-view test samples are large: one video per batch.
test_dataloader = dict(
    val_dataloader, batch_size=1,
    dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
