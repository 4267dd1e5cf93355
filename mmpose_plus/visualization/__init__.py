# Drawing helpers (pure functions on arrays; no registered classes).
from .heatmap_grid import (GridLayout, even_frame_indices,  # noqa: F401
                           heatmap_volume_grid, keypoint_channel_names,
                           limb_channel_names, pose_channel_names)
from .skeleton_overlay import (PERSON_COLORS, draw_skeletons,  # noqa: F401
                               draw_text_lines, format_action_lines,
                               limb_colors, overlay_frame)
