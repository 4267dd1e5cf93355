"""The demo's overlay: skeletons and labels are drawn where they belong,
hidden joints are not drawn, and the input frame is never modified."""
import numpy as np
import pytest

from mmpose_plus.datasets.coco_meta import COCO_SKELETON
from mmpose_plus.visualization import (PERSON_COLORS, draw_skeletons,
                                       draw_text_lines, format_action_lines,
                                       limb_colors, overlay_frame)


def _frame(h=96, w=128):
    return np.zeros((h, w, 3), np.uint8)


def _pose(cx, cy):
    kp = np.zeros((17, 2))
    kp[:, 0] = cx + np.linspace(-10, 10, 17)
    kp[:, 1] = cy + np.linspace(-20, 20, 17)
    return kp


def test_draws_joints_and_limbs_where_they_are_and_nowhere_else():
    frame = _frame()
    kp = _pose(30, 48)[None]
    out = draw_skeletons(frame, kp, np.ones((1, 17)), radius=2, thickness=1)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert not frame.any()  # pure: the input is untouched
    drawn = out.any(-1)
    for x, y in np.round(kp[0]).astype(int):
        assert drawn[y, x]
    # Nothing on the right half of the frame, far from the person.
    assert not drawn[:, 60:].any()
    # Joint dots use the person colour (BGR) of track 0.
    x, y = np.round(kp[0, 0]).astype(int)
    assert tuple(out[y, x]) == PERSON_COLORS[0]


def test_low_score_joints_and_their_limbs_are_not_drawn():
    frame = _frame()
    kp = np.stack([_pose(30, 48), _pose(95, 48)])
    scores = np.ones((2, 17))
    scores[1] = 0.1  # second person below the threshold
    out = draw_skeletons(frame, kp, scores, kpt_thr=0.3)
    drawn = out.any(-1)
    assert drawn[:, :50].any()
    assert not drawn[:, 70:].any()
    # One visible joint with no visible partner: a dot, no line.
    scores = np.zeros((1, 17))
    scores[0, 0] = 1
    kp = _pose(60, 48)
    out = draw_skeletons(frame, kp[None], scores, radius=1)
    ys, xs = np.nonzero(out.any(-1))
    assert len(ys) > 0
    assert np.hypot(xs - kp[0, 0], ys - kp[0, 1]).max() < 4


def test_person_ids_pick_joint_colours_and_nan_or_far_points_are_safe():
    frame = _frame()
    kp = _pose(60, 48)[None]
    out = draw_skeletons(frame, kp, person_ids=[2], radius=2)
    x, y = np.round(kp[0, 8]).astype(int)
    assert tuple(out[y, x]) == PERSON_COLORS[2]
    weird = kp.copy()
    weird[0, 3] = np.nan
    weird[0, 4] = [1e9, -1e9]
    draw_skeletons(frame, weird)  # no exception


def test_limb_colours_follow_body_sides():
    colors = limb_colors()
    assert len(colors) == len(COCO_SKELETON)
    left = colors[COCO_SKELETON.index((15, 13))]  # left ankle-knee
    right = colors[COCO_SKELETON.index((16, 14))]
    middle = colors[COCO_SKELETON.index((11, 12))]  # hips
    assert len({left, right, middle}) == 3


def test_text_lines_are_written_top_left_and_stack_downwards():
    frame = _frame(200, 300)
    lines = format_action_lines(['drink water', 'eat meal'], [0.8, 0.15])
    assert lines == ['drink water: 0.80', 'eat meal: 0.15']
    one = draw_text_lines(frame, lines[:1])
    two = draw_text_lines(frame, lines)
    assert not frame.any()
    rows_one = np.flatnonzero(one.any(axis=(1, 2)))
    rows_two = np.flatnonzero(two.any(axis=(1, 2)))
    assert rows_one.min() < 20 and rows_two.max() > rows_one.max()
    assert not one[:, 250:].any()  # left-aligned
    # A background box keeps text readable on a white frame.
    white = np.full_like(frame, 255)
    assert (draw_text_lines(white, lines) == 0).any()


def test_overlay_frame_combines_both_and_handles_no_people():
    frame = _frame()
    out = overlay_frame(frame, np.zeros((0, 17, 2)), None, ['jump: 0.50'])
    assert out.any() and out is not frame
    plain = overlay_frame(frame)
    assert plain is not frame and not plain.any()
    both = overlay_frame(frame, _pose(60, 60)[None], np.ones((1, 17)),
                         ['jump: 0.50'])
    assert both[40:, :].any() and both[:15, :].any()


def test_bad_inputs_are_reported():
    with pytest.raises(ValueError, match='BGR uint8'):
        draw_skeletons(np.zeros((8, 8), np.uint8), np.zeros((1, 17, 2)))
    with pytest.raises(ValueError, match='BGR uint8'):
        draw_text_lines(np.zeros((8, 8, 3), np.float32), ['x'])
    with pytest.raises(ValueError, match=r'keypoints must be \(N, V, 2\)'):
        draw_skeletons(_frame(), np.zeros((1, 17, 2, 2)))
    with pytest.raises(ValueError, match='scores'):
        draw_skeletons(_frame(), np.zeros((2, 17, 2)), np.ones((1, 17)))
    with pytest.raises(ValueError, match='skeleton links'):
        draw_skeletons(_frame(), np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match='labels'):
        format_action_lines(['a'], [0.1, 0.2])
