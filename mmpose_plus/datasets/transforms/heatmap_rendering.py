"""Vectorised numpy rendering of PoseC3D pseudo-heatmap volumes.

These are pure functions (no transform state), used by
:class:`~mmpose_plus.datasets.transforms.GeneratePoseTarget` and mirrored
on torch by
:func:`~mmpose_plus.models.data_preprocessors.render_heatmaps_torch`.
They reproduce mmaction2 1.1.0's ``GeneratePoseTarget`` maps (max abs
difference below 1e-5) without its Python loop over frames x joints x persons.

Rendering rules (the contract the tests check against mmaction2):

* A joint with value ``s`` (its score, or 1 without scores) at ``(cx, cy)``
  draws ``s * exp(-((x - cx)^2 + (y - cy)^2) / (2 sigma^2))`` on the pixels
  ``x`` in ``[max(trunc(cx - 3 sigma), 0), min(trunc(cx + 3 sigma) + 1, W))``
  (likewise for ``y``); pixels outside that window stay untouched. ``trunc``
  rounds toward zero, and the bounds are computed in float32 exactly as
  the reference does (a pixel more or less in a window would change the
  map by up to 1e-2).
* A limb (a, b) draws ``min(s_a, s_b) * exp(-d^2 / (2 sigma^2))`` with ``d``
  the distance to the segment, on the bounding box of both joints grown by
  ``3 sigma`` with the same truncation. A limb shorter than one pixel
  (squared length < 1) draws the keypoint gaussian of joint ``a`` with
  value ``s_a``.
* Joints (limbs) whose value is below ``eps`` (1e-4) are not drawn; persons
  are merged by a pixel-wise maximum.
* Keypoints outside the image are clipped by the windows above: a gaussian
  is cut at the image border and a keypoint farther than ``3 sigma``
  outside draws nothing.
* Non-finite input is never turned into NaN maps: a joint whose
  coordinates or score are not finite is treated as absent (not drawn),
  and coordinates are clamped to +-1e6 px (no image is that large) so
  that squared distances neither overflow nor lose all precision in
  float32. The transforms decide whether such input is an error before
  calling these functions (see :func:`invalid_joint_mask`).

The speed comes from (1) separable 1-D gaussians on a fixed small window per
joint, (2) a ragged flat list of exactly the pixels in each limb's window,
(3) writing the first person by plain assignment and merging the others
with ``np.maximum.at`` on the flat output, and (4) chunks small enough for
the allocator to recycle their temporaries.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'COCO_SKELETON', 'COCO_LEFT_KP', 'COCO_RIGHT_KP', 'COCO_LEFT_LIMB',
    'COCO_RIGHT_LIMB', 'SCORE_EPS', 'MAX_COORD', 'heatmap_canvas',
    'flip_channel_indices', 'invalid_joint_mask', 'render_keypoint_heatmaps',
    'render_limb_heatmaps', 'render_pose_heatmaps', 'flip_heatmaps',
    'PoseTargetOptions'
]

# COCO-17 limbs and left/right pairs (the defaults of PoseC3D).
COCO_SKELETON = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9),
                 (0, 6), (6, 8), (8, 10), (5, 11), (11, 13), (13, 15), (6, 12),
                 (12, 14), (14, 16), (11, 12))
COCO_LEFT_KP = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT_KP = (2, 4, 6, 8, 10, 12, 14, 16)
COCO_LEFT_LIMB = (0, 2, 4, 5, 6, 10, 11, 12)
COCO_RIGHT_LIMB = (1, 3, 7, 8, 9, 13, 14, 15)

# Joints whose value is below this are not drawn.
SCORE_EPS = 1e-4
# Coordinates are clamped to +-MAX_COORD pixels before rendering.
MAX_COORD = 1e6


def heatmap_canvas(img_shape: Sequence[int],
                   scaling: float = 1.) -> Tuple[int, int]:
    """Heatmap size ``(h, w)`` for an image of ``img_shape`` at ``scaling``.

    Example:
        >>> heatmap_canvas((224, 224), 0.25)
        (56, 56)
    """
    h, w = img_shape[:2]
    return int(h * scaling + 0.5), int(w * scaling + 0.5)


def flip_channel_indices(
        num_kp: int,
        num_limbs: int,
        with_kp: bool = True,
        with_limb: bool = False,
        left_kp: Sequence[int] = COCO_LEFT_KP,
        right_kp: Sequence[int] = COCO_RIGHT_KP,
        left_limb: Sequence[int] = COCO_LEFT_LIMB,
        right_limb: Sequence[int] = COCO_RIGHT_LIMB) -> np.ndarray:
    """Channel permutation that goes with a horizontal flip.

    Channels are laid out as ``[keypoints (num_kp), limbs (num_limbs)]``
    (either part may be absent); left and right channels swap.

    Example:
        >>> flip_channel_indices(3, 0, left_kp=(1, ), right_kp=(2, ))
        array([0, 2, 1])
    """
    parts = []
    for enabled, num, left, right in ((with_kp, num_kp, left_kp, right_kp),
                                      (with_limb, num_limbs, left_limb,
                                       right_limb)):
        if not enabled:
            continue
        perm = np.arange(num, dtype=np.int64)
        for a, b in zip(left, right):
            if not (0 <= a < num and 0 <= b < num):
                raise ValueError(f'left/right index pair ({a}, {b}) is out '
                                 f'of range for {num} channels')
            perm[a], perm[b] = b, a
        parts.append(perm + sum(len(p) for p in parts))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


class PoseTargetOptions:
    """Rendering options shared by the pipeline transform
    (``GeneratePoseTarget``) and the on-device data preprocessor
    (``HeatmapDataPreprocessor``), checked and stored the same way so that
    one config block drives either path.
    """

    def _set_target_options(self, sigma: float, use_score: bool,
                            with_kp: bool, with_limb: bool,
                            skeletons: Sequence[Sequence[int]], double: bool,
                            left_kp: Sequence[int], right_kp: Sequence[int],
                            left_limb: Sequence[int],
                            right_limb: Sequence[int],
                            scaling: float) -> None:
        if not (with_kp or with_limb):
            raise ValueError(
                'at least one of with_kp and with_limb must be True')
        if sigma <= 0:
            raise ValueError(f'sigma must be positive, got {sigma}')
        if scaling <= 0:
            raise ValueError(f'scaling must be positive, got {scaling}')
        self.sigma = sigma
        self.use_score = use_score
        self.with_kp = with_kp
        self.with_limb = with_limb
        self.skeletons = tuple(tuple(limb) for limb in skeletons)
        self.double = double
        self.left_kp, self.right_kp = tuple(left_kp), tuple(right_kp)
        self.left_limb, self.right_limb = tuple(left_limb), tuple(right_limb)
        self.scaling = scaling

    def flip_channels(self, num_kp: int) -> np.ndarray:
        """Channel permutation of a flipped volume with ``num_kp`` joints
        (see :func:`flip_channel_indices`)."""
        return flip_channel_indices(num_kp, len(self.skeletons), self.with_kp,
                                    self.with_limb, self.left_kp,
                                    self.right_kp, self.left_limb,
                                    self.right_limb)


def invalid_joint_mask(keypoints: np.ndarray,
                       scores: Optional[np.ndarray] = None,
                       eps: float = SCORE_EPS) -> np.ndarray:
    """Joints that carry corrupt values, shape ``(M, T, V)``.

    A joint is invalid when its score is not finite, or when its
    coordinates are not finite although its score says it is present
    (``score >= eps``, or no scores at all). Non-finite coordinates with a
    score below ``eps`` are the usual way to mark a missing joint and are
    not flagged.

    Example:
        >>> kp = np.zeros((1, 2, 3, 2)); kp[0, 1, 2, 0] = np.nan
        >>> invalid_joint_mask(kp).nonzero()
        (array([0]), array([1]), array([2]))
    """
    keypoints = np.asarray(keypoints)
    bad_xy = ~(np.isfinite(keypoints[..., 0]) & np.isfinite(keypoints[..., 1]))
    if scores is None:
        return bad_xy
    scores = np.asarray(scores)
    return ~np.isfinite(scores) | (bad_xy & (scores >= eps))


def _joint_values(keypoints: np.ndarray, scores: Optional[np.ndarray],
                  eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """Float32 coordinates ``(M, T, V, 2)`` and values ``(M, T, V)``.

    Absent joints (value below eps, non-finite score or coordinates) get
    value 0 and coordinates 0, so later arithmetic never sees NaN.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 4 or keypoints.shape[-1] < 2:
        raise ValueError('keypoints must have shape (M, T, V, 2 or 3), got '
                         f'{keypoints.shape}')
    coords = keypoints[..., :2].astype(np.float32)
    finite = np.isfinite(coords[..., 0]) & np.isfinite(coords[..., 1])
    if scores is None:
        values = finite.astype(np.float32)
    else:
        scores = np.asarray(scores)
        if scores.shape != coords.shape[:3]:
            raise ValueError(f'scores must have shape {coords.shape[:3]} '
                             f'(M, T, V), got {scores.shape}')
        # Compared in the scores' own dtype, like the reference.
        keep = finite & np.isfinite(scores) & (scores >= eps)
        values = np.where(keep, scores, 0).astype(np.float32)
    if not finite.all():
        coords[~finite] = 0
    # Squared float32 distances of absurd coordinates overflow (or cancel
    # to garbage); no image is that large, so no real map changes.
    np.clip(coords, -MAX_COORD, MAX_COORD, out=coords)
    return coords, values


