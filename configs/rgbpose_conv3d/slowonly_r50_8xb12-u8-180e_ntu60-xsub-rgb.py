# RGB-only pre-training for RGBPoseConv3D: SlowOnly-R50 on 8 uniformly
# sampled frames at 224x224, cropped around the people by MMCompact.
# 8 GPUs x 12 clips, 18 epochs x RepeatDataset(10) ("180e").
_base_ = [
    '../_base_/datasets/ntu60_xsub_rgbpose.py',
    '../_base_/schedules/sgd_cosine_18e.py', '../_base_/default_runtime.py'
]

# What becomes the RGB pathway: SlowOnly-R50 with temporal kernels in the
# last two stages only.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowOnly', depth=50, conv1_kernel=(1, 7, 7),
                  inflate=(0, 0, 1, 1)),
    cls_head=dict(type='I3DHead', in_channels=2048, num_classes=60,
                  dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', format_shape='NCTHW',
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))

# The RGB stream of the RGBPoseConv3D data alone (no heatmaps); validation
# and test resize the people crop straight to 224x224.
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1),
    dict(type='MMDecode'), _base_.compact,
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1,
         test_mode=True),
    dict(type='MMDecode'), _base_.compact,
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_pipeline = [dict(val_pipeline[0], num_clips=10), *val_pipeline[1:]]

# Unlike the two-stream fine-tuning: 12 clips per GPU, ten passes over the
# training set per epoch (_delete_ swaps the inherited dataset for the
# RepeatDataset wrapper around it), and batched validation.
train_dataloader = dict(
    batch_size=12,
    dataset=dict(
        _delete_=True, type='RepeatDataset', times=10,
        dataset=dict(_base_.train_dataloader.dataset,
                     pipeline=train_pipeline)))
val_dataloader = dict(batch_size=12, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.15, weight_decay=1e-4))
default_hooks = dict(checkpoint=dict(save_best='acc/top1', rule='greater'))

# 8 GPUs x 12 clips.
auto_scale_lr = dict(enable=False, base_batch_size=96)
