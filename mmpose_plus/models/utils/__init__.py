# Helpers shared by the models (no registered classes).
from .frozen_stages import FrozenStagesMixin  # noqa: F401
from .pose_checkpoint import (  # noqa: F401
    CheckpointMismatchError, KeyReport, check_state_dict,
    convert_pose_state_dict, detect_pose_layout, load_pose_checkpoint)
