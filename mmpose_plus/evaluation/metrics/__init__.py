# Each module below registers its classes on import.
from .coco_metric import CocoKeypointMetric  # noqa: F401
