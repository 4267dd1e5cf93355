# 24 epochs of SGD with a per-iteration cosine decay (PoseC3D). The recipes
# wrap the training set in RepeatDataset(times=10): "240e" in config names.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=24, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=24, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
