# Short name for RGBPoseConv3D on NTU RGB+D 60 XSub (the reference recipe):
#   python tools/train.py configs/rgbpose_ntu.py
# Data layout: docs/data.md.
_base_ = ['rgbpose_conv3d/rgbposeconv3d_r50_8xb6-20e_ntu60-xsub-rgbpose.py']
