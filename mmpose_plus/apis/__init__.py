# Each module below registers its classes on import.
from .export import (ExportReport, PoseNetExportModel,  # noqa: F401
                     RecognizerExportModel, UntrainedWeightsWarning,
                     build_export_model, export_onnx, infer_input_shapes,
                     verify_onnx)
from .extraction import (extract_skeletons, extract_video,  # noqa: F401
                         iter_video_frames, labels_from_file,
                         labels_from_regex, list_videos, ntu60_splits,
                         ntu120_splits, ntu_splits, video_info)
from .inference import (estimate_poses, find_config,  # noqa: F401
                        get_test_pipeline, init_model, is_rgbpose,
                        recognize_rgbpose, recognize_skeleton,
                        untrained_banner)
from .tracking import pose_similarity, track_poses  # noqa: F401
