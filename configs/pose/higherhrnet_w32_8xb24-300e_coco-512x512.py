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
_base_ = [
    '../_base_/models/higherhrnet_w32.py',
    '../_base_/datasets/coco_keypoint_bottomup.py',
    '../_base_/schedules/pose_adam_300e.py', '../_base_/pose_runtime.py'
]

# A checkpoint at every validation (every 50 epochs).
default_hooks = dict(checkpoint=dict(interval=50))

model = dict(codec=_base_.codec)
