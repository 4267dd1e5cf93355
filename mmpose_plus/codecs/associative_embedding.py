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
  the candidate taken per joint) updated with fancy indexing: the only
  Python loop is over the 17 joints, each with one vectorised cost matrix
  and one scipy assignment;
* step 6 answers all (person, joint) look-ups of an image at once with an
  exact branch-and-bound over a pyramid of blocks (4, 16 and 64 px on 256
  px maps; heat maxima, tag ranges and the tags at the hottest pixel),
  instead of a whole-map search per person and joint.

Tag maps use the channel layout ``(L * K, H, W)`` with channel ``l * K + k``
holding tag component ``l`` of joint ``k``: the flip and multi-scale helpers
stack extra tag components by concatenating blocks of ``K`` channels.
"""
import functools
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

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
# Branch-and-bound search that fills missing joints: side of the finest
# blocks, whose pixels are evaluated; blocks per side of a block of the next
# level; levels are added until the top grid has at most _TOP_BLOCKS blocks
# (4, 16 and 64 px on 256 px maps). A fan-out of 2 evaluates fewer blocks
# but costs more per level; finer top grids cost more at the top.
_BLOCK = 4
_FANOUT = 4
_TOP_BLOCKS = 64


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
    flat = maps.reshape(-1)
    idx = np.flatnonzero(flat > val_thr)
    v = flat[idx]
    y, x = np.divmod(idx % (H * W), W)
    r = nms_kernel // 2
    window = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
              if (dy, dx) != (0, 0)]
    window.sort(key=lambda d: abs(d[0]) + abs(d[1]))  # 4-neighbours first
    for offsets in (window[:4], window[4:]):
        # flat offset of each neighbour, clipped to the map (clipping keeps
        # it inside the window, so the window maximum is unchanged); one
        # clip per row offset and per column offset
        row = {
            dy: (np.minimum(np.maximum(y + dy, 0), H - 1) - y) * W if dy else 0
            for dy in {d[0]
                       for d in offsets}
        }
        col = {
            dx: np.minimum(np.maximum(x + dx, 0), W - 1) - x if dx else 0
            for dx in {d[1]
                       for d in offsets}
        }
        keep = np.ones(len(v), dtype=bool)
        for dy, dx in offsets:
            keep &= v >= flat.take(idx + (row[dy] + col[dx]))
        idx, v, y, x = idx[keep], v[keep], y[keep], x[keep]
    m, p = np.divmod(idx, H * W)
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
    keep = vals > val_thr
    tags = tags.astype(np.float64)
    # per person and joint the candidate taken (-1: none), filled at the end
    member = np.full((cap, K), -1, dtype=np.int64)
    tag_sum = np.zeros((cap, L))
    count = np.zeros(cap)
    num = 0
    for k in keypoint_order:
        cand = np.flatnonzero(keep[k])
        if len(cand) == 0:
            continue
        t = tags[k, cand]
        new = cand
        if num:
            g = num if max_people is None else min(num, max_people)
            diff = t[:, None, :] - tag_sum[:g] / count[:g, None]
            dist = np.sqrt((diff * diff).sum(-1))
            cost = np.round(dist) * 100 - vals[k, cand][:, None]
            rows, cols = linear_sum_assignment(cost)
            ok = dist[rows, cols] < tag_thr
            rows, cols = rows[ok], cols[ok]
            member[cols, k] = cand[rows]
            tag_sum[cols] += t[rows]
            count[cols] += 1
            unmatched = np.ones(len(cand), dtype=bool)
            unmatched[rows] = False
            new, t = cand[unmatched], t[unmatched]
        # unmatched candidates start people, in candidate order
        span = slice(num, num + len(new))
        member[span, k] = new
        tag_sum[span] = t
        count[span] = 1
        num += len(new)
    member = member[:num]
    person, joint = np.nonzero(member >= 0)
    kpts = np.zeros((num, K, 2), dtype=np.float32)
    scores = np.zeros((num, K), dtype=np.float32)
    kpts[person, joint] = locs[joint, member[person, joint]]
    scores[person, joint] = vals[joint, member[person, joint]]
    person_tags = tag_sum[:num] / np.maximum(count[:num, None], 1)
    return kpts, scores, person_tags


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


def _block_reduce(x: np.ndarray, size: int,
                  ops: Sequence[np.ufunc]) -> List[np.ndarray]:
    """Each of ``ops`` (``np.maximum``, ``np.minimum``) over the ``size x
    size`` blocks of ``(N, size * gh, size * gw)`` maps -> ``(N, gh, gw)``.

    Element-wise ``op`` of strided slices, several times faster than
    ``x.reshape(N, gh, size, gw, size).max(axis=(2, 4))`` (whose reduction
    runs over tiny inner axes); the ops take turns on each slice so that
    the maps are read from memory once.
    """
    N, h, w = x.shape
    rows = x.reshape(N, h // size, size, w)
    outs = [op(rows[:, :, 0], rows[:, :, 1]) for op in ops]
    for i in range(2, size):
        for op, out in zip(ops, outs):
            op(out, rows[:, :, i], out=out)
    res = []
    for op, out in zip(ops, outs):
        cols = out.reshape(N, h // size, w // size, size)
        res.append(op(cols[..., 0], cols[..., 1]))
        for i in range(2, size):
            op(res[-1], cols[..., i], out=res[-1])
    return res


def _to_tile_order(x: np.ndarray, top: Size, depth: int, f: int) -> np.ndarray:
    """``(N, th * f**depth, tw * f**depth)`` block grid -> ``(N, blocks)``
    in tile order: recursively, the ``f x f`` children of a parent are
    contiguous and row-major, parents in tile order."""
    N, (th, tw) = len(x), top
    x = x.reshape((N, th) + (f, ) * depth + (tw, ) + (f, ) * depth)
    axes = [0, 1, depth + 2]
    for d in range(depth):
        axes += [2 + d, depth + 3 + d]
    return np.ascontiguousarray(x.transpose(axes)).reshape(N, -1)


def _tag_distance(diffs: Sequence[np.ndarray]) -> np.ndarray:
    """``||d||`` from one array of tag differences per component, with the
    arithmetic of a whole-map search: ``|d|`` for one component, else the
    square root of the float32 squares summed in component order. Bounds
    and pixel costs both use it, so it is monotone in every ``|d_l|``."""
    if len(diffs) == 1:
        return np.abs(diffs[0])
    total = diffs[0] * diffs[0]
    for d in diffs[1:]:
        total = total + d * d
    return np.sqrt(total)


def _split_index(flat: np.ndarray, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """``divmod(flat, n)``, with shifts when ``n`` is a power of two."""
    if n & (n - 1):
        return np.divmod(flat, n)
    shift = n.bit_length() - 1
    return flat >> shift, flat & (n - 1)


class _Geometry(NamedTuple):
    """Shape-only constants of :class:`_BlockPyramid` for ``(H, W)`` maps
    (cached by :func:`_geometry`)."""
    padded: Size  # (Hp, Wp): multiples of _BLOCK
    grid: Size  # (gh, gw) finest blocks inside the map
    padded_grid: Size  # (Gh, Gw) finest blocks under the top grid
    depth: int  # levels above the finest one
    orders: Tuple[np.ndarray, ...]  # per level: row-major -> tile order
    origin: np.ndarray  # flat (padded) index of each finest block's corner
    origin_row: np.ndarray  # the same in rows of _BLOCK pixels
    row_offset: np.ndarray  # offsets of a finest block's rows of pixels
    pixel_offset: np.ndarray  # offsets of its pixels, row-major


@functools.lru_cache(maxsize=8)
def _geometry(H: int, W: int, block: int, fanout: int,
              top_blocks: int) -> _Geometry:
    """Block layout of :class:`_BlockPyramid` for ``(H, W)`` maps."""
    b, f = block, fanout
    Hp, Wp = -(-H // b) * b, -(-W // b) * b
    gh, gw = Hp // b, Wp // b
    depth = 0
    while -(-gh // f**depth) * -(-gw // f**depth) > top_blocks:
        depth += 1
    top = (-(-gh // f**depth), -(-gw // f**depth))
    Gh, Gw = top[0] * f**depth, top[1] * f**depth
    orders = []
    for level in range(depth + 1):
        grid = (Gh // f**level, Gw // f**level)
        index = np.arange(grid[0] * grid[1]).reshape((1, ) + grid)
        orders.append(_to_tile_order(index, top, depth - level, f)[0])
    ys, xs = np.divmod(orders[0], Gw)
    origin = np.where((ys < gh) & (xs < gw), ys * b * Wp + xs * b, 0)
    geometry = _Geometry((Hp, Wp), (gh, gw), (Gh, Gw), depth, tuple(orders),
                         origin, origin // b,
                         np.arange(b) * (Wp // b),
                         (np.arange(b)[:, None] * Wp + np.arange(b)).ravel())
    for x in (geometry.origin, geometry.origin_row, geometry.row_offset,
              geometry.pixel_offset, *orders):
        x.flags.writeable = False  # shared by every pyramid of this shape
    return geometry


class _BlockPyramid:
    """Block statistics of one image's heatmaps and tag maps, for the exact
    branch-and-bound search of :func:`fill_missing_keypoints`.

    The maps are cut into ``_BLOCK x _BLOCK`` pixel blocks, and ``_FANOUT x
    _FANOUT`` blocks of a level form one block of the next, until the top
    grid has at most ``_TOP_BLOCKS`` blocks. Every block keeps its heat
    maximum and the range of each tag component, coarser ones also the tags
    at their hottest pixel. A level is stored as ``(F, K * parents,
    _FANOUT**2)``, ``F`` statistics with the children of a parent in one
    row, so that expanding a parent is one row copy per statistic; the
    pixels of a finest block are gathered from the maps as ``_BLOCK`` rows
    of ``_BLOCK`` values. Nothing is tiled at pixel resolution.

    Args:
        heatmaps (np.ndarray): ``(K, H, W)`` float32.
        tags (np.ndarray): ``(L * K, H, W)`` float32.
    """

    def __init__(self, heatmaps: np.ndarray, tags: np.ndarray) -> None:
        K, H, W = heatmaps.shape
        L = tags.shape[0] // K
        b, f2 = _BLOCK, _FANOUT**2
        geo = _geometry(H, W, b, _FANOUT, _TOP_BLOCKS)
        (Hp, Wp), (gh, gw), (Gh, Gw) = geo.padded, geo.grid, geo.padded_grid
        self.K, self.L, self.W, self.Wp = K, L, W, Wp
        heatmaps = np.ascontiguousarray(heatmaps)
        tags = np.ascontiguousarray(tags)
        self.heatmaps, self.tags = heatmaps, tags
        if (Hp, Wp) != (H, W):
            # -inf heat never wins; edge tags keep the tag ranges
            pad = ((0, 0), (0, Hp - H), (0, Wp - W))
            heatmaps = np.pad(heatmaps, pad, constant_values=-np.inf)
            tags = np.pad(tags, pad, mode='edge')
        self.map_rows = Hp * Wp // b  # rows of b pixels per map
        self.map_size = Hp * Wp
        self.heat_flat = heatmaps.reshape(-1)
        self.heat_rows = heatmaps.reshape(K * self.map_rows, b)
        self.tag_rows = tags.reshape(L, K * self.map_rows, b)
        self.origin, self.row_offset = geo.origin, geo.row_offset
        self.pixel_offset = geo.pixel_offset
        self.origin_row = geo.origin_row

        # per level (finest first): heat maxima (K, ., .), then tag minima
        # and maxima (L * K, ., .)
        grids = [
            _block_reduce(heatmaps, b, [np.maximum]) +
            _block_reduce(tags, b, [np.minimum, np.maximum])
        ]
        if (Gh, Gw) != (gh, gw):
            # blocks outside the map: never a winner, neutral tag ranges
            pad = ((0, 0), (0, Gh - gh), (0, Gw - gw))
            grids[0] = [
                np.pad(x, pad, constant_values=v)
                for x, v in zip(grids[0], (-np.inf, np.inf, -np.inf))
            ]
        for _ in range(geo.depth):
            grids.append([
                _block_reduce(x, _FANOUT, [op])[0]
                for x, op in zip(grids[-1], (np.maximum, np.minimum,
                                             np.maximum))
            ])
        # NaN and inf reach the top (np.maximum and np.minimum propagate
        # NaN; the top blocks all hold map pixels) and would void the
        # bounds: a dense search then
        self.finite = all(np.isfinite(x).all() for x in grids[-1])

        # (F, K * parents, children), one parent per map at the top: heat
        # maximum, tag minima, tag maxima, hottest pixel's tags (not on the
        # finest level)
        tag_flat = tags.reshape(L, K * Hp * Wp)
        self.levels: List[np.ndarray] = []
        for level, grid in enumerate(grids):
            stats = np.concatenate([x.reshape(-1, x[0].size) for x in grid])
            stats = stats.take(geo.orders[level], axis=1)
            if (Gh, Gw) != (gh, gw):  # finite tag ranges outside the map
                stats[K:] = np.where(np.isfinite(stats[K:]), stats[K:], 0)
            stats = stats.reshape(1 + 2 * L, K, -1)
            if level > 0:  # tags at the hottest pixel of every block
                child = self.levels[-1][0].argmax(axis=1)
                rows = np.arange(len(child))
                if level == 1:
                    start = self.origin[rows % (len(child) // K) * f2 + child]
                    rows = ((rows // (len(child) // K) * self.map_rows +
                             start // b)[:, None] + self.row_offset)
                    pixels = self.heat_rows.take(rows, axis=0)
                    hot = start + self.pixel_offset[pixels.reshape(
                        len(rows), -1).argmax(axis=1)]
                else:
                    hot = hot.reshape(-1, f2)[rows, child]
                hot = hot.reshape(K, -1)
                stats = np.concatenate([
                    stats, tag_flat[:,
                                    np.arange(K)[:, None] * (Hp * Wp) + hot]
                ])
            children = stats.shape[-1] if level == geo.depth else f2
            self.levels.append(stats.reshape(len(stats), -1, children))

    @property
    def heat_max(self) -> np.ndarray:
        """``(K,)`` maximum of every heatmap (NaN if it has one)."""
        return self.levels[-1][0].max(axis=1)

    def _bounds(self, stats: List[np.ndarray],
                tags: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Upper and lower bounds of the best cost inside blocks.

        Args:
            stats (list[np.ndarray]): ``(n, m)`` statistics of ``m`` blocks
                for ``n`` queries, in the order stored in :attr:`levels`.
            tags (np.ndarray): ``(n, L)`` query tags.

        Returns:
            tuple: ``(n, m)`` upper bound (heat maximum minus the rounded
            distance to the tag box: rounding and float32 subtraction are
            monotone) and lower bound (the cost of the hottest pixel, or
            less: heat maximum minus the rounded farthest distance within the
            box), both float32.
        """
        L = self.L
        heat = stats[0]
        hot = len(stats) > 1 + 2 * L
        near, far = [], []
        for i in range(L):
            t = tags[:, i:i + 1]
            below = stats[1 + i] - t  # > 0: query under the range
            above = np.subtract(t, stats[1 + L + i])  # > 0: over the range
            if hot:
                np.maximum(below, above, out=above)
            else:
                far.append(np.negative(np.minimum(below, above)))
                np.maximum(below, above, out=above)
            near.append(np.maximum(above, 0, out=above))
        upper = np.round(_tag_distance(near))
        np.subtract(heat, upper, out=upper)
        if hot:
            # the hottest pixel's cost; the farthest distance in the box
            # would give no more
            far = [stats[1 + 2 * L + i] - tags[:, i:i + 1] for i in range(L)]
        lower = np.round(_tag_distance(far))
        np.subtract(heat, lower, out=lower)
        return upper, lower

    def best_pixels(self, joints: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """For each query ``i``, the flat index of
        ``argmax(heat[joints[i]] - round(||tag_map[joints[i]] - tags[i]||))``
        over the whole map, first index on ties (as ``np.argmax``).

        Branch and bound, all queries at once, level by level from the top:
        a block whose upper bound is below the best lower bound of its query
        so far cannot hold the arg-max; the children of the other blocks are
        bounded in turn, and the pixels of the surviving finest blocks are
        evaluated.

        Args:
            joints (np.ndarray): ``(Q,)`` joint index per query.
            tags (np.ndarray): ``(Q, L)`` float32 tag per query.
        """
        if len(joints) == 0:
            return np.zeros(0, dtype=np.int64)
        if not self.finite:
            tag_maps = self.tags.reshape(self.L, self.K, -1)
            out = np.empty(len(joints), dtype=np.int64)
            for i, (k, t) in enumerate(zip(joints, tags)):
                dist = _tag_distance(list(tag_maps[:, k] - t[:, None]))
                out[i] = (self.heatmaps[k].ravel() - np.round(dist)).argmax()
            return out
        query = np.arange(len(joints))
        best = np.full(len(joints), -np.inf, dtype=np.float32)
        return self._descend(
            len(self.levels) - 1, joints, tags, query, np.zeros_like(query),
            best)

    def _descend(self,
                 level: int,
                 joints: np.ndarray,
                 tags: np.ndarray,
                 query: np.ndarray,
                 block: np.ndarray,
                 best: np.ndarray,
                 heat: Optional[np.ndarray] = None) -> np.ndarray:
        """Search the children at ``level`` (``-1``: pixels) of the
        surviving ``(query, block)`` pairs, sorted by query; ``best`` (``(Q,
        )``) holds the lower bounds so far and ``heat`` the heat maximum of
        every block (needed from the finest level on). Queries are split in
        halves when a step would exceed ``_FILL_CHUNK`` elements."""
        ids = np.arange(len(joints))
        while level >= 0:
            stats = self.levels[level]
            parents, children = stats.shape[1] // self.K, stats.shape[2]
            if (query.size * stats[:, 0].size > _FILL_CHUNK
                    and len(joints) > 1):
                return self._split(level, joints, tags, query, block, best)
            rows = joints[query] * parents + block
            stats = [s.take(rows, axis=0) for s in stats]
            upper, lower = self._bounds(stats, tags[query])
            # every query keeps a block (the one holding its arg-max)
            starts = np.searchsorted(query, ids) * children
            np.maximum(best,
                       np.maximum.reduceat(lower.ravel(), starts),
                       out=best)
            keep = np.flatnonzero(upper >= best[query][:, None])
            pair, child = _split_index(keep, children)
            query, block = query[pair], block[pair] * children + child
            heat = stats[0].ravel()[keep]
            level -= 1
        b2 = _BLOCK**2
        if query.size * b2 * (1 + self.L) > _FILL_CHUNK and len(joints) > 1:
            return self._split(level, joints, tags, query, block, best, heat)
        # pixels of the surviving finest blocks: the tags first (b rows of b
        # pixels per block), then the heat only of the pixels whose rounded
        # distance leaves them a chance (at most the block's heat maximum
        # minus that distance); the arg-max is always among them
        rows = (
            (joints[query] * self.map_rows + self.origin_row[block])[:, None] +
            self.row_offset)
        t = tags[query]
        dist = np.round(
            _tag_distance([
                self.tag_rows[i].take(rows, axis=0).reshape(-1, b2) -
                t[:, i:i + 1] for i in range(self.L)
            ]))
        hit = np.flatnonzero(heat[:, None] - dist >= best[query][:, None])
        pair, pixel = _split_index(hit, b2)
        index = self.origin[block[pair]] + self.pixel_offset[pixel]
        query = query[pair]
        cost = self.heat_flat.take(joints[query] * self.map_size + index)
        cost -= dist.ravel()[hit]
        starts = np.searchsorted(query, ids)
        top = np.maximum.reduceat(cost, starts)
        hit = np.flatnonzero(cost == top[query])
        first = np.minimum.reduceat(index[hit],
                                    np.searchsorted(query[hit], ids))
        y, x = np.divmod(first, self.Wp)
        return y * self.W + x

    def _split(self,
               level: int,
               joints: np.ndarray,
               tags: np.ndarray,
               query: np.ndarray,
               block: np.ndarray,
               best: np.ndarray,
               heat: Optional[np.ndarray] = None) -> np.ndarray:
        """:meth:`_descend` on each half of the queries."""
        mid = len(joints) // 2
        cut = np.searchsorted(query, mid)
        halves = (slice(None, cut), slice(cut, None))
        return np.concatenate([
            self._descend(level, joints[part], tags[part], query[pairs] - lo,
                          block[pairs], best[part],
                          None if heat is None else heat[pairs])
            for part, pairs, lo in zip((slice(None, mid),
                                        slice(mid, None)), halves, (0, mid))
        ])


def fill_missing_keypoints(keypoints: np.ndarray, scores: np.ndarray,
                           person_tags: np.ndarray, heatmaps: np.ndarray,
                           tags: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Look up the joints a person is missing, guided by its mean tag.

    For a missing joint ``k`` the location is the arg-max of
    ``heatmaps[k] - round(||tag_k(x, y) - person_tag||)`` (float32, first
    pixel on ties); it is filled (a quarter-pixel adjustment included) when
    the heatmap value there is positive, otherwise the joint stays at 0 with
    score 0. The arg-max is found by an exact branch-and-bound over a
    pyramid of blocks (see :class:`_BlockPyramid`) instead of scanning the
    whole map for every person and joint.

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
    index = _BlockPyramid(heatmaps, tags.astype(np.float32, copy=False))
    # with no positive response in a map the winner's value cannot be > 0
    positive = index.heat_max > 0
    # joint-major: consecutive queries search the same map (cache reuse)
    joints, people = np.nonzero(((scores == 0) & positive[None]).T)
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
