"""Link per-frame pose detections into person tracks.

Skeleton action recognisers expect ``keypoint`` of shape ``(M, T, V, 2)``
where person ``m`` is the same person in every frame. A pose estimator,
however, returns the people of each frame in an arbitrary order (bottom-up
grouping orders them by score, top-down by box). :func:`track_poses` turns
the per-frame lists into a fixed number of tracks:

1. consecutive frames are matched by OKS (object keypoint similarity, the
   COCO measure) or box IoU between each open track's *predicted* pose (its
   last pose moved by its last velocity, so two people walking past each
   other keep their identities) and the new detections, with the Hungarian
   algorithm (``scipy.optimize.linear_sum_assignment``) or greedily;
2. a detection left unmatched starts a new track; a track unmatched for more
   than ``max_gap`` frames is closed (a short miss does not split a person);
3. tracks are ranked by the sum of their per-frame confidences (so both
   persistence and confidence count) and the best ``max_persons`` are kept,
   in rank order. Frames where a kept person is absent hold zeros (score 0,
   the "missing" value of the skeleton pipelines).

Everything here is plain numpy: no model, no torch.
"""
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

__all__ = ['pose_similarity', 'keypoint_boxes', 'track_poses']

# COCO-17 OKS sigmas; for another joint count a uniform sigma is used.
_COCO_SIGMAS = np.array([
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062,
    0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089
])
_DEFAULT_SIGMA = 0.07


def _sigmas(num_joints: int) -> np.ndarray:
    if num_joints == len(_COCO_SIGMAS):
        return _COCO_SIGMAS
    return np.full(num_joints, _DEFAULT_SIGMA)


