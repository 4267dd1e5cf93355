# The PoseC3D schedule cut to 18 epochs: the separate RGB and pose
# pre-training of RGBPoseConv3D (x RepeatDataset(10) = "180e").
_base_ = ['./sgd_cosine_24e.py']

param_scheduler = [dict(_base_.param_scheduler[0], T_max=18)]
train_cfg = dict(max_epochs=18)
