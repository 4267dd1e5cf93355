# HigherHRNet-W32, bottom-up: ImageNet HRNet-W32 (the stage dicts below are
# the standard W32 ones; W48 and the tiny variant override widths and
# depths), a 1/4-resolution output with one associative-embedding tag per
# joint (pull / push factor 0.001) and one deconvolution module with four
# BasicBlocks to 1/2 resolution. Recipes add the codec of their dataset
# config (`model = dict(codec=_base_.codec)`).
model = dict(
    type='BottomupPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(32, 64)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256))),
        # ImageNet HRNet-W32 of the official release (same key layout).
        # Not downloaded: put the file there (mmpose model zoo,
        # 'pretrain_models'), or train from scratch with
        # --cfg-options model.backbone.init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/hrnet_w32-36af842e.pth')),
    head=dict(
        type='AEHigherResolutionHead',
        in_channels=32,
        num_joints=17,
        tag_per_joint=True,
        num_deconv_layers=1,
        num_deconv_filters=(32, ),
        num_deconv_kernels=(4, ),
        num_basic_blocks=4,
        cat_output=(True, ),
        with_ae_loss=(True, False),
        loss_heatmap=dict(type='HeatmapLoss'),
        loss_ae=dict(
            type='AssociativeEmbeddingLoss',
            pull_loss_factor=0.001,
            push_loss_factor=0.001)),
    # Flip test and multi-scale test (the scales the test pipeline gives),
    # decoding on the input canvas (the published recipe); pixel_offset=0
    # for models trained here, 0.5 for official checkpoints.
    test_cfg=dict(
        flip_test=True,
        multiscale_test=True,
        project2image=True,
        pixel_offset=0.0))
