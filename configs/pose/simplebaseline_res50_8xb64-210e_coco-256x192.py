# SimpleBaseline (Xiao et al., "Simple Baselines for Human Pose Estimation
# and Tracking", ECCV 2018): ImageNet ResNet-50 + three 4x4 deconvolutions,
# top-down on COCO person crops of 256x192, Gaussian heatmaps of 64x48.
# Published COCO val2017 AP (detected boxes, AP 56.4 detector, flip test):
# 70.4. The HRNet-W32 config inherits everything but the model.
#
#   python tools/train.py configs/pose/simplebaseline_res50_8xb64-210e_coco-256x192.py
#   python tools/test.py configs/pose/simplebaseline_res50_8xb64-210e_coco-256x192.py CKPT
#
# CKPT may be our own checkpoint or an official one converted with
# tools/convert/convert_pose_checkpoint.py (see docs/pose_estimation.md).
_base_ = ['../_base_/default_runtime.py']

# ---------------------------------------------------------------- schedule
# 210 epochs of Adam (lr 5e-4, batch 8x64 = 512), x0.1 at 170 and 200, with
# a 500-iteration linear warm-up. Validates every 10 epochs.
max_epochs = 210
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        milestones=[170, 200],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=512)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        interval=10, save_best='coco/AP', rule='greater', max_keep_ckpts=3))

# ------------------------------------------------------------------- model
# Crop (w, h) = (192, 256) -> heatmaps (48, 64), sigma 2, quarter-pixel
# refinement at decoding.
codec = dict(
    type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        # torchvision's ImageNet ResNet-50 (same key layout as ours). Not
        # downloaded: put the file there (the PyTorch model zoo's
        # resnet50-19c8e357.pth), or train from scratch with
        # --cfg-options model.backbone.init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50-19c8e357.pth')),
    head=dict(
        type='HeatmapHead',
        in_channels=2048,
        out_channels=17,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    codec=codec,
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

# -------------------------------------------------------------------- data
dataset_type = 'CocoKeypointDataset'
data_root = 'data/coco/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlipPose', prob=0.5),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
# Evaluated on the people found by a detector with person AP 56.4, as in
# the papers (bbox_file); drop bbox_file to evaluate on ground-truth boxes.
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file='person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoKeypointMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