def _windows(lo_c: np.ndarray, hi_c: np.ndarray, size: int,
             radius: np.float32) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel range ``[lo, hi)`` covering ``[lo_c - r, hi_c + r]`` on an axis.

    Truncation toward zero (not floor) is what the reference's ``int()``
    does; clipping both ends to ``[0, size]`` keeps empty ranges empty.
    """
    # Clipping the float before the (truncating) integer cast gives the same
    # result as clipping after it, and keeps huge values castable.
    size_f = np.asarray(size, dtype=np.float32)
    lo = np.maximum(lo_c - radius, 0)
    np.minimum(lo, size_f, out=lo)
    hi = np.maximum(hi_c + radius, -1)
    np.minimum(hi, size_f, out=hi)
    hi = hi.astype(np.int64)
    hi += 1
    return lo.astype(np.int64), np.minimum(hi, size, out=hi)


# Pixels processed per vectorised step. Temporaries of this size are
# recycled by the allocator; whole-clip temporaries (hundreds of KB each)
# would be fresh memory on every call, and page faults then cost more
# than the arithmetic.
_CHUNK = 16384


def _groups(counts: np.ndarray, chunk: int = _CHUNK) -> np.ndarray:
    """Item boundaries splitting a list into runs of about ``chunk`` pixels.

    ``counts`` are the pixel counts of the items; an item larger than
    ``chunk`` forms a run of its own.
    """
    starts = np.cumsum(counts) - counts
    cut = np.flatnonzero(np.diff(starts // chunk)) + 1
    return np.concatenate([[0], cut, [len(counts)]])


def _draw_keypoints(out: np.ndarray, channel_offset: int, coords: np.ndarray,
                    values: np.ndarray, sigma: float) -> None:
    """Draw keypoint gaussians into channels ``offset + v`` of ``out``.

    Those channels must still be zero: the first person is written
    directly, later persons are merged by maximum.
    """
    num_frames, num_channels, height, width = out.shape
    num_joints = values.shape[2]
    if out.size == 0 or values.size == 0:
        return
    size = np.array([[width], [height]])
    # Drawn joints in (person, frame, joint) order, as (x, y) rows: the long
    # axis is kept innermost so that every operation below runs over long
    # contiguous loops rather than over tiny k-pixel windows.
    vals = values.ravel()
    joint = np.flatnonzero(vals)
    if joint.size == 0:
        return
    centre = np.ascontiguousarray(coords.reshape(-1, 2)[joint].T)
    lo, hi = _windows(centre, centre, size, np.float32(3 * sigma))

    # Separable gaussian on a kx x ky window per joint, shifted inside the
    # image so that the pixels of one joint never repeat; window pixels
    # outside the reference's [lo, hi) get 0.
    kx, ky = (hi - lo).max(1)
    if kx <= 0 or ky <= 0:
        return
    start = np.minimum(lo, size - [[kx], [ky]])
    pos = start[:, None, :] + np.arange(max(kx, ky))[:, None]  # (2, k, A)
    prof = pos.astype(np.float32)
    prof -= centre[:, None, :]
    prof *= prof
    prof *= np.float32(-0.5 / sigma**2)
    np.exp(prof, out=prof)
    prof *= (pos >= lo[:, None, :]) & (pos < hi[:, None, :])
    xs, gx = pos[0, :kx], prof[0, :kx]
    ys, gy = pos[1, :ky], prof[1, :ky]
    gy *= vals[joint]
    frame, v = np.divmod(joint % (num_frames * num_joints), num_joints)
    v += frame * num_channels + channel_offset
    rows = (v * height + ys) * width  # (ky, A)

    flat = out.reshape(-1)
    # The first person's windows never overlap (one plane per joint and
    # frame): plain assignment. Later persons need a maximum.
    first_end = int(np.searchsorted(joint, num_frames * num_joints))
    step = max(1, _CHUNK // (kx * ky))
    cuts = sorted({*range(0, joint.size, step), first_end, joint.size})
    for i, j in zip(cuts[:-1], cuts[1:]):
        patch = (gy[:, None, i:j] * gx[None, :, i:j]).ravel()
        index = (rows[:, None, i:j] + xs[None, :, i:j]).ravel()
        if j <= first_end:
            flat[index] = patch
        else:
            np.maximum.at(flat, index, patch)


def _ragged_pixels(lox: np.ndarray, loy: np.ndarray, w: np.ndarray,
                   h: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of every pixel of every window, window after window.

    Built from repeats and running offsets only (integer division is
    slower than the rendering itself).
    """
    row_y = np.repeat(loy - (np.cumsum(h) - h), h) + np.arange(h.sum())
    row_w = np.repeat(w, h)
    row_x = np.repeat(lox, h) - (np.cumsum(row_w) - row_w)
    xs = np.repeat(row_x, row_w) + np.arange(row_w.sum())
    ys = np.repeat(row_y, row_w)
    return xs, ys


