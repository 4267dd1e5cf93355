# Each module below registers its classes on import.
from .export import (ExportReport, PoseNetExportModel,  # noqa: F401
                     RecognizerExportModel, UntrainedWeightsWarning,
                     build_export_model, export_onnx, infer_input_shapes,
                     verify_onnx)
from .extraction import (extract_skeletons, extract_video,  # noqa: F401
                         iter_video_frames, labels_from_file,
                         labels_from_regex, list_videos, ntu60_splits,
                         video_info)
from .inference import (estimate_poses, get_test_pipeline,  # noqa: F401
                        init_model, recognize_rgbpose, recognize_skeleton)
from .tracking import pose_similarity, track_poses  # noqa: F401
