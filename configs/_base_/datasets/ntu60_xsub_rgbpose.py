# NTU RGB+D 60 cross-subject videos with their 2D skeletons, for the
# RGBPoseConv3D recipe: each sample is 8 RGB frames at 224x224 plus 32
# frames of keypoint heatmaps at 1/4 of that size, cut from one crop around
# the people.
#   train: random resized crop of the 256x256 people crop, random flip;
#   val:   the 256x256 people crop, 1 clip;   test: the same, 10 clips.
dataset_type = 'PoseDataset'
# Training copies of the videos, <frame_dir>.mp4 at 960x540, made once with
#   python tools/data/prepare_videos.py data/nturgbd_videos \
#       data/nturgbd_videos_540p --strip-suffix _rgb
# (about 15x less decoding per sample than the 1080p release, see
# docs/data.md). To read the release itself instead:
#   --cfg-options train_dataloader.dataset.data_prefix.video=data/nturgbd_videos \
#       train_dataloader.dataset.video_name_tmpl='{frame_dir}_rgb.avi'  (same for val/test)
data_root = 'data/nturgbd_videos_540p/'
ann_file = 'data/skeleton/ntu60_2d.pkl'
# COCO-17 keypoints that swap places in a mirrored frame.
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]

# MMCompact: crop frames and skeletons to the box around all people, padded
# to a square (the RGB-only pre-training reuses it).
compact = dict(type='MMCompact', hw_ratio=1., allow_imgpad=True)
# Heatmaps at 1/4 of the RGB resolution, scored by keypoint confidence.
pose_target = dict(type='GeneratePoseTarget', sigma=0.7, use_score=True,
                   with_kp=True, with_limb=False, scaling=0.25)

train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32),
         num_clips=1),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    pose_target, dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32),
         num_clips=1, test_mode=True),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    pose_target, dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))]
# Test: the val pipeline over 10 clips.
test_pipeline = [dict(val_pipeline[0], num_clips=10), *val_pipeline[1:]]

train_dataloader = dict(
    batch_size=6, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_train',
                 data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val',
                 data_prefix=dict(video=data_root), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))

# Reports acc/{rgb,pose}_{top1,top5,mean1} and the fused
# acc/RGBPose_{1:1,2:1,1:2}_{top1,top5,mean1}.
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
