# R(2+1)D-34: ResNet3d-34 whose 3D convolutions are factorised into a
# spatial (1, k, k) and a temporal (t, 1, 1) convolution (Conv2plus1d).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet2Plus1d', depth=34, pretrained=None, pretrained2d=False,
        conv_cfg=dict(type='Conv2plus1d'), norm_eval=False,
        # SyncBN falls back to BN when the Runner is not distributed.
        norm_cfg=dict(type='SyncBN', requires_grad=True, eps=1e-3),
        # Every block is (2+1)D; time is kept by the stem and halved by
        # stages 2-4, like space.
        conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False),
    cls_head=dict(
        type='I3DHead', num_classes=400, in_channels=512, spatial_type='avg',
        dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', format_shape='NCTHW',
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))
