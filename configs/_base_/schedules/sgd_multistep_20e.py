# 20 epochs of SGD, lr divided by 10 after epochs 12 and 16 (RGBPoseConv3D
# fine-tuning from the merged RGB + pose initialisation).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0075, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=20, by_epoch=True,
         milestones=[12, 16], gamma=0.1)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
