# Each module below registers its classes on import.
from .keypoint_losses import (  # noqa: F401
    AssociativeEmbeddingLoss, HeatmapLoss, KeypointMSELoss, ae_pull_push,
    pad_keypoint_indices)
