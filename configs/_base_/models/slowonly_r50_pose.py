# PoseC3D: SlowOnly-R50 on stacked keypoint (or limb) heatmaps. 17 input
# channels, 3 stages (4, 6, 3) of base width 32, no stem downsampling, last
# stage halves time; I3D-style classifier on the 512-channel output.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly', depth=50, pretrained=None,
        in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
        stage_blocks=(4, 6, 3), conv1_stride_s=1, pool1_stride_s=1,
        inflate=(0, 1, 1), dilations=(1, 1, 1),
        spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2)),
    cls_head=dict(
        type='I3DHead', in_channels=512, num_classes=60, dropout_ratio=0.5,
        average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           format_shape='NCTHW'))
