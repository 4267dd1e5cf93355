# Each module below registers its classes on import.
from .rgbpose_head import RGBPoseHead  # noqa: F401
from .heatmap_head import HeatmapHead  # noqa: F401
from .ae_higher_head import AEHigherResolutionHead  # noqa: F401