def _draw_limbs(out: np.ndarray, channel_offset: int, coords: np.ndarray,
                values: np.ndarray, skeleton: np.ndarray,
                sigma: float) -> None:
    """Max-draw limb maps into channels ``offset + l`` of ``out``."""
    num_frames, num_channels, height, width = out.shape
    if out.size == 0 or values.size == 0 or len(skeleton) == 0:
        return
    a_idx, b_idx = skeleton[:, 0], skeleton[:, 1]
    sv, ev = values[:, :, a_idx], values[:, :, b_idx]  # (M, T, L)
    sx, sy = coords[:, :, a_idx, 0], coords[:, :, a_idx, 1]
    ex, ey = coords[:, :, b_idx, 0], coords[:, :, b_idx, 1]
    d2ab = (sx - ex)**2 + (sy - ey)**2
    value = np.minimum(sv, ev)
    present = value > 0
    # A limb shorter than a pixel is drawn as the start joint's gaussian
    # with the start joint's value: collapse it onto its start point.
    short = d2ab < 1
    if short.any():
        value = np.where(short, sv, value)
        ex, ey = np.where(short, sx, ex), np.where(short, sy, ey)
        d2ab = np.where(short, np.float32(1), d2ab)
    radius = np.float32(3 * sigma)
    lox, hix = _windows(np.minimum(sx, ex), np.maximum(sx, ex), width, radius)
    loy, hiy = _windows(np.minimum(sy, ey), np.maximum(sy, ey), height, radius)
    active = present & (hix > lox) & (hiy > loy)
    m, t, k = np.nonzero(active)
    if m.size == 0:
        return

    lox, loy = lox[m, t, k], loy[m, t, k]
    w, h = hix[m, t, k] - lox, hiy[m, t, k] - loy
    n = w * h
    sx, sy, ex, ey, d2ab, value = (arr[m, t, k]
                                   for arr in (sx, sy, ex, ey, d2ab, value))
    plane = (t * num_channels + (k + channel_offset)) * height
    scale = np.float32(-2 * sigma**2)
    flat = out.reshape(-1)
    # As for keypoints: the first person is assigned, later ones maximised.
    first_end = int(np.searchsorted(m, 1))
    bounds = sorted({*_groups(n).tolist(), first_end})
    for i, j in zip(bounds[:-1], bounds[1:]):
        sl = slice(i, j)
        xs, ys = _ragged_pixels(lox[sl], loy[sl], w[sl], h[sl])
        cnt = n[sl]
        lsx, lsy, lex, ley, ld2 = (np.repeat(arr[sl], cnt)
                                   for arr in (sx, sy, ex, ey, d2ab))
        px, py = xs.astype(np.float32), ys.astype(np.float32)
        dx, dy = px - lsx, py - lsy
        d2s = dx * dx + dy * dy
        dx, dy = px - lex, py - ley
        d2e = dx * dx + dy * dy
        # Same float32 expression as the reference for the projection
        # coefficient; clamping it to [0, 1] picks the nearer end point
        # exactly where the reference switches to it.
        coeff = (d2s - d2e + ld2) / 2. / ld2
        np.clip(coeff, 0, 1, out=coeff)
        dx = px - (lsx + coeff * (lex - lsx))
        dy = py - (lsy + coeff * (ley - lsy))
        d2 = dx * dx + dy * dy
        d2 /= scale
        patch = np.exp(d2, out=d2)
        patch *= np.repeat(value[sl], cnt)
        index = np.repeat(plane[sl], cnt) + ys
        index *= width
        index += xs
        if j <= first_end:
            flat[index] = patch
        else:
            np.maximum.at(flat, index, patch)


