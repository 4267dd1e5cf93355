# The PoseC3D NTU60 XSub data recipe with limb heatmaps: one channel per
# COCO bone instead of per keypoint (17 bones, so the model input stays 17
# channels). Only the rendering step of the keypoint pipelines changes.
_base_ = ['./ntu60_xsub_keypoint.py']

skeletons = [[0, 5], [0, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11],
             [11, 13], [13, 15], [6, 12], [12, 14], [14, 16], [0, 1], [0, 2],
             [1, 3], [2, 4], [11, 12]]
# Indices into `skeletons` that swap places in a mirrored frame.
left_limb = [0, 2, 3, 6, 7, 8, 12, 14]
right_limb = [1, 4, 5, 9, 10, 11, 13, 15]
pose_target = dict(_base_.pose_target, with_kp=False, with_limb=True,
                   skeletons=skeletons)
test_pose_target = dict(pose_target, double=True, left_limb=left_limb,
                        right_limb=right_limb)

# The keypoint pipelines with their GeneratePoseTarget step replaced.
train_pipeline = [pose_target if s.type == 'GeneratePoseTarget' else s
                  for s in _base_.train_pipeline]
val_pipeline = [pose_target if s.type == 'GeneratePoseTarget' else s
                for s in _base_.val_pipeline]
test_pipeline = [test_pose_target if s.type == 'GeneratePoseTarget' else s
                 for s in _base_.test_pipeline]
# The inherited loaders still hold the keypoint pipelines: repoint them.
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
