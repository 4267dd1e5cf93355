# A small HigherHRNet (HRNet with one block per branch and 16/32/64/128
# channels, one BasicBlock after the deconvolution) on the built-in
# stick-figure COCO set: 128x128 inputs, heatmaps 32 and 64, tags at 32.
# Trains in a few minutes on 2 CPU cores.
#
# Data (train: 64 images, val: 16 images, 1-3 people each):
#   python -c "from mmpose_plus.datasets import generate_tiny_coco as g; \
#     g('data/tiny_coco_bu', 64, seed=0, ann_name='person_keypoints_train.json', \
#       img_dir='train'); g('data/tiny_coco_bu', 16, seed=1, \
#       ann_name='person_keypoints_val.json', img_dir='val')"
#   python tools/train.py configs/pose/tiny/higherhrnet_tiny_tinycoco.py
_base_ = ['../higherhrnet_w32_8xb24-300e_coco-512x512.py']

# ---------------------------------------------------------------- schedule
# 60 epochs, x0.1 at 45 and 55, after a 20-iteration warm-up from 1% of the
# lr.
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs, val_interval=20)
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(_base_.param_scheduler[0], end=20, start_factor=0.01),
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[45, 55])
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=20, max_keep_ckpts=1))

# ------------------------------------------------------------------- model
input_size = (128, 128)
codec = dict(
    _base_.codec, input_size=input_size, heatmap_size=[(32, 32), (64, 64)])
model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(
                num_modules=1, num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128))),
        init_cfg=None),
    head=dict(in_channels=16, num_deconv_filters=(16, ), num_basic_blocks=1),
    codec=codec)

# -------------------------------------------------------------------- data
# The COCO pipelines at this input size with milder augmentation (the
# figures are drawn small) and test images padded to a multiple of 32. A
# list replaces the inherited one as a whole, so the steps are rebuilt from
# the base's with these changes (names starting with `__` stay out of the
# merged config).
__changes = dict(
    BottomupRandomAffine=dict(
        input_size=input_size,
        shift_factor=0.1,
        scale_factor=(0.8, 1.2),
        scale_type='long',
        rotate_factor=15),
    GenerateTarget=dict(encoder=codec),
    BottomupResize=dict(input_size=input_size, size_factor=32))
train_pipeline = [
    dict(t, **__changes.get(t.type, {})) for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, **__changes.get(t.type, {})) for t in _base_.val_pipeline
]
test_pipeline = val_pipeline

data_root = 'data/tiny_coco_bu/'
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        data_root=data_root,
        ann_file='person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    dataset=dict(
        data_root=data_root,
        ann_file='person_keypoints_val.json',
        data_prefix=dict(img='val/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'person_keypoints_val.json')
test_evaluator = val_evaluator
randomness = dict(seed=0)
