# RGBPoseConv3D on NTU RGB+D 60, cross-subject: RGB (8 frames, 224x224) +
# pose heatmaps (32 frames, 56x56), 8 GPUs x 6 clips, 20 epochs, fine-tuned
# from the merged RGB-only and pose-only pre-trained models (see load_from).
# Published top-1 (1 clip / 10 clips): RGB 96.2/96.4, pose 96.0/96.2,
# fused 1:1 96.6/96.8.
_base_ = [
    '../_base_/models/rgbposeconv3d.py',
    '../_base_/datasets/ntu60_xsub_rgbpose.py',
    '../_base_/schedules/sgd_multistep_20e.py',
    '../_base_/default_runtime.py'
]

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
