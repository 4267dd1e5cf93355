# 180 epochs of SGD with a per-epoch cosine decay (R(2+1)D on Kinetics),
# validating every 20 epochs.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=180, eta_min=0, by_epoch=True)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=180, val_begin=1, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