def _check_canvas(img_hw: Sequence[int]) -> Tuple[int, int]:
    if len(img_hw) != 2 or min(img_hw) < 0:
        raise ValueError(f'img_hw must be (height, width), got {img_hw}')
    return int(img_hw[0]), int(img_hw[1])


def render_pose_heatmaps(
        keypoints: np.ndarray,
        scores: Optional[np.ndarray],
        img_hw: Sequence[int],
        sigma: float = 0.6,
        with_kp: bool = True,
        with_limb: bool = False,
        skeleton: Sequence[Sequence[int]] = COCO_SKELETON,
        eps: float = SCORE_EPS,
        flip_indices: Optional[Sequence[int]] = None) -> np.ndarray:
    """Render keypoint and/or limb heatmaps for one clip.

    Args:
        keypoints (np.ndarray): ``(M, T, V, 2)`` (extra trailing columns are
            ignored) in heatmap pixels, i.e. already scaled to ``img_hw``.
        scores (np.ndarray, optional): ``(M, T, V)`` joint values; None draws
            every joint with value 1.
        img_hw (tuple[int]): Heatmap ``(H, W)``.
        sigma (float): Gaussian sigma in heatmap pixels.
        with_kp (bool): Render V keypoint channels.
        with_limb (bool): Render ``len(skeleton)`` limb channels (after the
            keypoint channels when both are on).
        skeleton (Sequence): Limbs as joint index pairs.
        eps (float): Values below this are not drawn.
        flip_indices (Sequence[int], optional): If given, the horizontally
            flipped volume with channels permuted by it (see
            :func:`flip_channel_indices`) is appended along T.

    Returns:
        np.ndarray: float32 ``(T, C, H, W)``, or ``(2T, C, H, W)`` with
        ``flip_indices``.

    Example:
        >>> kp = np.random.rand(2, 48, 17, 2).astype(np.float32) * 56
        >>> render_pose_heatmaps(kp, None, (56, 56)).shape
        (48, 17, 56, 56)
    """
    if not (with_kp or with_limb):
        raise ValueError('at least one of with_kp and with_limb must be True')
    height, width = _check_canvas(img_hw)
    coords, values = _joint_values(keypoints, scores, eps)
    num_joints = coords.shape[2]
    skel = np.asarray(skeleton, dtype=np.int64).reshape(-1, 2)
    if with_limb and skel.size and not (0 <= skel.min()
                                        and skel.max() < num_joints):
        raise ValueError(f'skeleton refers to joints outside [0, '
                         f'{num_joints}): {skeleton}')
    num_channels = (num_joints if with_kp else 0) + (len(skel)
                                                     if with_limb else 0)
    num_frames = coords.shape[1]
    copies = 1 if flip_indices is None else 2
    out = np.zeros((copies * num_frames, num_channels, height, width),
                   np.float32)
    first = out[:num_frames]
    if with_kp:
        _draw_keypoints(first, 0, coords, values, sigma)
    if with_limb:
        _draw_limbs(first, num_joints if with_kp else 0, coords, values, skel,
                    sigma)
    if flip_indices is not None:
        out[num_frames:] = flip_heatmaps(first, flip_indices)
    return out


