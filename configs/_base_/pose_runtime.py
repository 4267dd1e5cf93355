# Runtime of the pose-estimation recipes: the shared runtime, logging every
# 50 iterations and keeping the three latest checkpoints plus the best by
# COCO AP. Recipes set the checkpoint interval to their validation interval.
_base_ = ['./default_runtime.py']

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(save_best='coco/AP', rule='greater', max_keep_ckpts=3))
