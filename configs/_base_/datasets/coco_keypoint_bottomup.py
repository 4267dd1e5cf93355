# COCO person keypoints, bottom-up: whole images of 512x512, targets of an
# associative-embedding codec (heatmaps at 1/4 and 1/2 of the input with
# sigma 2, tags at 1/4, at most 30 people; its decode_* settings are the
# grouping at test time). The codec lives here because the pipelines encode
# the targets with it; recipes hand it to the model
# (`model = dict(codec=_base_.codec)`), and variants that change it rebuild
# the pipelines from these (see higherhrnet_w48_8xb24-300e_coco-640x640.py).
_base_ = ['./coco_keypoint.py']

input_size = (512, 512)
codec = dict(
    type='AssociativeEmbedding',
    input_size=input_size,
    heatmap_size=[(128, 128), (256, 256)],
    sigma=2,
    max_people=30,
    decode_nms_kernel=5,
    decode_topk=30,
    decode_keypoint_thr=0.1,
    decode_tag_thr=1.0)

# Random scale 0.75-1.5 of the short side, rotation up to 30 degrees, shift
# up to 0.2 of the image, horizontal flip; ignore masks for crowds and
# people without labelled joints.
train_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupRandomAffine',
        input_size=input_size,
        shift_factor=0.2,
        scale_factor=(0.75, 1.5),
        scale_type='short',
        rotate_factor=30),
    dict(type='RandomFlipPose', prob=0.5),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='BottomupGetHeatmapMask'),
    dict(type='PackPoseInputs')
]
# Short side to the input size, long side padded to a multiple of 64
# (HigherHRNet's test resize). Index 1 is the step that `aug_scales` goes
# to.
val_pipeline = [
    dict(type='LoadImage'),
    dict(
        type='BottomupResize',
        input_size=input_size,
        size_factor=64,
        resize_mode='expand'),
    dict(type='PackPoseInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=24, dataset=dict(data_mode='bottomup', pipeline=train_pipeline))
# One image per batch: test images differ in size (and multi-scale test
# needs it).
val_dataloader = dict(
    batch_size=1, dataset=dict(data_mode='bottomup', pipeline=val_pipeline))
test_dataloader = val_dataloader

# A person's score is the mean score of its grouped joints (as in
# HigherHRNet); no OKS NMS.
val_evaluator = dict(score_mode='bbox', nms_mode='none')
test_evaluator = val_evaluator
