# SimpleBaseline, top-down: ImageNet ResNet-50, three 4x4 deconvolutions of
# 256 channels and a 1x1 conv to 17 heatmaps; flip test averages the
# heatmaps of the crop and of its mirror image. Recipes add the codec of
# their dataset config (`model = dict(codec=_base_.codec)`).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        # torchvision's ImageNet ResNet-50 (same key layout as ours). Not
        # downloaded: put the file there (the PyTorch model zoo's
        # resnet50-19c8e357.pth), or train from scratch with
        # --cfg-options model.backbone.init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50-19c8e357.pth')),
    head=dict(
        type='HeatmapHead',
        in_channels=2048,
        out_channels=17,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
