# Each module below registers its classes on import.
from .pose2d_transforms import (  # noqa: F401
    BottomupGetHeatmapMask, BottomupRandomAffine, BottomupResize,
    GenerateTarget, GetBBoxCenterScale, LoadImage, PackPoseInputs,
    RandomBBoxTransform, RandomFlipPose, RandomHalfBody, TopdownAffine)
from .loading import MMDecode  # noqa: F401
from .pose_transforms import (  # noqa: F401
    Flip, MMCompact, MMUniformSampleFrames, PoseCompact, PoseDecode,
    UniformSampleFrames)
from .generate_pose_target import (  # noqa: F401
    GeneratePoseTarget, PackPoseKeypoints)
from .heatmap_rendering import (  # noqa: F401
    render_keypoint_heatmaps, render_limb_heatmaps, render_pose_heatmaps)