def keypoint_boxes(keypoints: np.ndarray, scores: np.ndarray,
                   kpt_thr: float = 0.) -> np.ndarray:
    """xyxy boxes enclosing the joints scored above ``kpt_thr``.

    Args:
        keypoints (np.ndarray): ``(N, V, 2)``.
        scores (np.ndarray): ``(N, V)``.
        kpt_thr (float): Joints with a score <= this are ignored (all joints
            are used for a person with none above it).

    Returns:
        np.ndarray: ``(N, 4)`` float64 boxes.

    Example:
        >>> kp = np.array([[[0., 0.], [4., 2.], [9., 9.]]])
        >>> keypoint_boxes(kp, np.array([[1., 1., 0.]]), 0.5).tolist()
        [[0.0, 0.0, 4.0, 2.0]]
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    valid = np.asarray(scores) > kpt_thr
    valid[~valid.any(axis=1)] = True
    big = np.where(valid[..., None], keypoints, np.inf)
    small = np.where(valid[..., None], keypoints, -np.inf)
    return np.concatenate([big.min(axis=1), small.max(axis=1)], axis=1)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy -> (N, M) IoU."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.)


def pose_similarity(kp_a: np.ndarray,
                    sc_a: np.ndarray,
                    kp_b: np.ndarray,
                    sc_b: np.ndarray,
                    metric: str = 'oks',
                    kpt_thr: float = 0.1) -> np.ndarray:
    """Pairwise similarity in [0, 1] between two sets of poses.

    ``'oks'``: COCO object keypoint similarity over the joints scored above
    ``kpt_thr`` in both poses, with the area of the first pose's keypoint
    box as the object scale (0 when no joint is shared). ``'iou'``: IoU of
    the keypoint boxes.

    Args:
        kp_a, kp_b (np.ndarray): ``(N, V, 2)`` and ``(M, V, 2)`` keypoints.
        sc_a, sc_b (np.ndarray): ``(N, V)`` and ``(M, V)`` scores.
        metric (str): ``'oks'`` or ``'iou'``.
        kpt_thr (float): Score above which a joint counts.

    Returns:
        np.ndarray: ``(N, M)`` similarities.

    Example:
        >>> kp = np.random.rand(2, 17, 2) * 100
        >>> sim = pose_similarity(kp, np.ones((2, 17)), kp, np.ones((2, 17)))
        >>> sim.shape, bool(np.allclose(np.diag(sim), 1))
        ((2, 2), True)
    """
    if metric not in ('oks', 'iou'):
        raise ValueError(f"metric must be 'oks' or 'iou', got {metric!r}")
    kp_a = np.asarray(kp_a, dtype=np.float64)
    kp_b = np.asarray(kp_b, dtype=np.float64)
    if len(kp_a) == 0 or len(kp_b) == 0:
        return np.zeros((len(kp_a), len(kp_b)))
    box_a = keypoint_boxes(kp_a, sc_a, kpt_thr)
    if metric == 'iou':
        return _box_iou(box_a, keypoint_boxes(kp_b, sc_b, kpt_thr))
    area = np.clip(box_a[:, 2:] - box_a[:, :2], 1., None).prod(axis=-1)
    var = (2 * _sigmas(kp_a.shape[1]))**2  # (V,)
    d2 = ((kp_a[:, None] - kp_b[None])**2).sum(-1)  # (N, M, V)
    e = np.exp(-d2 / (2 * area[:, None, None] * var[None, None]))
    both = (np.asarray(sc_a)[:, None] > kpt_thr) & (np.asarray(sc_b)[None]
                                                    > kpt_thr)
    count = both.sum(-1)
    return np.where(count > 0, (e * both).sum(-1) / np.maximum(count, 1), 0.)


def _assign(sim: np.ndarray, thr: float, method: str) -> List[tuple]:
    """(row, col) pairs maximising similarity, each at least ``thr``."""
    if sim.size == 0:
        return []
    if method == 'hungarian':
        from scipy.optimize import linear_sum_assignment
        rows, cols = linear_sum_assignment(-sim)
        pairs = zip(rows.tolist(), cols.tolist())
    else:
        order = np.argsort(-sim, axis=None, kind='stable')
        used_r, used_c, pairs = set(), set(), []
        for flat in order.tolist():
            r, c = divmod(flat, sim.shape[1])
            if r in used_r or c in used_c:
                continue
            used_r.add(r)
            used_c.add(c)
            pairs.append((r, c))
    return [(r, c) for r, c in pairs if sim[r, c] >= thr]


class _Track:
    """One person: its observations (frame -> pose) and motion state."""

    def __init__(self, frame: int, kp: np.ndarray, sc: np.ndarray,
                 conf: float) -> None:
        self.frames = {frame: (kp, sc)}
        self.total = conf
        self.last = frame
        self.velocity = np.zeros(2)

    def predict(self, frame: int) -> np.ndarray:
        kp, _ = self.frames[self.last]
        return kp + self.velocity * (frame - self.last)

    def add(self, frame: int, kp: np.ndarray, sc: np.ndarray, conf: float,
            kpt_thr: float) -> None:
        prev_kp, prev_sc = self.frames[self.last]
        both = (prev_sc > kpt_thr) & (sc > kpt_thr)
        if both.any():
            # Mean translation of the shared joints per frame.
            self.velocity = (kp[both] - prev_kp[both]).mean(0) / (
                frame - self.last)
        self.frames[frame] = (kp, sc)
        self.total += conf
        self.last = frame


def _check_frame(i: int, frame: Mapping) -> tuple:
    try:
        kp = np.asarray(frame['keypoints'], dtype=np.float64)
    except KeyError:
        raise KeyError(f'track_poses: frame {i} has no "keypoints"') from None
    if kp.ndim != 3 or kp.shape[-1] < 2:
        raise ValueError(f'track_poses: frame {i}: keypoints must be '
                         f'(N, V, 2), got shape {kp.shape}')
    kp = kp[..., :2]
    sc = frame.get('keypoint_scores')
    sc = np.ones(kp.shape[:2]) if sc is None else np.asarray(
        sc, dtype=np.float64)
    if sc.shape != kp.shape[:2]:
        raise ValueError(f'track_poses: frame {i}: keypoint_scores has shape '
                         f'{sc.shape}, expected {kp.shape[:2]}')
    return kp, sc


def track_poses(frames: Sequence[Mapping],
                max_persons: Optional[int] = 2,
                metric: str = 'oks',
                method: str = 'hungarian',
                match_thr: float = 0.3,
                max_gap: int = 5,
                kpt_thr: float = 0.1,
                person_thr: float = 0.,
                num_joints: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Track people through per-frame pose detections.

    Args:
        frames (Sequence[Mapping]): One dict per frame with ``keypoints``
            ``(N, V, 2)`` and optionally ``keypoint_scores`` ``(N, V)``
            (ones when absent) — what :func:`mmpose_plus.apis.estimate_poses`
            returns. ``N`` may differ between frames and be 0.
        max_persons (int, optional): Keep at most this many tracks (the
            best ranked); None keeps all. Defaults to 2 (NTU's maximum).
        metric (str): Frame-to-frame similarity: ``'oks'`` or ``'iou'``
            (keypoint boxes). Defaults to ``'oks'``.
        method (str): ``'hungarian'`` (optimal assignment) or ``'greedy'``
            (best pairs first). Defaults to ``'hungarian'``.
        match_thr (float): Minimum similarity to continue a track.
            Defaults to 0.3.
        max_gap (int): A track can skip up to this many frames without a
            match before it is closed. Defaults to 5.
        kpt_thr (float): Joints scored at or below this are ignored for
            matching. Defaults to 0.1.
        person_thr (float): Detections whose mean keypoint score is at or
            below this are dropped before tracking (a negative value keeps
            all). Defaults to 0.
        num_joints (int, optional): ``V`` when every frame is empty (else
            taken from the detections). Defaults to None (17).

    Returns:
        dict: ``keypoint`` ``(M, T, V, 2)`` float32 and ``keypoint_score``
        ``(M, T, V)`` float32 (zeros where the person is absent),
        ``track_score`` ``(M,)`` float32 (sum of per-frame mean keypoint
        scores, the ranking key) and ``num_tracks`` (int, before the
        ``max_persons`` cut). ``M = min(max_persons, number of tracks)``.

    Example:
        >>> pose = np.random.default_rng(0).uniform(0, 100, (1, 17, 2))
        >>> walk = [dict(keypoints=pose + 2 * t,
        ...              keypoint_scores=np.ones((1, 17))) for t in range(5)]
        >>> out = track_poses(walk, max_persons=2)
        >>> out['keypoint'].shape, out['keypoint_score'].shape
        ((1, 5, 17, 2), (1, 5, 17))
    """
    if metric not in ('oks', 'iou'):
        raise ValueError(f"track_poses: metric must be 'oks' or 'iou', got "
                         f'{metric!r}')
    if method not in ('hungarian', 'greedy'):
        raise ValueError("track_poses: method must be 'hungarian' or "
                         f"'greedy', got {method!r}")
    if max_persons is not None and max_persons < 0:
        raise ValueError(
            f'track_poses: max_persons must be >= 0, got {max_persons}')
    num_frames = len(frames)
    finished: List[_Track] = []
    active: List[_Track] = []
    joints = num_joints
    for t, frame in enumerate(frames):
        kp, sc = _check_frame(t, frame)
        if len(kp):
            if joints is None:
                joints = kp.shape[1]
            elif kp.shape[1] != joints:
                raise ValueError(f'track_poses: frame {t} has {kp.shape[1]} '
                                 f'joints, earlier frames {joints}')
        conf = sc.mean(axis=1) if sc.size else np.zeros(len(kp))
        keep = conf > person_thr
        kp, sc, conf = kp[keep], sc[keep], conf[keep]

        # Close tracks that have been missing for too long.
        still = []
        for track in active:
            (still if t - track.last <= max_gap + 1 else finished).append(
                track)
        active = still

        pairs = []
        if active and len(kp):
            pred = np.stack([tr.predict(t) for tr in active])
            pred_sc = np.stack([tr.frames[tr.last][1] for tr in active])
            sim = pose_similarity(pred, pred_sc, kp, sc, metric, kpt_thr)
            pairs = _assign(sim, match_thr, method)
        matched = set()
        for r, c in pairs:
            active[r].add(t, kp[c], sc[c], float(conf[c]), kpt_thr)
            matched.add(c)
        for c in range(len(kp)):
            if c not in matched:
                active.append(_Track(t, kp[c], sc[c], float(conf[c])))
    tracks = finished + active

    joints = 17 if joints is None else joints
    # Rank: total confidence (persistence x confidence); ties go to the
    # track that appeared first.
    order = sorted(range(len(tracks)),
                   key=lambda i: (-tracks[i].total, min(tracks[i].frames)))
    if max_persons is not None:
        order = order[:max_persons]
    keypoint = np.zeros((len(order), num_frames, joints, 2), np.float32)
    score = np.zeros((len(order), num_frames, joints), np.float32)
    for m, i in enumerate(order):
        for t, (kp, sc) in tracks[i].frames.items():
            keypoint[m, t] = kp
            score[m, t] = sc
    return dict(
        keypoint=keypoint,
        keypoint_score=score,
        track_score=np.array([tracks[i].total for i in order], np.float32),
        num_tracks=len(tracks))
