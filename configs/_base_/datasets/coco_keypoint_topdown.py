# COCO person keypoints, top-down: one sample per person box, cropped to
# (w, h) = (192, 256) with Gaussian heatmaps of (48, 64), sigma 2
# (quarter-pixel refinement at decoding). The codec lives here because the
# pipelines encode the targets with it; recipes hand it to the model
# (`model = dict(codec=_base_.codec)`), and variants that change it rebuild
# the pipelines from these (see configs/pose/tiny/).
_base_ = ['./coco_keypoint.py']

codec = dict(
    type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

# Box centre and scale with 25% padding, flip, half-body crops, random box
# shift / scale / rotation.
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlipPose', prob=0.5),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=64, dataset=dict(data_mode='topdown', pipeline=train_pipeline))
# Evaluated on the people found by a detector with person AP 56.4, as in
# the papers (bbox_file); drop bbox_file to evaluate on ground-truth boxes.
val_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_mode='topdown',
        bbox_file='person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
