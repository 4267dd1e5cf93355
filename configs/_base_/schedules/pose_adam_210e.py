# 210 epochs of Adam (lr 5e-4 at batch 8x64 = 512), x0.1 at epochs 170 and
# 200, after a 500-iteration linear warm-up from 0.1% of the lr: the
# SimpleBaseline / HRNet top-down recipe. Validates every 10 epochs.
max_epochs = 210
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        milestones=[170, 200],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=512)
