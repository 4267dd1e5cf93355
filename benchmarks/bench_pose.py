"""Bottom-up (associative embedding) decoding speed: ours vs a reference.

The reference below is a straightforward implementation of the same
algorithm in the style of the reference toolboxes' ``HeatmapParser``: torch
max-pool NMS and top-k, then per joint a Python loop over a dict of people
with lists of tags, a cost matrix per joint, a pure-Python Hungarian solver
(those toolboxes use the pure-Python ``munkres`` package; the
shortest-augmenting-path solver written here is faster than it, so the
comparison is conservative), Python loops over people and joints for the
quarter-pixel adjustment and for filling missing joints. A second variant
swaps in scipy's Hungarian solver, to show how much of the gap is the solver
alone. A per-stage table follows the end-to-end one.

Every variant decodes identical synthetic heatmaps/tags (HigherHRNet W32-512
at test time: 17 joints, 256 x 256 maps, one tag per joint) with 1, 5, 20 and
30 people, 10 % of the joints hidden (half of them left as weak responses for
the refinement to find), a distractor peak per joint and background noise.
Runs are interleaved and medians reported; the script first checks that all
variants return the same people, joints and scores.

Usage::

    python benchmarks/bench_pose.py [--repeats 15] [--threads 1]
"""
import argparse
import time
from typing import Callable, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmpose_plus.codecs.associative_embedding import (
    COCO_KEYPOINT_ORDER, adjust_keypoints, decode_associative_embedding,
    fill_missing_keypoints, find_candidates, group_keypoints)

K = 17
SIZE = 256
TOPK = 30
VAL_THR = 0.1
TAG_THR = 1.0
MAX_PEOPLE = 30


