# A small HRNet (one module per stage, one block per branch, branch widths
# 16/32/64/128) on the built-in stick-figure COCO set: the data, crops
# (64x64 -> 16x16 heatmaps) and schedule of the tiny SimpleBaseline config,
# which also shows how to generate data/tiny_coco.
#   python tools/train.py configs/pose/tiny/hrnet_tiny_tinycoco.py
_base_ = ['./simplebaseline_res18_tiny_tinycoco.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(1, ),
                num_channels=(16, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(1, 1),
                num_channels=(16, 32)),
            stage3=dict(
                num_modules=1,
                num_branches=3,
                block='BASIC',
                num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128)))),
    head=dict(in_channels=16, deconv_out_channels=None))
