# RGBPoseConv3D (PoseC3D paper, RGB + pose two-stream with laterals): an
# R50 SlowOnly RGB pathway (8 frames) and a SlowOnly pose pathway (32 frames
# of 17 heatmaps), fused by lateral connections; one classifier per stream.
model = dict(
    type='MMRecognizer3D',
    backbone=dict(
        type='RGBPoseConv3D',
        # The pose pathway runs at 4x the frame rate with 1/4 of the width.
        speed_ratio=4, channel_ratio=4,
        rgb_pathway=dict(
            # SlowOnly-R50: 2D stem and stages 1-2, temporal kernels in 3-4.
            num_stages=4, base_channels=64, conv1_kernel=(1, 7, 7),
            inflate=(0, 0, 1, 1), with_pool2=False,
            # Pose features join the inputs of RGB stages 3 and 4.
            lateral=True, lateral_infl=1, lateral_activate=[0, 0, 1, 1],
            fusion_kernel=7),
        pose_pathway=dict(
            # The PoseC3D backbone (17 heatmaps in, stages (4, 6, 3) of width
            # 32), keeping all 32 frames to stay aligned with the RGB path.
            num_stages=3, stage_blocks=(4, 6, 3), in_channels=17,
            base_channels=32, out_indices=(2, ), with_pool2=False,
            # 56x56 heatmaps are already small: no stem downsampling.
            conv1_kernel=(1, 7, 7), conv1_stride_s=1, conv1_stride_t=1,
            pool1_stride_s=1, pool1_stride_t=1,
            inflate=(0, 1, 1), dilations=(1, 1, 1),
            spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1),
            # RGB features join the inputs of pose stages 2 and 3 through
            # transposed convolutions (lateral_inv: back up to 4x frames).
            lateral=True, lateral_inv=True, lateral_infl=16,
            lateral_activate=(0, 1, 1), fusion_kernel=7)),
    cls_head=dict(
        type='RGBPoseHead', num_classes=60, in_channels=[2048, 512],
        loss_components=['rgb', 'pose'], loss_weights=[1., 1.],
        average_clips='prob'),
    # ImageNet normalisation for the frames; heatmaps are used as rendered.
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            imgs=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW',
                mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
            heatmap_imgs=dict(type='ActionDataPreprocessor'))))
