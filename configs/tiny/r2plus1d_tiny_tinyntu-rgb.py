# A small R(2+1)D (ResNet-18 layout, one block per stage, 1/4 width) on the
# RGB videos of the built-in tiny stick-figure dataset: 8 frames at 64x64,
# cropped around the people. A few minutes on 2 CPU cores:
#   python tools/data/generate_tiny_dataset.py      # -> data/tiny_ntu
#   python tools/train.py configs/tiny/r2plus1d_tiny_tinyntu-rgb.py
_base_ = [
    '../_base_/models/r2plus1d_r34.py', '../_base_/datasets/tiny_ntu.py',
    '../_base_/schedules/sgd_cosine_tiny_6e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        depth=18,
        stage_blocks=(1, 1, 1, 1),
        base_channels=16,
        # One CPU process: plain BN instead of the recipe's SyncBN.
        norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3)),
    cls_head=dict(num_classes=5, in_channels=128, dropout_ratio=0.2))

# The RGB-only NTU pipeline at 64x64 (72x72 before the random crop).
compact = dict(type='MMCompact', hw_ratio=1., allow_imgpad=True)
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(72, 72), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1,
         test_mode=True),
    dict(type='MMDecode'), compact,
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='acc/top1', rule='greater', max_keep_ckpts=1))
