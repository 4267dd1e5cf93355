# Each module below registers its classes on import.
from .model_summary import (ModelSummary, format_summary,  # noqa: F401
                            parse_shapes, summarize_model)
from .rgbpose_init import (MergeReport, merge_rgbpose_init,  # noqa: F401
                           merge_rgbpose_init_with_report)
