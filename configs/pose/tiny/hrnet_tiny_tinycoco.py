# A small HRNet (one module per stage, one block per branch, branch widths
# 16/32/64/128) on the built-in stick-figure COCO set: the data, crops
# (64x64 -> 16x16 heatmaps) and schedule of the tiny SimpleBaseline config,
# which also shows how to generate data/tiny_coco.
#   python tools/train.py configs/pose/tiny/hrnet_tiny_tinycoco.py
_base_ = ['./simplebaseline_res18_tiny_tinycoco.py']

# Stage 1: one Bottleneck of width 16; stage s = 2..4: one module of s
# branches with one BasicBlock each, branch widths 16, 32, 64, 128
# (`__widths` stays out of the merged config).
__widths = (16, 32, 64, 128)
model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(1, ), num_channels=__widths[:1]),
            **{
                f'stage{s}': dict(
                    num_modules=1,
                    num_branches=s,
                    block='BASIC',
                    num_blocks=(1, ) * s,
                    num_channels=__widths[:s])
                for s in (2, 3, 4)
            })),
    head=dict(in_channels=16, deconv_out_channels=None))
