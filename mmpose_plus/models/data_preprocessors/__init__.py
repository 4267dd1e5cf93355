# Each module below registers its classes on import.
from .heatmap_preprocessor import (  # noqa: F401
    HeatmapDataPreprocessor, render_heatmaps_torch)
from .pose_data_preprocessor import PoseDataPreprocessor  # noqa: F401
