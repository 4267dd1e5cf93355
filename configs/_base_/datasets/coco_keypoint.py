# COCO person keypoints (train2017 / val2017, 17 joints): the loaders and
# the metric that the top-down and bottom-up recipes share. Not a complete
# dataset config: coco_keypoint_topdown.py and coco_keypoint_bottomup.py
# add the data mode, the pipelines and the batch sizes.
dataset_type = 'CocoKeypointDataset'
data_root = 'data/coco/'

train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/')))
val_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoKeypointMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
