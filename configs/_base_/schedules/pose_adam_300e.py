# 300 epochs of Adam, x0.1 at epochs 200 and 260, after the same warm-up as
# the 210-epoch schedule: the HigherHRNet bottom-up recipe. lr 1.5e-3 at
# batch 8x24 = 192 is mmpose's recipe; the official repository used 1e-3 at
# 8x12 = 96 (about the same lr per image). Validates every 50 epochs.
_base_ = ['./pose_adam_210e.py']

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs, val_interval=50)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[200, 260])
]
auto_scale_lr = dict(base_batch_size=192)