# ----------------------------------------------------------------------------
# Synthetic network output
# ----------------------------------------------------------------------------
def make_scene(num_people: int,
               seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps ``(1, K, S, S)`` and tags ``(1, K, S, S)`` of ``num_people``
    people with well separated tags (so that the optimum is unique)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    heatmaps = rng.normal(0, 0.01, (K, SIZE, SIZE)).astype(np.float32)
    tags = np.zeros((K, SIZE, SIZE), np.float32)
    person_tag = rng.permutation(num_people) * 3.0 + rng.normal(
        0, 0.2, num_people)
    for k in range(K):
        pts: List[np.ndarray] = []
        while len(pts) < num_people:
            p = rng.uniform(3, SIZE - 4, 2)
            if all(np.hypot(*(p - q)) >= 8 for q in pts):
                pts.append(p)
        centres = np.round(np.array(pts))
        # every pixel carries the (noisy) tag of the nearest person
        d2 = ((xs[None] - centres[:, 0, None, None])**2 +
              (ys[None] - centres[:, 1, None, None])**2)
        tags[k] = person_tag[d2.argmin(0)] + rng.normal(0, 0.1, (SIZE, SIZE))
        for (cx, cy) in centres:
            r = rng.random()
            if r < 0.05:
                continue  # hidden, no response
            peak = 0.05 if r < 0.10 else rng.uniform(0.3, 1.0)
            g = peak * np.exp(-((xs - cx)**2 + (ys - cy)**2) / 8.0)
            np.maximum(heatmaps[k], g, out=heatmaps[k])
        # a distractor peak with a random tag
        for _ in range(1):
            cx, cy = rng.integers(3, SIZE - 3, 2)
            g = rng.uniform(0.11, 0.3) * np.exp(-((xs - cx)**2 +
                                                  (ys - cy)**2) / 8.0)
            np.maximum(heatmaps[k], g, out=heatmaps[k])
            tags[k, cy - 2:cy + 3,
                 cx - 2:cx + 3] = rng.uniform(-5, 3 * num_people + 5)
    return torch.from_numpy(heatmaps)[None], torch.from_numpy(tags)[None]


# ----------------------------------------------------------------------------
# Reference: straightforward per-joint Python implementation
# ----------------------------------------------------------------------------
def hungarian_pure_python(cost: np.ndarray) -> List[Tuple[int, int]]:
    """Minimum-cost assignment of a square or wide (rows <= cols) matrix with
    the O(n^2 m) shortest-augmenting-path Hungarian method, in plain Python.
    Returns (row, col) pairs sorted by row."""
    rows = cost.tolist()
    n, m = len(rows), len(rows[0])
    inf = float('inf')
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    owner = [0] * (m + 1)  # owner[j]: row (1-based) matched to column j
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0 = owner[j0]
            row, ui0 = rows[i0 - 1], u[i0]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - ui0 - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return sorted((owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j])


def hungarian_scipy(cost: np.ndarray) -> List[Tuple[int, int]]:
    r, c = linear_sum_assignment(cost)
    return list(zip(r.tolist(), c.tolist()))


def reference_candidates(heatmaps: torch.Tensor, tags: torch.Tensor):
    """Max-pool NMS and top-k with torch, as the toolboxes do."""
    pooled = F.max_pool2d(heatmaps, 5, 1, 2)
    nms = heatmaps * torch.eq(pooled, heatmaps).float()
    W = heatmaps.shape[-1]
    val_k, ind = nms.view(1, K, -1).topk(TOPK, dim=2)
    tag_k = torch.gather(tags.view(1, K, -1), 2, ind)[..., None]
    loc_k = torch.stack((ind % W, ind // W), dim=3)
    return val_k[0].numpy(), tag_k[0].numpy(), loc_k[0].numpy()


def reference_group(val_k: np.ndarray, tag_k: np.ndarray, loc_k: np.ndarray,
                    heatmaps: torch.Tensor, solver: Callable):
    """Joint-by-joint grouping over a dict of people, then the quarter-pixel
    adjustment joint by joint. Returns (people (N, K, 3), tag lists,
    instance scores)."""
    people = {}  # id -> (K, 3) joints [x, y, score]
    person_tags = {}  # id -> list of tags
    next_id = 0
    for idx in COCO_KEYPOINT_ORDER:
        keep = val_k[idx] > VAL_THR
        t_i, v_i, l_i = tag_k[idx][keep], val_k[idx][keep], loc_k[idx][keep]
        if len(v_i) == 0:
            continue
        if not people:
            for t, v, loc in zip(t_i, v_i, l_i):
                joints = np.zeros((K, 3), np.float32)
                joints[idx] = (loc[0], loc[1], v)
                people[next_id], person_tags[next_id] = joints, [t]
                next_id += 1
            continue
        keys = list(people)[:MAX_PEOPLE]
        # float64 means, as ours (the toolboxes keep float32; same results
        # up to rounding at the .5 steps of round(distance))
        means = np.array([
            np.mean(person_tags[key], axis=0, dtype=np.float64) for key in keys
        ])
        dist = np.linalg.norm(t_i[:, None] - means[None], axis=2)
        cost = np.round(dist) * 100 - v_i[:, None]
        n_add, n_grp = cost.shape
        # More candidates than people: solve the transposed problem (every
        # person gets a candidate) rather than padding with huge costs, whose
        # magnitude would eat the precision of the score term.
        if n_add > n_grp:
            pairs = [(r, c) for c, r in solver(cost.T)]
        else:
            pairs = solver(cost)
        assigned = {}
        for row, col in pairs:
            if dist[row, col] < TAG_THR:
                assigned[row] = keys[col]
        for row in range(n_add):
            if row in assigned:
                key = assigned[row]
                person_tags[key].append(t_i[row])
            else:
                key = next_id
                next_id += 1
                people[key] = np.zeros((K, 3), np.float32)
                person_tags[key] = [t_i[row]]
            people[key][idx] = (l_i[row][0], l_i[row][1], v_i[row])

    hm = heatmaps[0].numpy()
    H, W = hm.shape[-2:]
    result = np.array([people[key] for key in people],
                      np.float32).reshape(-1, K, 3)
    for person in result:
        for k, joint in enumerate(person):
            if joint[2] > 0:
                x, y = int(joint[0]), int(joint[1])
                m = hm[k]
                if 0 < x < W - 1:
                    joint[0] += 0.25 * np.sign(m[y, x + 1] - m[y, x - 1])
                if 0 < y < H - 1:
                    joint[1] += 0.25 * np.sign(m[y + 1, x] - m[y - 1, x])
    return result, list(person_tags.values()), result[:, :, 2].mean(axis=1)


def reference_fill(result: np.ndarray, tag_lists: List[list],
                   heatmaps: torch.Tensor, tags: torch.Tensor) -> np.ndarray:
    """Fill missing joints person by person, joint by joint, each a search
    over the whole map (only the missing joints, unlike the original
    HigherHRNet code, which searches all joints of every person)."""
    hm = heatmaps[0].numpy()
    tg = tags[0].numpy()
    H, W = hm.shape[-2:]
    for tag_list, person in zip(tag_lists, result):
        mean_tag = np.mean(tag_list, axis=0,
                           dtype=np.float64).astype(np.float32)
        for k in range(K):
            if person[k, 2] > 0:
                continue
            dist = np.abs(tg[k] - mean_tag[0])
            cost_map = hm[k] - np.round(dist)
            y, x = np.unravel_index(np.argmax(cost_map), cost_map.shape)
            val = hm[k, y, x]
            if val > 0:
                fx, fy = float(x), float(y)
                if 0 < x < W - 1:
                    fx += 0.25 * np.sign(hm[k, y, x + 1] - hm[k, y, x - 1])
                if 0 < y < H - 1:
                    fy += 0.25 * np.sign(hm[k, y + 1, x] - hm[k, y - 1, x])
                person[k] = (fx, fy, val)
    return result


def reference_decode(heatmaps: torch.Tensor, tags: torch.Tensor,
                     solver: Callable) -> Tuple[np.ndarray, ...]:
    """Decode one image; returns keypoints (N, K, 2), scores (N, K) and
    instance scores (N,) in heatmap pixels."""
    cands = reference_candidates(heatmaps, tags)
    result, tag_lists, inst = reference_group(*cands, heatmaps, solver)
    result = reference_fill(result, tag_lists, heatmaps, tags)
    return result[..., :2], result[..., 2], inst


def ours_decode(heatmaps: torch.Tensor,
                tags: torch.Tensor) -> Tuple[np.ndarray, ...]:
    kpts, scores, inst = decode_associative_embedding(heatmaps,
                                                      tags,
                                                      topk=TOPK,
                                                      val_thr=VAL_THR,
                                                      tag_thr=TAG_THR,
                                                      max_people=MAX_PEOPLE)
    return kpts[0], scores[0], inst[0]


def stage_timers(hm: torch.Tensor, tg: torch.Tensor) -> dict:
    """Callables timing each stage of both implementations on the same
    inputs (each stage fed with its own implementation's previous output,
    computed once up front)."""
    h, t = hm.numpy(), tg.numpy()
    vals, ctags, locs = find_candidates(h, t, TOPK, 5, VAL_THR)
    kpts, scores, ptags = group_keypoints(vals[0], ctags[0], locs[0],
                                          COCO_KEYPOINT_ORDER, VAL_THR,
                                          TAG_THR, MAX_PEOPLE)
    adjust_keypoints(kpts, scores, h[0])
    r_cands = reference_candidates(hm, tg)
    r_result, r_tags, _ = reference_group(*r_cands, hm, hungarian_pure_python)

    def ours_group():
        k, s, _ = group_keypoints(vals[0], ctags[0], locs[0],
                                  COCO_KEYPOINT_ORDER, VAL_THR, TAG_THR,
                                  MAX_PEOPLE)
        adjust_keypoints(k, s, h[0])

    return {
        ('candidates', 'ours'):
        lambda: find_candidates(h, t, TOPK, 5, VAL_THR),
        ('candidates', 'ref'):
        lambda: reference_candidates(hm, tg),
        ('grouping', 'ours'):
        ours_group,
        ('grouping', 'ref'):
        lambda: reference_group(*r_cands, hm, hungarian_pure_python),
        ('refinement', 'ours'):
        lambda: fill_missing_keypoints(kpts.copy(), scores.copy(), ptags, h[0],
                                       t[0]),
        ('refinement', 'ref'):
        lambda: reference_fill(r_result.copy(), r_tags, hm, tg),
    }


VARIANTS = {
    'ours':
    ours_decode,
    'ref, scipy Hungarian':
    lambda h, t: reference_decode(h, t, hungarian_scipy),
    'ref, pure-Python Hungarian':
    lambda h, t: reference_decode(h, t, hungarian_pure_python),
}


def check_same(name: str, a: Sequence[np.ndarray],
               b: Sequence[np.ndarray]) -> None:
    if a[0].shape != b[0].shape:
        raise AssertionError(f'{name}: {len(a[0])} vs {len(b[0])} people')
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-5, err_msg=name)


def _median_ms(fns: dict, repeats: int) -> dict:
    """Interleaved runs of every callable; median milliseconds."""
    times = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: float(np.median(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--threads',
                        type=int,
                        default=1,
                        help='torch intra-op threads (same for all variants)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f'17 joints, {SIZE}x{SIZE} maps, top-k {TOPK}, torch threads '
          f'{args.threads}, {args.repeats} interleaved runs, median ms')
    scenes = {num: make_scene(num, seed=num) for num in (1, 5, 20, 30)}
    groups = {}
    for num, (hm, tg) in scenes.items():
        outs = {name: fn(hm, tg) for name, fn in VARIANTS.items()}
        for name in list(VARIANTS)[1:]:
            check_same(f'{name} vs ours ({num} people)', outs['ours'],
                       outs[name])
        groups[num] = len(outs['ours'][0])
    print('All variants return identical people, joints and scores.\n')

    print('End to end (NMS, top-k, grouping, adjustment, refinement):\n')
    print('| people | groups | ours ms | ref, scipy Hungarian ms | ref, '
          'pure-Python Hungarian ms | speed-up vs pure-Python ref | '
          'vs scipy ref |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for num, (hm, tg) in scenes.items():
        med = _median_ms(
            {
                name: (lambda fn=fn: fn(hm, tg))
                for name, fn in VARIANTS.items()
            }, args.repeats)
        ours = med['ours']
        scipy_ref = med['ref, scipy Hungarian']
        py_ref = med['ref, pure-Python Hungarian']
        print(f'| {num} | {groups[num]} | {ours:.1f} | {scipy_ref:.1f} | '
              f'{py_ref:.1f} | {py_ref / ours:.1f}x | '
              f'{scipy_ref / ours:.1f}x |')

    print('\nPer stage, ours / pure-Python reference (ms):\n')
    print('| people | candidates (NMS + top-k) | grouping + adjustment | '
          'refinement (fill missing joints) |')
    print('|---:|---:|---:|---:|')
    for num, (hm, tg) in scenes.items():
        med = _median_ms(stage_timers(hm, tg), args.repeats)
        cells = []
        for stage in ('candidates', 'grouping', 'refinement'):
            ours, ref = med[(stage, 'ours')], med[(stage, 'ref')]
            cells.append(f'{ours:.2f} / {ref:.2f} ({ref / ours:.1f}x)')
        print(f'| {num} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
