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
_base_ = [
    '../_base_/models/simplebaseline_res50.py',
    '../_base_/datasets/coco_keypoint_topdown.py',
    '../_base_/schedules/pose_adam_210e.py', '../_base_/pose_runtime.py'
]

# A checkpoint at every validation (every 10 epochs).
default_hooks = dict(checkpoint=dict(interval=10))

model = dict(codec=_base_.codec)
