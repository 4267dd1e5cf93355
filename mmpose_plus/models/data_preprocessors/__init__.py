# Each module below registers its classes on import.
from .heatmap_preprocessor import (  # noqa: F401
    HeatmapDataPreprocessor, render_heatmaps_torch)
