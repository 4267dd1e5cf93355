# A small SimpleBaseline (ResNet-18 at a quarter of the width, three 64-wide
# deconvolutions) on the built-in stick-figure COCO set, 64x64 crops ->
# 16x16 heatmaps. Trains in a few minutes on 2 CPU cores.
#
# Data (train: 64 images, val: 16 images, 1-3 people each):
#   python -c "from mmpose_plus.datasets import generate_tiny_coco as g; \
#     g('data/tiny_coco', 64, seed=0, ann_name='person_keypoints_train.json', \
#       img_dir='train'); g('data/tiny_coco', 16, seed=1, \
#       ann_name='person_keypoints_val.json', img_dir='val')"
#   python tools/train.py configs/pose/tiny/simplebaseline_res18_tiny_tinycoco.py
_base_ = ['../simplebaseline_res50_8xb64-210e_coco-256x192.py']

# ---------------------------------------------------------------- schedule
# 40 epochs, x0.1 at 30 and 36, after a 20-iteration warm-up from 1% of the
# lr.
max_epochs = 40
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(_base_.param_scheduler[0], end=20, start_factor=0.01),
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[30, 36])
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=10, max_keep_ckpts=1))

# ------------------------------------------------------------------- model
# Sizes stay multiples of 32 so that the ResNet strides divide them.
codec = dict(
    type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
model = dict(
    backbone=dict(
        _delete_=True, type='ResNet', depth=18, base_channels=16),
    head=dict(
        in_channels=128,
        deconv_out_channels=(64, 64, 64)),
    codec=codec)

# -------------------------------------------------------------------- data
# The COCO pipelines at this crop size, without half-body crops and with
# milder box jitter. A list replaces the inherited one as a whole, so the
# steps are rebuilt from the base's with these changes (names starting with
# `__` stay out of the merged config).
__changes = dict(
    RandomBBoxTransform=dict(scale_factor=(0.8, 1.2), rotate_factor=20.0),
    TopdownAffine=dict(input_size=codec['input_size']),
    GenerateTarget=dict(encoder=codec))
train_pipeline = [
    dict(t, **__changes.get(t.type, {})) for t in _base_.train_pipeline
    if t.type != 'RandomHalfBody'
]
val_pipeline = [
    dict(t, **__changes.get(t.type, {})) for t in _base_.val_pipeline
]

data_root = 'data/tiny_coco/'
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        data_root=data_root,
        ann_file='person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
# Ground-truth boxes (no bbox_file).
val_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _delete_=True,
        type='CocoKeypointDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='person_keypoints_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'person_keypoints_val.json')
test_evaluator = val_evaluator
randomness = dict(seed=0)
