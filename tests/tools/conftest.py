"""A minimal skeleton-recognition setup for exercising the tools quickly."""
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

CONFIG_TEMPLATE = '''
default_scope = 'mmpose_plus'
ann_file = {ann_file!r}
num_classes = 2
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly', depth=50, in_channels=17, base_channels=4,
        num_stages=2, out_indices=(1, ), stage_blocks=(1, 1),
        conv1_stride_s=1, pool1_stride_s=1, inflate=(0, 1),
        spatial_strides=(2, 2), temporal_strides=(1, 1), dilations=(1, 1),
        conv1_kernel=(1, 3, 3)),
    cls_head=dict(type='I3DHead', in_channels=32, num_classes=num_classes,
                  dropout_ratio=0.0, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
pipeline = [
    dict(type='UniformSampleFrames', clip_len=4, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=4, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split='val',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', milestones=[1], by_epoch=True)]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1),
    logger=dict(type='LoggerHook', interval=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'),
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
log_level = 'INFO'
randomness = dict(seed=0)
'''


def write_pose_pickle(path: Path, n_train=8, n_val=4, num_frames=6,
                      seed=0) -> None:
    """Two classes of synthetic skeletons: left half vs right half."""
    rng = np.random.default_rng(seed)
    anns, split = [], {'train': [], 'val': []}
    for i in range(n_train + n_val):
        label = i % 2
        kp = rng.uniform(4, 28, size=(1, num_frames, 17, 2)).astype(
            np.float32)
        kp[..., 0] = kp[..., 0] / 2 + (16 if label else 0)
        name = f'S{i:03d}'
        anns.append(dict(
            frame_dir=name, label=label, img_shape=(32, 32),
            original_shape=(32, 32), total_frames=num_frames, keypoint=kp,
            keypoint_score=np.ones((1, num_frames, 17), np.float32)))
        split['train' if i < n_train else 'val'].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=anns), f)


@pytest.fixture
def tiny_tool_config(tmp_path: Path) -> Path:
    """A config file for a very small skeleton recognizer on 12 samples."""
    ann = tmp_path / 'pose.pkl'
    write_pose_pickle(ann)
    cfg = tmp_path / 'tiny_pose.py'
    cfg.write_text(CONFIG_TEMPLATE.format(ann_file=str(ann)))
    return cfg


def run_tool(*args, cwd=None, timeout=600):
    """Run a repo tool in a fresh interpreter and return the result."""
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout)
