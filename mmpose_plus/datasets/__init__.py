from . import transforms  # noqa: F401
from .tiny_dataset import generate_tiny_dataset  # noqa: F401
from .coco_keypoint import CocoKeypointDataset  # noqa: F401
from .pose_dataset import PoseDataset  # noqa: F401
from .tiny_coco import generate_tiny_coco  # noqa: F401
