# HRNet-W32 (Sun et al., "Deep High-Resolution Representation Learning for
# Human Pose Estimation", CVPR 2019), top-down on COCO 256x192: the
# SimpleBaseline recipe (data, augmentation, Adam 5e-4, 210 epochs, flip
# test) with the HRNet backbone and a 1x1 conv on its 1/4-resolution
# output instead of deconvolutions. Published COCO val2017 AP: 74.4.
#
#   python tools/train.py configs/pose/hrnet_w32_8xb64-210e_coco-256x192.py
#   python tools/test.py configs/pose/hrnet_w32_8xb64-210e_coco-256x192.py CKPT
_base_ = ['./simplebaseline_res50_8xb64-210e_coco-256x192.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        arch='w32',
        # ImageNet HRNet-W32 of the official release (same key layout).
        # Not downloaded: put the file there (mmpose model zoo,
        # 'pretrain_models'), or train from scratch with
        # --cfg-options model.backbone.init_cfg=None
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/hrnet_w32-36af842e.pth')),
    head=dict(in_channels=32, deconv_out_channels=None))
