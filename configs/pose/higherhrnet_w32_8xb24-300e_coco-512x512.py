# HigherHRNet-W32 (Cheng et al., "HigherHRNet: Scale-Aware Representation
# Learning for Bottom-Up Human Pose Estimation", CVPR 2020), bottom-up on
# whole COCO images of 512x512: ImageNet HRNet-W32, heatmaps at 1/4 (128)
# and 1/2 (256) of the input with sigma 2, one associative-embedding tag per
# joint on the 1/4 output (pull/push factor 0.001), at most 30 people.
# Published COCO val2017 AP: 67.1 single-scale, 69.9 with multi-scale test
# (flip test in both).
#
#   python tools/train.py configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py
#   python tools/test.py configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py CKPT
#
# Multi-scale test (scales 2, 1, 0.5; batch size stays 1):
#   python tools/test.py CONFIG CKPT --cfg-options \
#     test_dataloader.dataset.pipeline.1.aug_scales="[2,0.5]"
#
# Official / mmpose 0.x checkpoints (converted with
# tools/convert/convert_pose_checkpoint.py) were trained on floored heatmap
# targets: add `model.test_cfg.pixel_offset=0.5` (docs/pose_estimation.md).
_base_ = ['../_base_/default_runtime.py']

# ---------------------------------------------------------------- schedule
# 300 epochs of Adam, x0.1 at 200 and 260, 500-iteration linear warm-up.
# lr 1.5e-3 at batch 8x24 = 192 is mmpose's recipe; the official repository
# used 1e-3 at 8x12 = 96 (about the same lr per image).
max_epochs = 300
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1.5e-3))
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        milestones=[200, 260],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=192)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        interval=50, save_best='coco/AP', rule='greater', max_keep_ckpts=3))

# ------------------------------------------------------------------- model
input_size = (512, 512)
codec = dict(
    type='AssociativeEmbedding',
    input_size=input_size,
    heatmap_size=[(128, 128), (256, 256)],
    sigma=2,
    max_people=30,
    decode_nms_kernel=5,
    decode_topk=30,
    decode_keypoint_thr=0.1,
    decode_tag_thr=1.0)

model = dict(
    type='BottomupPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(32, 64)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256))),
        # ImageNet HRNet-W32 of the official release (same key layout).
        # Not downloaded: put the file there (mmpose model zoo,
        # 'pretrain_models'), or train from scratch with
        # --cfg-options model.backbone.init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/hrnet_w32-36af842e.pth')),
    head=dict(
        type='AEHigherResolutionHead',
        in_channels=32,
        num_joints=17,
        tag_per_joint=True,
        num_deconv_layers=1,
        num_deconv_filters=(32, ),
        num_deconv_kernels=(4, ),
        num_basic_blocks=4,
        cat_output=(True, ),
        with_ae_loss=(True, False),
        loss_heatmap=dict(type='HeatmapLoss'),
        loss_ae=dict(
            type='AssociativeEmbeddingLoss',
            pull_loss_factor=0.001,
            push_loss_factor=0.001)),
    codec=codec,
    # flip test, decoding on the input canvas (the published recipe);
    # pixel_offset=0 for models trained here, 0.5 for official checkpoints
    test_cfg=dict(
        flip_test=True,
        multiscale_test=True,
        project2image=True,
        pixel_offset=0.0))

# -------------------------------------------------------------------- data
dataset_type = 'CocoKeypointDataset'
data_root = 'data/coco/'

# Random scale 0.75-1.5 of the short side, rotation up to 30 degrees, shift
# up to 0.2 of the image, horizontal flip; ignore masks for crowds and
# people without labelled joints.
train_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupRandomAffine',
        input_size=input_size,
        shift_factor=0.2,
        scale_factor=(0.75, 1.5),
        scale_type='short',
        rotate_factor=30),
    dict(type='RandomFlipPose', prob=0.5),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs')
]
# Short side to 512, long side padded to a multiple of 64 (HigherHRNet's
# test resize). Index 1 is the step that `aug_scales` goes to.
val_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupResize',
        input_size=input_size,
        size_factor=64,
        resize_mode='expand'),
    dict(type='PackPoseInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='bottomup',
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
# One image per batch: test images differ in size (and multi-scale test
# needs it).
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='bottomup',
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# A person's score is the mean score of its grouped joints (as in
# HigherHRNet); no OKS NMS.
val_evaluator = dict(
    type='CocoKeypointMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json',
    score_mode='bbox',
    nms_mode='none')
test_evaluator = val_evaluator
