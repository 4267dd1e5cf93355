# Kinetics-400 videos decoded with decord, sampled 8x8x1: 8 frames, one
# every 8th, 1 clip.
#   train: short side 256, random resized crop to 224x224, random flip;
#   val:   centre crop 224;   test: 10 clips x 3 crops of 256 (30 views).
dataset_type = 'VideoDataset'
file_client_args = dict(io_backend='disk')
# Video folders and file lists, per split.
data_root = 'data/kinetics400/videos_train'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
data_root_val = 'data/kinetics400/videos_val'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
# Kinetics has no public test labels: test on the val list.
ann_file_test = ann_file_val

sample = dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1)
train_pipeline = [
    dict(type='DecordInit', **file_client_args), sample,
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='DecordInit', **file_client_args), dict(sample, test_mode=True),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(sample, num_clips=10, test_mode=True),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]

train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=data_root_val), pipeline=val_pipeline,
                 test_mode=True))
# 30 views a video: one video per batch.
test_dataloader = dict(
    val_dataloader, batch_size=1,
    dataset=dict(val_dataloader['dataset'], ann_file=ann_file_test,
                 pipeline=test_pipeline))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
