# HigherHRNet-W48 on COCO 640x640: the W32 recipe with the W48 backbone
# (branches 48/96/192/384), a 48-wide deconvolution module and heatmaps of
# 160 and 320. Published COCO val2017 AP: 69.9 single-scale, 72.1 with
# multi-scale test (flip test in both).
#
#   python tools/train.py configs/pose/higherhrnet_w48_8xb24-300e_coco-640x640.py
#   python tools/test.py configs/pose/higherhrnet_w48_8xb24-300e_coco-640x640.py CKPT
#
# The official run used 8x10 images per batch with fp16 and lr 1e-3; at
# 8x24 the lr follows the W32 recipe (1.5e-3). Use --amp where memory is
# short.
_base_ = ['./higherhrnet_w32_8xb24-300e_coco-512x512.py']

input_size = (640, 640)
codec = dict(
    type='AssociativeEmbedding',
    input_size=input_size,
    heatmap_size=[(160, 160), (320, 320)],
    sigma=2,
    max_people=30,
    decode_nms_kernel=5,
    decode_topk=30,
    decode_keypoint_thr=0.1,
    decode_tag_thr=1.0)

model = dict(
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384))),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/hrnet_w48-8ef0771d.pth')),
    head=dict(in_channels=48, num_deconv_filters=(48, )),
    codec=codec)

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

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
