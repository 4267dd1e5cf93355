"""COCO-17 person keypoint metadata (data only).

One source of truth for the keypoint order, left/right symmetry, OKS sigmas
and skeleton used by the dataset, the transforms, the codecs, the metric and
the visualisation code. All indices are 0-based.

Example:
    >>> from mmpose_plus.datasets.coco_meta import COCO_METAINFO
    >>> COCO_METAINFO['num_keypoints'], COCO_METAINFO['flip_indices'][:3]
    (17, [0, 2, 1])
"""
import copy

import numpy as np

__all__ = [
    'COCO_KEYPOINT_NAMES', 'COCO_FLIP_INDICES', 'COCO_FLIP_PAIRS',
    'COCO_SIGMAS', 'COCO_SKELETON', 'COCO_UPPER_BODY_IDS',
    'COCO_LOWER_BODY_IDS', 'COCO_JOINT_WEIGHTS', 'COCO_METAINFO',
    'coco_metainfo'
]

COCO_KEYPOINT_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')

# Index of the mirrored joint: a horizontally flipped 'left_eye' is a
# 'right_eye'. Derived from the names so the two can never disagree.
COCO_FLIP_INDICES = tuple(
    COCO_KEYPOINT_NAMES.index(
        name.replace('left_', '#').replace('right_', 'left_').replace(
            '#', 'right_')) for name in COCO_KEYPOINT_NAMES)

COCO_FLIP_PAIRS = tuple((i, j) for i, j in enumerate(COCO_FLIP_INDICES)
                        if i < j)

# Per-keypoint OKS standard deviations of the official COCO evaluation
# (cocoapi `kpt_oks_sigmas`): 0.026 nose ... 0.089 ankles.
COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
               0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089)

# Skeleton links of the COCO person category, converted to 0-based indices.
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11),
                 (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2),
                 (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))

# Half-body augmentation splits the person at the hips.
COCO_UPPER_BODY_IDS = tuple(range(0, 11))
COCO_LOWER_BODY_IDS = tuple(range(11, 17))

# Loss weights per joint used by the HRNet / SimpleBaseline recipes
# (elbows and knees 1.2, wrists and ankles 1.5).
COCO_JOINT_WEIGHTS = (1., 1., 1., 1., 1., 1., 1., 1.2, 1.2, 1.5, 1.5, 1., 1.,
                      1.2, 1.2, 1.5, 1.5)

COCO_METAINFO = dict(
    dataset_name='coco',
    num_keypoints=len(COCO_KEYPOINT_NAMES),
    keypoint_names=list(COCO_KEYPOINT_NAMES),
    flip_indices=list(COCO_FLIP_INDICES),
    flip_pairs=[list(p) for p in COCO_FLIP_PAIRS],
    sigmas=np.array(COCO_SIGMAS, dtype=np.float32),
    skeleton_links=[list(link) for link in COCO_SKELETON],
    upper_body_ids=list(COCO_UPPER_BODY_IDS),
    lower_body_ids=list(COCO_LOWER_BODY_IDS),
    dataset_keypoint_weights=np.array(COCO_JOINT_WEIGHTS, dtype=np.float32),
)


def coco_metainfo() -> dict:
    """Return a fresh, independently mutable copy of :data:`COCO_METAINFO`."""
    return copy.deepcopy(COCO_METAINFO)
