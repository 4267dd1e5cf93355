# The built-in tiny stick-figure dataset (NTU/PYSKL layout), written by
#   python tools/data/generate_tiny_dataset.py      # -> data/tiny_ntu
# Configs inheriting this set `pipeline` on the three dataloaders.
dataset_type = 'PoseDataset'
data_root = 'data/tiny_ntu/'
ann_file = data_root + 'tiny_ntu_2d.pkl'
video_prefix = data_root + 'videos'
# The skeletons are COCO-17: keypoints that swap places in a mirrored frame.
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]

train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='train',
                 data_prefix=dict(video=video_prefix)))
val_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='val',
                 data_prefix=dict(video=video_prefix), test_mode=True))
test_dataloader = val_dataloader

# With 5 classes top-5 is always 1: report top-1 and mean class accuracy.
val_evaluator = [
    dict(type='AccMetric',
         metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
]
test_evaluator = val_evaluator

randomness = dict(seed=0)
