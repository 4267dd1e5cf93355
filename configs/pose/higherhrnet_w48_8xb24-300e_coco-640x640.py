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
    _base_.codec, input_size=input_size, heatmap_size=[(160, 160), (320, 320)])

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

# The W32 pipelines at this input size and codec. A list replaces the
# inherited one as a whole, so the steps are rebuilt from the base's with
# these changes (names starting with `__` stay out of the merged config).
__resized = dict(
    BottomupRandomAffine=dict(input_size=input_size),
    GenerateTarget=dict(encoder=codec),
    BottomupResize=dict(input_size=input_size))
train_pipeline = [
    dict(t, **__resized.get(t.type, {})) for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, **__resized.get(t.type, {})) for t in _base_.val_pipeline
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