def flip_heatmaps(heatmaps: np.ndarray,
                  flip_indices: Sequence[int]) -> np.ndarray:
    """Mirror ``(..., C, H, W)`` heatmaps horizontally and permute channels.

    Example:
        >>> flip_heatmaps(np.zeros((4, 17, 8, 8)), np.arange(17)).shape
        (4, 17, 8, 8)
    """
    flip_indices = np.asarray(flip_indices, dtype=np.int64)
    if flip_indices.shape != (heatmaps.shape[-3], ):
        raise ValueError(f'flip_indices must have {heatmaps.shape[-3]} '
                         f'entries, got {flip_indices.shape}')
    return heatmaps[..., flip_indices, :, ::-1]


def render_keypoint_heatmaps(keypoints: np.ndarray,
                             scores: Optional[np.ndarray],
                             img_hw: Sequence[int],
                             sigma: float = 0.6,
                             eps: float = SCORE_EPS) -> np.ndarray:
    """Keypoint heatmaps ``(T, V, H, W)``, persons merged by maximum.

    See :func:`render_pose_heatmaps` for the arguments.

    Example:
        >>> kp = np.full((1, 1, 17, 2), 4.0, np.float32)
        >>> hm = render_keypoint_heatmaps(kp, None, (8, 8))
        >>> hm.shape, float(hm[0, 0, 4, 4])
        ((1, 17, 8, 8), 1.0)
    """
    return render_pose_heatmaps(keypoints,
                                scores,
                                img_hw,
                                sigma,
                                True,
                                False,
                                eps=eps)


def render_limb_heatmaps(keypoints: np.ndarray,
                         scores: Optional[np.ndarray],
                         img_hw: Sequence[int],
                         skeleton: Sequence[Sequence[int]] = COCO_SKELETON,
                         sigma: float = 0.6,
                         eps: float = SCORE_EPS) -> np.ndarray:
    """Limb heatmaps ``(T, L, H, W)``, persons merged by maximum.

    See :func:`render_pose_heatmaps` for the arguments.

    Example:
        >>> kp = np.random.rand(1, 4, 17, 2).astype(np.float32) * 32
        >>> render_limb_heatmaps(kp, None, (32, 32)).shape
        (4, 17, 32, 32)
    """
    return render_pose_heatmaps(keypoints, scores, img_hw, sigma, False, True,
                                skeleton, eps)
