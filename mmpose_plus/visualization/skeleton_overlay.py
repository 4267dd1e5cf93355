"""Draw skeletons and action labels on video frames (pure functions).

Every function takes a BGR ``uint8`` frame ``(H, W, 3)`` and returns a new
frame; the input is never modified, so the same decoded frame can be drawn
on twice (e.g. with and without labels). Line widths and font sizes follow
the frame size, so the overlay is readable on a 64-pixel test clip and on a
1080p NTU video alike.

Colours: limbs are orange on the person's left side, blue on the right and
green in the middle (COCO-17); joints take the colour of the person's
track index, so a tracking error shows up as a dot changing colour.

Example:
    >>> frame = np.zeros((120, 160, 3), np.uint8)
    >>> kp = np.random.rand(2, 17, 2) * [160, 120]
    >>> out = draw_skeletons(frame, kp, np.ones((2, 17)))
    >>> out = draw_text_lines(out, format_action_lines(['wave'], [0.9]))
    >>> out.shape, out.dtype, int(frame.max())
    ((120, 160, 3), dtype('uint8'), 0)
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmpose_plus.datasets.coco_meta import COCO_KEYPOINT_NAMES, COCO_SKELETON

__all__ = [
    'PERSON_COLORS', 'limb_colors', 'draw_skeletons', 'draw_text_lines',
    'format_action_lines', 'overlay_frame'
]

Color = Tuple[int, int, int]

# BGR colours of the person (track) index, cycled.
PERSON_COLORS: Tuple[Color, ...] = ((0, 255, 255), (255, 0, 255),
                                    (255, 255, 0), (0, 128, 255),
                                    (128, 255, 0), (255, 128, 128))
_LEFT: Color = (0, 165, 255)
_RIGHT: Color = (255, 128, 0)
_MIDDLE: Color = (0, 200, 0)


def limb_colors(skeleton: Sequence[Tuple[int, int]] = COCO_SKELETON,
                names: Sequence[str] = COCO_KEYPOINT_NAMES
                ) -> Tuple[Color, ...]:
    """Colour of each limb: left (both ends left joints), right, middle."""
    colors = []
    for i, j in skeleton:
        sides = {
            n.split('_')[0]
            for n in (names[i] if i < len(names) else '',
                      names[j] if j < len(names) else '')
        }
        if sides == {'left'}:
            colors.append(_LEFT)
        elif sides == {'right'}:
            colors.append(_RIGHT)
        else:
            colors.append(_MIDDLE)
    return tuple(colors)


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or \
            frame.shape[2] != 3 or frame.dtype != np.uint8:
        desc = (f'{frame.dtype} array of shape {frame.shape}' if isinstance(
            frame, np.ndarray) else type(frame).__name__)
        raise ValueError(f'expected a BGR uint8 frame of shape (H, W, 3), '
                         f'got a {desc}')


def _sizes(frame: np.ndarray) -> Tuple[int, int, float]:
    """Joint radius, line thickness and font scale for a frame size."""
    short = min(frame.shape[:2])
    thickness = max(1, int(round(short / 240)))
    radius = max(1, int(round(short / 150)))
    font_scale = max(0.3, short / 720)
    return radius, thickness, font_scale


def draw_skeletons(frame: np.ndarray,
                   keypoints: np.ndarray,
                   scores: Optional[np.ndarray] = None,
                   kpt_thr: float = 0.3,
                   skeleton: Sequence[Tuple[int, int]] = COCO_SKELETON,
                   person_ids: Optional[Sequence[int]] = None,
                   radius: Optional[int] = None,
                   thickness: Optional[int] = None) -> np.ndarray:
    """Draw the joints and limbs of several people.

    A joint is drawn when its score is above ``kpt_thr`` and its coordinates
    are finite; a limb when both of its joints are drawn. Points outside the
    frame are clipped by OpenCV.

    Args:
        frame (np.ndarray): BGR uint8 ``(H, W, 3)``; not modified.
        keypoints (np.ndarray): ``(N, V, 2)`` pixel coordinates (``(V, 2)``
            for one person).
        scores (np.ndarray, optional): ``(N, V)`` joint scores; all joints
            are drawn when None.
        kpt_thr (float): Score threshold. Defaults to 0.3.
        skeleton (Sequence[tuple[int, int]]): Limbs as joint index pairs.
            Defaults to the COCO-17 skeleton.
        person_ids (Sequence[int], optional): Track index of each person
            (picks its joint colour). Defaults to ``range(N)``.
        radius, thickness (int, optional): Joint radius and line width in
            pixels; chosen from the frame size when None.

    Returns:
        np.ndarray: A new frame with the skeletons.

    Example:
        >>> frame = np.zeros((64, 64, 3), np.uint8)
        >>> kp = np.full((1, 17, 2), 32.)
        >>> int(draw_skeletons(frame, kp)[32, 32].max()) > 0
        True
    """
    _check_frame(frame)
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim == 2:
        kp = kp[None]
    if kp.ndim != 3 or kp.shape[-1] < 2:
        raise ValueError(f'keypoints must be (N, V, 2), got shape {kp.shape}')
    n, v = kp.shape[:2]
    if scores is None:
        sc = np.ones((n, v))
    else:
        sc = np.asarray(scores, dtype=np.float64).reshape(-1, v) if \
            np.size(scores) == n * v else None
        if sc is None:
            raise ValueError(f'scores must be (N, V) = {(n, v)}, got shape '
                             f'{np.shape(scores)}')
    if person_ids is not None and len(person_ids) != n:
        raise ValueError(f'person_ids has {len(person_ids)} entries for {n} '
                         'people')
    bad = [(i, j) for i, j in skeleton if not (0 <= i < v and 0 <= j < v)]
    if bad:
        raise ValueError(f'skeleton links {bad} refer to joints outside '
                         f'0..{v - 1}')
    auto_r, auto_t, _ = _sizes(frame)
    radius = auto_r if radius is None else radius
    thickness = auto_t if thickness is None else thickness
    colors = limb_colors(skeleton)
    out = frame.copy()
    shown = (sc > kpt_thr) & np.isfinite(kp[..., :2]).all(-1)
    pts = np.round(np.where(shown[..., None], kp[..., :2], 0)).astype(
        np.int64)
    # cv2 needs coordinates that fit in an int; far-off points are clipped
    # to a large value, which OpenCV then clips to the frame.
    pts = np.clip(pts, -(1 << 15), 1 << 15)
    for p in range(n):
        for (i, j), color in zip(skeleton, colors):
            if shown[p, i] and shown[p, j]:
                cv2.line(out, tuple(int(c) for c in pts[p, i]),
                         tuple(int(c) for c in pts[p, j]), color, thickness,
                         cv2.LINE_AA)
        pid = p if person_ids is None else int(person_ids[p])
        joint_color = PERSON_COLORS[pid % len(PERSON_COLORS)]
        for i in np.flatnonzero(shown[p]):
            cv2.circle(out, tuple(int(c) for c in pts[p, i]), radius,
                       joint_color, -1, cv2.LINE_AA)
    return out


def format_action_lines(labels: Sequence[str],
                        scores: Sequence[float]) -> list:
    """``['label: 0.87', ...]`` lines for :func:`draw_text_lines`.

    Example:
        >>> format_action_lines(['wave', 'clap'], [0.87, 0.1])
        ['wave: 0.87', 'clap: 0.10']
    """
    if len(labels) != len(scores):
        raise ValueError(f'{len(labels)} labels but {len(scores)} scores')
    return [f'{label}: {float(score):.2f}'
            for label, score in zip(labels, scores)]


def draw_text_lines(frame: np.ndarray,
                    lines: Sequence[str],
                    origin: Tuple[int, int] = (4, 4),
                    color: Color = (255, 255, 255),
                    background: Optional[Color] = (0, 0, 0),
                    font_scale: Optional[float] = None) -> np.ndarray:
    """Write lines of text from the top-left ``origin`` downwards, each on
    a filled box (``background=None`` for none) so it stays readable on
    any video.

    Args:
        frame (np.ndarray): BGR uint8 ``(H, W, 3)``; not modified.
        lines (Sequence[str]): Text lines (ASCII: OpenCV's Hershey font).
        origin (tuple[int, int]): ``(x, y)`` of the top-left corner.
        color (tuple): Text colour (BGR). Defaults to white.
        background (tuple, optional): Box colour. Defaults to black.
        font_scale (float, optional): From the frame size when None.

    Returns:
        np.ndarray: A new frame with the text.
    """
    _check_frame(frame)
    _, thickness, auto_scale = _sizes(frame)
    scale = auto_scale if font_scale is None else font_scale
    font = cv2.FONT_HERSHEY_SIMPLEX
    out = frame.copy()
    x, y = int(origin[0]), int(origin[1])
    for line in lines:
        (w, h), base = cv2.getTextSize(str(line), font, scale, thickness)
        if background is not None:
            cv2.rectangle(out, (x, y), (x + w + 2, y + h + base + 2),
                          background, -1)
        cv2.putText(out, str(line), (x + 1, y + h + 1), font, scale, color,
                    thickness, cv2.LINE_AA)
        y += h + base + 4
    return out


def overlay_frame(frame: np.ndarray,
                  keypoints: Optional[np.ndarray] = None,
                  scores: Optional[np.ndarray] = None,
                  lines: Sequence[str] = (),
                  kpt_thr: float = 0.3,
                  person_ids: Optional[Sequence[int]] = None) -> np.ndarray:
    """Skeletons (if any) and text lines on one frame.

    Example:
        >>> frame = np.zeros((64, 64, 3), np.uint8)
        >>> overlay_frame(frame, np.zeros((0, 17, 2)), None, ['jump: 0.50']
        ...               ).shape
        (64, 64, 3)
    """
    out = frame
    if keypoints is not None and len(keypoints):
        out = draw_skeletons(out, keypoints, scores, kpt_thr,
                             person_ids=person_ids)
    if lines:
        out = draw_text_lines(out, lines)
    if out is frame:
        _check_frame(frame)
        out = frame.copy()
    return out
