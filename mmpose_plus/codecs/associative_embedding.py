"""Associative-embedding codec of bottom-up pose estimation (HigherHRNet).

Encoding (one image): Gaussian heatmaps ``(K, H, W)`` for every output
resolution plus the ``(max_people, K, 2)`` tag-loss indices
``[y * W + x, valid]`` at the tag resolution.

Decoding (Newell et al., "Associative Embedding", NeurIPS 2017, with the
test-time recipe of HigherHRNet):

1. heatmap NMS: keep pixels equal to the max of their ``nms_kernel`` window;
2. top-k (30) candidates per joint and their tags;
3. joint-by-joint grouping in a fixed joint order: the candidates of a joint
   above the detection threshold are matched to the existing people with
   the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) on the
   cost ``round(||tag - mean tag of the person||) * 100 - score``; a match
   farther than the tag threshold, or an unmatched candidate, starts a new
   person;
4. adjustment: a quarter pixel towards the higher neighbour;
5. person score: mean joint score of the grouped joints (missing = 0);
6. refinement: a missing joint is looked up at the arg-max of
   ``heatmap - round(tag distance to the person's mean tag)`` and kept if
   its heatmap value is positive.

Where the time goes in the reference decoders, and what is done instead
(same results, see ``benchmarks/bench_pose.py``):

* steps 1-2 only look at pixels above the detection threshold (candidates
  below it are dropped by the grouping anyway) instead of max-pooling every
  pixel of every map;
* step 3 keeps per-person state in preallocated arrays (tag sums, counts,
  joints) updated with fancy indexing: the only Python loop is over the 17
  joints, each with one vectorised cost matrix and one scipy assignment;
* step 6 answers all (person, joint) look-ups of an image at once with an
  exact branch-and-bound over 16 x 16 tiles, instead of a whole-map search
  per person and joint.

Tag maps use the channel layout ``(L * K, H, W)`` with channel ``l * K + k``
holding tag component ``l`` of joint ``k``: the flip and multi-scale helpers
stack extra tag components by concatenating blocks of ``K`` channels.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmpose_plus.registry import KEYPOINT_CODECS
from .gaussian_heatmap import (_check_flip_indices, _check_keypoints,
                               _check_size, _quarter_offsets,
                               encode_gaussian_heatmaps, flip_heatmaps)

__all__ = [
    'COCO_KEYPOINT_ORDER', 'encode_keypoint_indices', 'heatmap_nms',
    'find_candidates', 'group_keypoints', 'adjust_keypoints',
    'fill_missing_keypoints', 'decode_associative_embedding', 'aggregate_flip',
    'aggregate_multiscale', 'AssociativeEmbedding'
]

ArrayLike = Union[np.ndarray, torch.Tensor]
Size = Tuple[int, int]

# Grouping starts at the head and shoulders, then hips, then limbs outwards
# (nose, eyes, ears, shoulders, hips, elbows, wrists, knees, ankles).
COCO_KEYPOINT_ORDER = (0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15,
                       16)

# Upper bound on the elements of one intermediate array when filling missing
# joints, to keep memory flat on large (image-sized) heatmaps.
_FILL_CHUNK = 1 << 20
# Tile size of the branch-and-bound search that fills missing joints (16
# measured fastest on 256 px maps among 8, 16 and 32).
_TILE = 16


def _as_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return x.float().numpy() if x.dtype != torch.float32 else x.numpy()
    return np.asarray(x, dtype=np.float32)


def encode_keypoint_indices(keypoints: np.ndarray,
                            visible: Optional[np.ndarray],
                            heatmap_size: Size,
                            max_people: int = 30) -> np.ndarray:
    """Flat heatmap indices of the joints, for the associative-embedding loss.

    Args:
        keypoints (np.ndarray): ``(N, K, 2)`` coordinates in heatmap pixels
            of the tag map.
        visible (np.ndarray, optional): ``(N, K)``; ``> 0.5`` is visible.
        heatmap_size (tuple): ``(W, H)`` of the tag map.
        max_people (int): Rows of the output; people beyond it are dropped.

    Returns:
        np.ndarray: ``(max_people, K, 2)`` int64, ``[y * W + x, valid]`` with
        ``(x, y)`` the nearest pixel; ``valid`` is 0 for padding rows,
        invisible joints and joints outside the map (index then 0).

    Example:
        >>> encode_keypoint_indices(np.array([[[3., 2.]]]), None, (8, 8),
        ...                         max_people=2).tolist()
        [[[19, 1]], [[0, 0]]]
    """
    keypoints, visible = _check_keypoints(keypoints, visible)
    W, H = _check_size(heatmap_size, 'heatmap_size')
    N, K = keypoints.shape[:2]
    out = np.zeros((max_people, K, 2), dtype=np.int64)
    n = min(N, max_people)
    if n == 0:
        return out
    xy = np.floor(np.nan_to_num(keypoints[:n]) + 0.5).astype(np.int64)
    x, y = xy[..., 0], xy[..., 1]
    valid = (visible[:n] > 0.5) & (x >= 0) & (x < W) & (y >= 0) & (y < H)
    out[:n, :, 0] = np.where(valid, y * W + x, 0)
    out[:n, :, 1] = valid
    return out


def heatmap_nms(heatmaps: ArrayLike, kernel_size: int = 5) -> np.ndarray:
    """Zero every pixel that is not the maximum of its
    ``kernel_size x kernel_size`` window (ties all survive).

    Same result as comparing with ``F.max_pool2d(x, kernel_size, 1,
    kernel_size // 2)``, computed as two 1-D running maxima (rows, then
    columns), which is several times faster than torch's 2-D pooling on CPU.

    Args:
        heatmaps (np.ndarray | torch.Tensor): ``(..., H, W)``.
        kernel_size (int): Odd window size. Defaults to 5.

    Returns:
        np.ndarray: float32, same shape.

    Example:
        >>> heatmap_nms(np.random.rand(1, 17, 32, 32)).shape
        (1, 17, 32, 32)
    """
    if kernel_size % 2 != 1 or kernel_size < 1:
        raise ValueError(f'kernel_size must be a positive odd integer, got '
                         f'{kernel_size}')
    maps = _as_numpy(heatmaps)
    r = kernel_size // 2
    H, W = maps.shape[-2:]
    lead = maps.shape[:-2]
    # running max along x over a -inf padded copy, then along y
    padded = np.full(lead + (H, W + 2 * r), -np.inf, dtype=np.float32)
    padded[..., r:r + W] = maps
    rows = padded[..., 0:W].copy()
    for i in range(1, 2 * r + 1):
        np.maximum(rows, padded[..., i:i + W], out=rows)
    padded = np.full(lead + (H + 2 * r, W), -np.inf, dtype=np.float32)
    padded[..., r:r + H, :] = rows
    peak = padded[..., 0:H, :].copy()
    for i in range(1, 2 * r + 1):
        np.maximum(peak, padded[..., i:i + H, :], out=peak)
    return np.where(peak == maps, maps, np.float32(0))


def find_candidates(
        heatmaps: ArrayLike,
        tags: ArrayLike,
        topk: int = 30,
        nms_kernel: int = 5,
        val_thr: float = 0.1) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per joint, the ``topk`` strongest NMS peaks above ``val_thr`` and
    their tags.

    The result equals :func:`heatmap_nms`, then top-k, then dropping values
    ``<= val_thr`` (what the grouping does), but only pixels above the
    threshold are examined: they are first compared with their 4 neighbours
    and the few survivors with the rest of the window, instead of pooling
    every pixel of every map.

    Args:
        heatmaps (np.ndarray | torch.Tensor): ``(B, K, H, W)``.
        tags (np.ndarray | torch.Tensor): ``(B, L * K, H, W)``.
        topk (int): Candidates per joint. Defaults to 30.
        nms_kernel (int): Odd NMS window. Defaults to 5.
        val_thr (float): Detection threshold. Defaults to 0.1.

    Returns:
        tuple: ``vals`` ``(B, K, topk)`` descending, ``-inf`` where a joint
        has fewer peaks; ``tags`` ``(B, K, topk, L)``; ``locs``
        ``(B, K, topk, 2)`` int64 (x, y).

    Example:
        >>> hm = np.zeros((1, 2, 8, 8), np.float32)
        >>> hm[0, 0, 2, 3], hm[0, 0, 6, 6], hm[0, 1, 4, 4] = 0.75, 0.5, 0.25
        >>> vals, tags, locs = find_candidates(hm, np.ones((1, 2, 8, 8)), 2)
        >>> vals.tolist()
        [[[0.75, 0.5], [0.25, -inf]]]
        >>> locs[0, 0].tolist(), tags.shape
        ([[3, 2], [6, 6]], (1, 2, 2, 1))
    """
    if nms_kernel % 2 != 1 or nms_kernel < 1:
        raise ValueError(f'nms_kernel must be a positive odd integer, got '
                         f'{nms_kernel}')
    maps, tag_maps = _as_numpy(heatmaps), _as_numpy(tags)
    B, K, H, W = maps.shape
    L = tag_maps.shape[1] // K
    flat = maps.reshape(B * K, H * W)
    # 1-D flatnonzero is ~10x faster than a 2-D nonzero here
    m, p = np.divmod(np.flatnonzero(flat > val_thr), H * W)
    v = flat[m, p]
    y, x = p // W, p % W
    r = nms_kernel // 2
    window = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
              if (dy, dx) != (0, 0)]
    window.sort(key=lambda d: abs(d[0]) + abs(d[1]))  # 4-neighbours first
    for offsets in (window[:4], window[4:]):
        keep = np.ones(len(v), dtype=bool)
        for dy, dx in offsets:
            # clipping keeps the offset inside the window: same maximum
            yy, xx = np.clip(y + dy, 0, H - 1), np.clip(x + dx, 0, W - 1)
            keep &= v >= flat[m, yy * W + xx]
        m, p, v, y, x = m[keep], p[keep], v[keep], y[keep], x[keep]
    # top-k per map: sort by map, then descending value (stable on pixel)
    order = np.lexsort((-v, m))
    m, p, v = m[order], p[order], v[order]
    rank = np.arange(len(m)) - np.searchsorted(m, m)
    sel = rank < topk
    m, p, v, rank = m[sel], p[sel], v[sel], rank[sel]
    vals = np.full((B * K, topk), -np.inf, dtype=np.float32)
    locs = np.zeros((B * K, topk, 2), dtype=np.int64)
    cand_tags = np.zeros((B * K, topk, L), dtype=np.float32)
    vals[m, rank] = v
    locs[m, rank] = np.stack([p % W, p // W], axis=-1)
    b, k = np.divmod(m, K)
    cand_tags[m, rank] = tag_maps.reshape(B, L, K, H * W)[b, :, k, p]
    return (vals.reshape(B, K, topk), cand_tags.reshape(B, K, topk, L),
            locs.reshape(B, K, topk, 2))


def group_keypoints(
    vals: np.ndarray,
    tags: np.ndarray,
    locs: np.ndarray,
    keypoint_order: Sequence[int],
    val_thr: float = 0.1,
    tag_thr: float = 1.0,
    max_people: Optional[int] = 30,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy joint-by-joint grouping of one image's candidates.

    Args:
        vals (np.ndarray): ``(K, M)`` candidate scores.
        tags (np.ndarray): ``(K, M, L)`` candidate tags.
        locs (np.ndarray): ``(K, M, 2)`` candidate locations.
        keypoint_order (Sequence[int]): Order in which joints are grouped.
        val_thr (float): Candidates with score ``<= val_thr`` are ignored.
        tag_thr (float): Largest tag distance of an accepted match.
        max_people (int, optional): Only the first ``max_people`` people are
            offered to the matching, as in the reference decoder: later ones
            collect no further joints but are returned. ``None``: no limit.

    Returns:
        tuple: ``keypoints`` ``(G, K, 2)`` float32 (0 where missing),
        ``scores`` ``(G, K)`` float32 (0 where missing) and ``person_tags``
        ``(G, L)`` float64 mean tag of each person, in creation order.

    Example:
        >>> vals = np.array([[1.0, 0.5], [0.75, 0.0]])
        >>> tags = np.array([[[0.], [5.]], [[5.25], [0.]]])
        >>> locs = np.zeros((2, 2, 2))
        >>> kpts, scores, ptags = group_keypoints(vals, tags, locs, [0, 1])
        >>> scores.tolist(), ptags.ravel().tolist()
        ([[1.0, 0.0], [0.5, 0.75]], [0.0, 5.125])
    """
    K, M = vals.shape
    L = tags.shape[-1]
    if sorted(keypoint_order) != list(range(K)):
        raise ValueError(f'keypoint_order must be a permutation of '
                         f'range({K}), got {list(keypoint_order)}')
    cap = K * M
    kpts = np.zeros((cap, K, 2), dtype=np.float32)
    scores = np.zeros((cap, K), dtype=np.float32)
    tag_sum = np.zeros((cap, L))
    count = np.zeros(cap)
    num = 0
    for k in keypoint_order:
        keep = vals[k] > val_thr
        if not keep.any():
            continue
        v, loc = vals[k, keep], locs[k, keep]
        t = tags[k, keep].astype(np.float64)
        if num == 0:
            new = np.arange(len(v))
        else:
            g = num if max_people is None else min(num, max_people)
            centres = tag_sum[:g] / count[:g, None]
            dist = np.sqrt(((t[:, None, :] - centres[None])**2).sum(-1))
            cost = np.round(dist) * 100 - v[:, None]
            rows, cols = linear_sum_assignment(cost)
            ok = dist[rows, cols] < tag_thr
            rows, cols = rows[ok], cols[ok]
            kpts[cols, k] = loc[rows]
            scores[cols, k] = v[rows]
            tag_sum[cols] += t[rows]
            count[cols] += 1
            matched = np.zeros(len(v), dtype=bool)
            matched[rows] = True
            new = np.flatnonzero(~matched)
        # unmatched candidates start people, in descending score order
        span = slice(num, num + len(new))
        kpts[span, k] = loc[new]
        scores[span, k] = v[new]
        tag_sum[span] = t[new]
        count[span] = 1
        num += len(new)
    person_tags = tag_sum[:num] / np.maximum(count[:num, None], 1)
    return kpts[:num], scores[:num], person_tags


def adjust_keypoints(keypoints: np.ndarray, scores: np.ndarray,
                     heatmaps: np.ndarray) -> np.ndarray:
    """Move every detected joint (score > 0) a quarter pixel towards the
    higher neighbour on its heatmap, per axis.

    Args:
        keypoints (np.ndarray): ``(G, K, 2)`` integer locations, updated in
            place.
        scores (np.ndarray): ``(G, K)``.
        heatmaps (np.ndarray): ``(K, H, W)`` heatmaps (not NMS-ed).

    Returns:
        np.ndarray: ``keypoints``.
    """
    g, k = np.nonzero(scores > 0)
    xy = keypoints[g, k].astype(np.int64)
    keypoints[g, k] += _quarter_offsets(heatmaps, k, xy[:, 0], xy[:, 1])
    return keypoints


class _TileIndex:
    """Tiled copy of one image's heatmaps and tag maps with per-tile bounds,
    for the exact branch-and-bound search of :func:`fill_missing_keypoints`.

    The maps are cut into ``_TILE x _TILE`` tiles (padded with ``-inf`` heat
    and edge tags), stored contiguously tile by tile. Each tile keeps its
    heat maximum, the tags at that hottest pixel and the range of each tag
    component.
    """

    def __init__(self, heatmaps: np.ndarray, tags: np.ndarray) -> None:
        K, H, W = heatmaps.shape
        L = tags.shape[0] // K
        b = _TILE
        hb, wb = -(-H // b), -(-W // b)
        pad = ((0, 0), (0, hb * b - H), (0, wb * b - W))
        heat, tag = heatmaps, tags
        if hb * b != H or wb * b != W:
            heat = np.pad(heatmaps, pad, constant_values=-np.inf)
            tag = np.pad(tags, pad, mode='edge')

        def tiled(x: np.ndarray) -> np.ndarray:  # (N, Hp, Wp) -> (N, T, b*b)
            x = x.reshape(len(x), hb, b, wb, b).transpose(0, 1, 3, 2, 4)
            return np.ascontiguousarray(x).reshape(len(x), hb * wb, b * b)

        self.heat = tiled(heat)  # (K, T, b*b)
        self.tag = tiled(tag).reshape((L, ) + self.heat.shape)
        hottest = self.heat.argmax(axis=-1)  # (K, T)
        self.heat_max = np.take_along_axis(self.heat, hottest[..., None],
                                           -1)[..., 0]
        self.hot_tag = np.take_along_axis(self.tag, hottest[None, ..., None],
                                          -1)[..., 0]  # (L, K, T)
        self.tag_min = self.tag.min(axis=-1)
        self.tag_max = self.tag.max(axis=-1)
        # unpadded flat index of every stored pixel, row-major inside a tile
        # (so a first arg-max inside a tile is its lowest index)
        ys = np.arange(hb)[:, None, None, None] * b + np.arange(b)[:, None]
        xs = np.arange(wb)[:, None, None] * b + np.arange(b)
        self.pixels = (ys * W + xs).reshape(hb * wb, b * b)

    @staticmethod
    def _cost(heat: np.ndarray, tag: np.ndarray,
              query_tags: np.ndarray) -> np.ndarray:
        """``heat - round(||tag - query_tag||)`` in float32, the arithmetic
        of a full-map search; ``heat`` ``(Q, n)``, ``tag`` ``(L, Q, n)``,
        ``query_tags`` ``(Q, L)``."""
        if len(tag) == 1:
            dist = np.abs(tag[0] - query_tags[:, :1])
        else:
            dist = np.sqrt(((tag - query_tags.T[:, :, None])**2).sum(0))
        return heat - np.round(dist)

    def best_pixels(self, joints: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """For each query ``i``, the flat index of
        ``argmax(heat[joints[i]] - round(||tag_map[joints[i]] - tags[i]||))``
        over the whole map, first index on ties (as ``np.argmax``).

        The cost of a tile's hottest pixel is a lower bound of the answer; a
        tile whose upper bound (heat maximum minus the rounded distance to
        its tag ranges; rounding is monotone) is below the best lower bound
        cannot hold the arg-max, so only the pixels of the other tiles are
        evaluated. All queries of an image go through at once.

        Args:
            joints (np.ndarray): ``(Q,)`` joint index per query.
            tags (np.ndarray): ``(Q, L)`` float32 tag per query.
        """
        out = np.empty(len(joints), dtype=np.int64)
        step = max(1, _FILL_CHUNK // self.heat.shape[1])
        for lo in range(0, len(joints), step):
            sl = slice(lo, lo + step)
            out[sl] = self._search(joints[sl], tags[sl])
        return out

    def _search(self, joints: np.ndarray, tags: np.ndarray) -> np.ndarray:
        Q = len(joints)
        peak = self.heat_max[joints]  # (Q, T)
        lower = self._cost(peak, self.hot_tag[:, joints], tags).max(axis=1)
        t = tags.T[:, :, None]  # (L, Q, 1)
        gap = np.maximum(self.tag_min[:, joints] - t,
                         t - self.tag_max[:, joints])
        np.maximum(gap, 0, out=gap)
        floor = gap[0] if len(gap) == 1 else np.sqrt((gap**2).sum(0))
        query, tile = np.nonzero(peak - np.round(floor) >= lower[:, None])
        cost = np.empty(len(query), dtype=np.float32)
        index = np.empty(len(query), dtype=np.int64)
        step = max(1, _FILL_CHUNK // self.heat.shape[-1])
        for lo in range(0, len(query), step):
            q, k = query[lo:lo + step], joints[query[lo:lo + step]]
            tl = tile[lo:lo + step]
            c = self._cost(self.heat[k, tl], self.tag[:, k, tl], tags[q])
            arg = c.argmax(axis=1)
            rows = np.arange(len(arg))
            cost[lo:lo + step] = c[rows, arg]
            index[lo:lo + step] = self.pixels[tl, arg]
        starts = np.searchsorted(query, np.arange(Q))
        top = np.maximum.reduceat(cost, starts)
        # lowest flat index among the tiles that reach the maximum
        index = np.where(cost == top[query], index, np.iinfo(np.int64).max)
        return np.minimum.reduceat(index, starts)


def fill_missing_keypoints(keypoints: np.ndarray, scores: np.ndarray,
                           person_tags: np.ndarray, heatmaps: np.ndarray,
                           tags: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Look up the joints a person is missing, guided by its mean tag.

    For a missing joint ``k`` the location is the arg-max of
    ``heatmaps[k] - round(||tag_k(x, y) - person_tag||)`` (float32, first
    pixel on ties); it is filled (a quarter-pixel adjustment included) when
    the heatmap value there is positive, otherwise the joint stays at 0 with
    score 0. The arg-max is found by an exact branch-and-bound over tiles
    (see :class:`_TileIndex`) instead of scanning the whole map for every
    person and joint.

    Args:
        keypoints (np.ndarray): ``(G, K, 2)``, updated in place.
        scores (np.ndarray): ``(G, K)``, 0 = missing; updated in place.
        person_tags (np.ndarray): ``(G, L)`` mean tag per person.
        heatmaps (np.ndarray): ``(K, H, W)`` heatmaps (not NMS-ed).
        tags (np.ndarray): ``(L * K, H, W)`` tag maps.

    Returns:
        tuple: ``keypoints`` and ``scores``.
    """
    K, H, W = heatmaps.shape
    if not (scores == 0).any():
        return keypoints, scores
    heatmaps = heatmaps.astype(np.float32, copy=False)
    index = _TileIndex(heatmaps, tags.astype(np.float32, copy=False))
    # with no positive response in a map the winner's value cannot be > 0
    positive = index.heat_max.max(axis=1) > 0
    people, joints = np.nonzero((scores == 0) & positive[None])
    if len(people) == 0:
        return keypoints, scores
    idx = index.best_pixels(joints, person_tags[people].astype(np.float32))
    val = heatmaps.reshape(K, H * W)[joints, idx]
    hit = val > 0
    people, joints, idx, val = people[hit], joints[hit], idx[hit], val[hit]
    x, y = idx % W, idx // W
    keypoints[people, joints] = (np.stack([x, y], -1) +
                                 _quarter_offsets(heatmaps, joints, x, y))
    scores[people, joints] = val
    return keypoints, scores


def decode_associative_embedding(
    heatmaps: ArrayLike,
    tags: ArrayLike,
    keypoint_order: Optional[Sequence[int]] = None,
    nms_kernel: int = 5,
    topk: int = 30,
    val_thr: float = 0.1,
    tag_thr: float = 1.0,
    max_people: Optional[int] = 30,
    adjust: bool = True,
    refine: bool = True,
) -> Tuple[List[np.ndarray], List[np.ndarray], List[np.ndarray]]:
    """Decode a batch of heatmaps and tag maps into people (heatmap pixels).

    Args:
        heatmaps (np.ndarray | torch.Tensor): ``(B, K, H, W)``.
        tags (np.ndarray | torch.Tensor): ``(B, L * K, H, W)``.
        keypoint_order (Sequence[int], optional): Grouping order;
            ``None`` = :data:`COCO_KEYPOINT_ORDER` for 17 joints, else
            ``range(K)``.
        nms_kernel (int): NMS window. Defaults to 5.
        topk (int): Candidates per joint. Defaults to 30.
        val_thr (float): Detection threshold. Defaults to 0.1.
        tag_thr (float): Tag threshold. Defaults to 1.
        max_people (int, optional): People offered to the matching.
        adjust (bool): Quarter-pixel adjustment of grouped joints.
        refine (bool): Fill missing joints with :func:`fill_missing_keypoints`.

    Returns:
        tuple of lists (one entry per image): ``keypoints`` ``(N, K, 2)``
        float32, ``keypoint_scores`` ``(N, K)`` float32 and
        ``instance_scores`` ``(N,)`` float32 (mean grouped joint score, taken
        before refinement).

    Example:
        >>> kpts, kpt_scores, inst_scores = decode_associative_embedding(
        ...     torch.zeros(2, 17, 32, 32), torch.zeros(2, 17, 32, 32))
        >>> kpts[0].shape, kpt_scores[0].shape, inst_scores[0].shape
        ((0, 17, 2), (0, 17), (0,))
    """
    hm = _as_numpy(heatmaps)
    tg = _as_numpy(tags)
    if hm.ndim != 4 or tg.ndim != 4:
        raise ValueError('heatmaps and tags must be 4-D (B, K, H, W) and '
                         f'(B, L*K, H, W), got {tuple(hm.shape)} and '
                         f'{tuple(tg.shape)}')
    B, K, H, W = hm.shape
    if val_thr < 0:
        raise ValueError(f'val_thr must be >= 0 (score 0 marks a missing '
                         f'joint), got {val_thr}')
    if (tg.shape[0] != B or tg.shape[2:] != hm.shape[2:] or tg.shape[1] % K
            or tg.shape[1] == 0):
        raise ValueError(f'tags {tuple(tg.shape)} do not fit heatmaps '
                         f'{tuple(hm.shape)}: need (B, L*K, H, W)')
    if keypoint_order is None:
        keypoint_order = COCO_KEYPOINT_ORDER if K == 17 else range(K)
    keypoint_order = list(keypoint_order)
    vals, cand_tags, locs = find_candidates(hm, tg, topk, nms_kernel, val_thr)

    out_kpts, out_scores, out_inst = [], [], []
    for b in range(B):
        kpts, scores, ptags = group_keypoints(vals[b], cand_tags[b], locs[b],
                                              keypoint_order, val_thr, tag_thr,
                                              max_people)
        if adjust:
            adjust_keypoints(kpts, scores, hm[b])
        inst = scores.mean(axis=1) if len(kpts) else np.zeros(0)
        if refine and len(kpts):
            kpts, scores = fill_missing_keypoints(kpts, scores, ptags, hm[b],
                                                  tg[b])
        out_kpts.append(kpts.astype(np.float32))
        out_scores.append(scores.astype(np.float32))
        out_inst.append(np.asarray(inst, dtype=np.float32))
    return out_kpts, out_scores, out_inst


def aggregate_flip(
        heatmaps: torch.Tensor,
        tags: torch.Tensor,
        flipped_heatmaps: torch.Tensor,
        flipped_tags: torch.Tensor,
        flip_indices: Sequence[int],
        shift_heatmap: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Combine the outputs of an image and of its horizontal mirror.

    Args:
        heatmaps (torch.Tensor): ``(B, K, H, W)`` of the original image.
        tags (torch.Tensor): ``(B, L * K, H, W)`` of the original image.
        flipped_heatmaps (torch.Tensor): ``(B, K, H, W)`` network output on
            the flipped image (not flipped back yet).
        flipped_tags (torch.Tensor): ``(B, L' * K, H, W)`` likewise.
        flip_indices (Sequence[int]): Left/right keypoint permutation.
        shift_heatmap (bool): One-pixel shift of the flipped-back heatmaps
            (see :func:`flip_heatmaps`). Defaults to False as in HigherHRNet.

    Returns:
        tuple: averaged heatmaps ``(B, K, H, W)`` and tags
        ``(B, (L + L') * K, H, W)`` (original components first).

    Example:
        >>> hm, tg = torch.rand(1, 17, 64, 64), torch.rand(1, 17, 64, 64)
        >>> h, t = aggregate_flip(hm, tg, hm, tg, list(range(17)))
        >>> h.shape, t.shape
        (torch.Size([1, 17, 64, 64]), torch.Size([1, 34, 64, 64]))
    """
    B, K, H, W = heatmaps.shape
    if flipped_heatmaps.shape != heatmaps.shape:
        raise ValueError(f'flipped heatmaps {tuple(flipped_heatmaps.shape)} '
                         f'differ from heatmaps {tuple(heatmaps.shape)}')
    if flipped_tags.shape[1] % K or flipped_tags.shape[2:] != (H, W):
        raise ValueError(f'flipped tags {tuple(flipped_tags.shape)} do not '
                         f'fit heatmaps {tuple(heatmaps.shape)}')
    _check_flip_indices(flip_indices, K)
    back = flip_heatmaps(flipped_heatmaps, flip_indices, shift_heatmap)
    lf = flipped_tags.shape[1] // K
    back_tags = flip_heatmaps(flipped_tags.reshape(B, lf, K, H, W),
                              flip_indices,
                              shift_heatmap=False)
    return ((heatmaps + back) / 2,
            torch.cat([tags, back_tags.reshape(B, lf * K, H, W)], dim=1))


def aggregate_multiscale(heatmaps_list: Sequence[torch.Tensor],
                         tags_list: Sequence[torch.Tensor],
                         size: Size) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average heatmaps of several test scales and stack their tags.

    Every map is resized bilinearly (``align_corners=False``) to ``size``.
    HigherHRNet passes the heatmaps of all scales but only the tags of scale
    1; any subset of tags may be given.

    Args:
        heatmaps_list (Sequence[torch.Tensor]): ``(B, K, h_i, w_i)`` each.
        tags_list (Sequence[torch.Tensor]): ``(B, L_j * K, h_j, w_j)`` each.
        size (tuple): Common ``(W, H)``.

    Returns:
        tuple: heatmaps ``(B, K, H, W)`` (mean) and tags
        ``(B, sum(L_j) * K, H, W)`` (concatenated in list order).

    Example:
        >>> h, t = aggregate_multiscale(
        ...     [torch.rand(1, 17, 64, 64), torch.rand(1, 17, 128, 128)],
        ...     [torch.rand(1, 17, 128, 128)], (128, 128))
        >>> h.shape, t.shape
        (torch.Size([1, 17, 128, 128]), torch.Size([1, 17, 128, 128]))
    """
    if not heatmaps_list or not tags_list:
        raise ValueError('aggregate_multiscale needs at least one heatmap and '
                         'one tag tensor')
    W, H = _check_size(size, 'size')

    def resize(x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) == (H, W):
            return x
        return F.interpolate(x,
                             size=(H, W),
                             mode='bilinear',
                             align_corners=False)

    heatmaps = sum(resize(h) for h in heatmaps_list) / len(heatmaps_list)
    return heatmaps, torch.cat([resize(t) for t in tags_list], dim=1)


@KEYPOINT_CODECS.register_module()
class AssociativeEmbedding:
    """Bottom-up codec between input-image keypoints and heatmaps + tags.

    Args:
        input_size (tuple): Input image size ``(w, h)``, e.g. ``(512, 512)``.
        heatmap_size (tuple | Sequence[tuple]): ``(W, H)`` of each output
            resolution, e.g. ``[(128, 128), (256, 256)]``. The first one is the
            tag resolution used by ``keypoint_indices``.
        sigma (float | Sequence[float]): Gaussian sigma per resolution.
            Defaults to 2.
        max_people (int): Rows of ``keypoint_indices`` and the number of
            people offered to the matching. Defaults to 30.
        decode_keypoint_order (Sequence[int], optional): Grouping order;
            ``None`` = COCO order for 17 joints, else ``range(K)``.
        decode_nms_kernel (int): Defaults to 5.
        decode_topk (int): Defaults to 30.
        decode_keypoint_thr (float): Detection threshold. Defaults to 0.1.
        decode_tag_thr (float): Tag threshold. Defaults to 1.
        decode_adjust (bool): Quarter-pixel adjustment. Defaults to True.
        decode_refine (bool): Fill missing joints. Defaults to True.

    Example:
        >>> codec = AssociativeEmbedding((256, 256), [(64, 64), (128, 128)])
        >>> enc = codec.encode(np.random.rand(3, 17, 2) * 255)
        >>> [h.shape for h in enc['heatmaps']], enc['keypoint_indices'].shape
        ([(17, 64, 64), (17, 128, 128)], (30, 17, 2))
        >>> kpts, kpt_scores, inst_scores = codec.decode(
        ...     enc['heatmaps'][1], np.zeros((17, 128, 128)))
        >>> kpts.shape[1:], kpt_scores.shape[1:]
        ((17, 2), (17,))
    """

    def __init__(self,
                 input_size: Size,
                 heatmap_size: Union[Size, Sequence[Size]],
                 sigma: Union[float, Sequence[float]] = 2.0,
                 max_people: int = 30,
                 decode_keypoint_order: Optional[Sequence[int]] = None,
                 decode_nms_kernel: int = 5,
                 decode_topk: int = 30,
                 decode_keypoint_thr: float = 0.1,
                 decode_tag_thr: float = 1.0,
                 decode_adjust: bool = True,
                 decode_refine: bool = True) -> None:
        self.input_size = _check_size(input_size, 'input_size')
        sizes = heatmap_size
        if len(sizes) == 2 and all(
                isinstance(s, (int, np.integer)) for s in sizes):
            sizes = [sizes]
        self.heatmap_sizes = [_check_size(s, 'heatmap_size') for s in sizes]
        if not self.heatmap_sizes:
            raise ValueError('heatmap_size must name at least one resolution')
        sigmas = ([float(sigma)] * len(self.heatmap_sizes) if isinstance(
            sigma, (int, float)) else [float(s) for s in sigma])
        if len(sigmas) != len(self.heatmap_sizes):
            raise ValueError(f'{len(sigmas)} sigmas for '
                             f'{len(self.heatmap_sizes)} heatmap sizes')
        self.sigmas = sigmas
        self.max_people = int(max_people)
        self.decode_keypoint_order = (None if decode_keypoint_order is None
                                      else list(decode_keypoint_order))
        self.decode_nms_kernel = decode_nms_kernel
        self.decode_topk = decode_topk
        self.decode_keypoint_thr = decode_keypoint_thr
        self.decode_tag_thr = decode_tag_thr
        self.decode_adjust = decode_adjust
        self.decode_refine = decode_refine

    def _scale(self, size: Size) -> np.ndarray:
        return (np.array(self.input_size, dtype=np.float32) /
                np.array(size, dtype=np.float32))

    def encode(
        self,
        keypoints: np.ndarray,
        keypoints_visible: Optional[np.ndarray] = None
    ) -> Dict[str, Union[np.ndarray, List[np.ndarray]]]:
        """Encode the ``(N, K, 2)`` input-image keypoints of one image.

        Returns:
            dict: ``heatmaps`` list of ``(K, H_i, W_i)`` (one per
            resolution), ``keypoint_indices`` ``(max_people, K, 2)`` int64 at
            the first resolution, ``keypoint_weights`` ``(N, K)`` (visible
            and drawn at the first resolution).
        """
        keypoints, visible = _check_keypoints(keypoints, keypoints_visible)
        heatmaps, weights = [], None
        for size, sigma in zip(self.heatmap_sizes, self.sigmas):
            hm, w = encode_gaussian_heatmaps(keypoints / self._scale(size),
                                             visible, size, sigma)
            heatmaps.append(hm)
            weights = w if weights is None else weights
        size0 = self.heatmap_sizes[0]
        indices = encode_keypoint_indices(keypoints / self._scale(size0),
                                          visible, size0, self.max_people)
        return dict(heatmaps=heatmaps,
                    keypoint_indices=indices,
                    keypoint_weights=weights)

    def batch_decode(
        self, batch_heatmaps: ArrayLike, batch_tags: ArrayLike
    ) -> Tuple[List[np.ndarray], List[np.ndarray], List[np.ndarray]]:
        """Decode ``(B, K, H, W)`` heatmaps and ``(B, L*K, H, W)`` tags.

        The maps may be at any resolution (e.g. resized to a common size by
        :func:`aggregate_multiscale`): coordinates are scaled by
        ``input_size / (W, H)`` of the maps given.

        Returns:
            tuple of lists (per image): ``keypoints`` ``(N, K, 2)`` in input
            pixels, ``keypoint_scores`` ``(N, K)``, ``instance_scores``
            ``(N,)``.
        """
        kpts, kpt_scores, inst_scores = decode_associative_embedding(
            batch_heatmaps,
            batch_tags,
            keypoint_order=self.decode_keypoint_order,
            nms_kernel=self.decode_nms_kernel,
            topk=self.decode_topk,
            val_thr=self.decode_keypoint_thr,
            tag_thr=self.decode_tag_thr,
            max_people=self.max_people,
            adjust=self.decode_adjust,
            refine=self.decode_refine)
        H, W = batch_heatmaps.shape[-2:]
        scale = self._scale((W, H))
        return [k * scale for k in kpts], kpt_scores, inst_scores

    def decode(self, heatmaps: ArrayLike,
               tags: ArrayLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decode one image's ``(K, H, W)`` heatmaps and ``(L*K, H, W)``
        tags; see :meth:`batch_decode`."""
        kpts, kpt_scores, inst_scores = self.batch_decode(
            heatmaps[None], tags[None])
        return kpts[0], kpt_scores[0], inst_scores[0]
