# Each module below registers its classes on import.
from .base import BasePoseEstimator  # noqa: F401
from .topdown import TopdownPoseEstimator  # noqa: F401
from .bottomup import BottomupPoseEstimator, resample_maps  # noqa: F401
