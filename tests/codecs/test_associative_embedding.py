import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmpose_plus.codecs import (AssociativeEmbedding, aggregate_flip,
                                aggregate_multiscale,
                                decode_associative_embedding,
                                encode_keypoint_indices)
from mmpose_plus.codecs import associative_embedding as ae_module
from mmpose_plus.codecs.associative_embedding import (
    COCO_KEYPOINT_ORDER, _BlockPyramid, adjust_keypoints,
    fill_missing_keypoints, find_candidates, group_keypoints, heatmap_nms)
from mmpose_plus.registry import KEYPOINT_CODECS

K = 17
INPUT = 256
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def _codec(**kwargs):
    return AssociativeEmbedding((INPUT, INPUT), [(64, 64), (128, 128)],
                                sigma=2,
                                **kwargs)


def _sample_people(num, seed, size=128, min_dist=8.0, margin=4.0):
    """(num, K, 2) heatmap-pixel keypoints; joints of one type are at least
    ``min_dist`` apart so that every joint is its own NMS peak."""
    rng = np.random.default_rng(seed)
    out = np.zeros((num, K, 2))
    for k in range(K):
        got = []
        while len(got) < num:
            p = rng.uniform(margin, size - 1 - margin, 2)
            if all(np.hypot(*(p - q)) >= min_dist for q in got):
                got.append(p)
        out[:, k] = got
    return out


def _ideal_tags(kpts_hm, tag_values, size):
    """Tag maps (K, H, W) where every pixel carries the tag of the person
    whose joint is nearest: each person's joints share one distinct value."""
    ys, xs = np.mgrid[0:size, 0:size]
    centres = np.floor(kpts_hm + 0.5)
    tags = np.zeros((K, size, size), np.float32)
    for k in range(K):
        d = ((xs[None] - centres[:, k, 0, None, None])**2 +
             (ys[None] - centres[:, k, 1, None, None])**2)
        tags[k] = tag_values[d.argmin(axis=0)]
    return tags


def _scene(num, seed, size=128, visible=None):
    codec = _codec()
    kpts_hm = _sample_people(num, seed, size)
    kpts = kpts_hm * (INPUT / size)
    enc = codec.encode(kpts, visible)
    heatmaps = enc['heatmaps'][1] if size == 128 else enc['heatmaps'][0]
    rng = np.random.default_rng(seed + 100)
    tag_values = rng.permutation(num) * 3.0 - 20
    return codec, kpts, heatmaps, _ideal_tags(kpts_hm, tag_values, size)


def _assignment(decoded, truth, tol):
    """Map each decoded person to the ground-truth person that owns all of
    its detected joints; fail on mixed people or misplaced joints."""
    owners = []
    for person, scores in decoded:
        found = scores > 0
        err = np.abs(person[None] - truth).max(axis=-1)  # (N_gt, K)
        owner = err[:, found].max(axis=1).argmin()
        assert err[owner, found].max() <= tol, err[owner, found].max()
        owners.append(int(owner))
    return owners


@pytest.mark.parametrize('num', [5, 20])
def test_decode_of_encoded_ground_truth_recovers_every_person(num):
    codec, kpts, heatmaps, tags = _scene(num, seed=num)
    dec, kpt_scores, inst_scores = codec.decode(heatmaps, tags)
    assert dec.shape == (num, K, 2) and kpt_scores.shape == (num, K)
    assert inst_scores.shape == (num, )
    np.testing.assert_allclose(kpt_scores, 1.0)
    np.testing.assert_allclose(inst_scores, 1.0)
    # input stride 2: nearest-pixel targets are within one input pixel
    owners = _assignment(zip(dec, kpt_scores), kpts, tol=1.0 + 1e-3)
    assert sorted(owners) == list(range(num))


def test_invisible_joints_are_missing_or_refined_from_weak_responses():
    num = 6
    vis = np.ones((num, K))
    vis[0, 9] = vis[2, 9] = vis[3, 16] = 0  # a wrist and an ankle hidden
    vis[:, 4] = 0  # one joint type absent for everybody
    codec, kpts, heatmaps, tags = _scene(num, seed=7, visible=vis)
    # the network still sees the hidden wrist of person 0 weakly (below the
    # detection threshold) at the right place, with the right tag
    cx, cy = np.floor(kpts[0, 9] / 2 + 0.5).astype(int)
    heatmaps[9, cy, cx] = 0.05

    dec, scores, inst = _codec(decode_refine=False).decode(heatmaps, tags)
    assert len(dec) == num
    owners = _assignment(zip(dec, scores), kpts, tol=1.0 + 1e-3)
    assert sorted(owners) == list(range(num))
    missing = {(p, k) for p in range(num) for k in range(K) if not vis[p, k]}
    for d, p in enumerate(owners):
        for k in range(K):
            assert (scores[d, k] == 0) == ((p, k) in missing)
        # person score: mean over all K joints, missing ones count as 0
        assert inst[d] == pytest.approx(vis[p].mean())

    dec, scores, inst_refined = codec.decode(heatmaps, tags)
    np.testing.assert_allclose(np.sort(inst_refined), np.sort(inst))
    owners = _assignment(zip(dec, scores), kpts, tol=1.0 + 1e-3)
    d0 = owners.index(0)
    assert scores[d0, 9] == pytest.approx(0.05)
    np.testing.assert_allclose(dec[d0, 9], kpts[0, 9], atol=1.0 + 1e-3)
    # nothing to find for the absent joint type: it stays empty
    assert (scores[:, 4] == 0).all() and (dec[:, 4] == 0).all()


def test_zero_people_gives_empty_output():
    codec = _codec()
    enc = codec.encode(np.zeros((0, K, 2)))
    assert all(not h.any() for h in enc['heatmaps'])
    assert enc['keypoint_indices'].shape == (30, K, 2)
    assert not enc['keypoint_indices'].any()
    assert enc['keypoint_weights'].shape == (0, K)
    kpts, scores, inst = codec.batch_decode(torch.zeros(2, K, 128, 128),
                                            torch.zeros(2, K, 128, 128))
    assert [k.shape for k in kpts] == [(0, K, 2)] * 2
    assert [s.shape for s in scores] == [(0, K)] * 2
    assert [i.shape for i in inst] == [(0, )] * 2


def test_encode_heatmaps_and_keypoint_indices():
    codec = _codec(max_people=3)
    kpts = np.full((4, K, 2), 40.0)
    kpts[:, 0] = [[8, 20], [101, 51], [300, 10], [64, 64]]
    vis = np.ones((4, K))
    vis[1, 1] = 0
    enc = codec.encode(kpts, vis)
    hm64, hm128 = enc['heatmaps']
    assert hm64.shape == (K, 64, 64) and hm128.shape == (K, 128, 128)
    assert hm64[0, 5, 2] == 1.0 and hm128[0, 10, 4] == 1.0
    idx = enc['keypoint_indices']
    assert idx.shape == (3, K, 2) and idx.dtype == np.int64
    # index y * W + x of the nearest pixel at the first (tag) resolution
    assert idx[0, 0].tolist() == [5 * 64 + 2, 1]
    assert idx[1, 0].tolist() == [13 * 64 + 25, 1]  # (25.25, 12.75)
    assert idx[2, 0].tolist() == [0, 0]  # x = 75 > 63: off the map
    assert idx[1, 1].tolist() == [0, 0]  # invisible
    assert idx[0, 1].tolist() == [10 * 64 + 10, 1]
    # the 4th person does not fit in max_people rows but is still drawn
    assert hm64[0, 16, 16] == 1.0
    assert enc['keypoint_weights'][2, 0] == 0
    assert enc['keypoint_weights'][1, 1] == 0
    assert encode_keypoint_indices(np.zeros((0, K, 2)), None, (8, 8),
                                   4).shape == (4, K, 2)


def test_keypoint_indices_gather_the_tags_of_the_right_pixels():
    """The loss reads tags with these indices: they must hit the joints."""
    codec, kpts, _, _ = _scene(5, seed=3, size=64)
    tags = _ideal_tags(kpts / 4, np.arange(5.0) + 1, 64)
    idx = codec.encode(kpts)['keypoint_indices']
    flat = tags.reshape(K, -1)
    for p in range(5):
        assert idx[p, :, 1].all()
        np.testing.assert_array_equal(flat[np.arange(K), idx[p, :, 0]],
                                      p + 1.0)


def test_heatmap_nms_matches_max_pool_and_keeps_separated_peaks():
    rng = np.random.default_rng(0)
    maps = rng.random((2, 3, 23, 17)).astype(np.float32)
    maps[0, 0, 4:8, 4:8] = 0.99  # plateau: every tied pixel survives
    for kernel in (3, 5):
        pooled = F.max_pool2d(torch.from_numpy(maps), kernel, 1, kernel // 2)
        expect = np.where(pooled.numpy() == maps, maps, 0)
        np.testing.assert_array_equal(heatmap_nms(maps, kernel), expect)
    hm = np.zeros((1, 1, 16, 16), np.float32)
    hm[0, 0, 8, 5], hm[0, 0, 8, 7], hm[0, 0, 8, 10] = 1.0, 0.9, 0.8
    out = heatmap_nms(hm, 5)[0, 0]
    # 0.9 is 2 px from 1.0 (inside the 5x5 window): suppressed;
    # 0.8 is 3 px from 0.9 and 5 px from 1.0: kept
    assert out[8, 5] == 1.0 and out[8, 7] == 0 and out[8, 10] == 0.8
    with pytest.raises(ValueError, match='odd'):
        heatmap_nms(hm, 4)


def test_find_candidates_equals_nms_then_topk_then_threshold():
    rng = np.random.default_rng(1)
    maps = rng.normal(0, 0.05, (2, 3, 37, 29)).astype(np.float32)
    for _ in range(40):  # peaks, some adjacent, some tied
        b, k = rng.integers(0, 2), rng.integers(0, 3)
        y, x = rng.integers(0, 37), rng.integers(0, 29)
        maps[b, k, y, x] = np.round(rng.uniform(0.1, 1), 1)
    tags = rng.normal(0, 1, (2, 6, 37, 29)).astype(np.float32)
    for kernel, topk, thr in ((5, 4, 0.1), (3, 30, 0.0), (5, 30, 0.1)):
        vals, ctags, locs = find_candidates(maps, tags, topk, kernel, thr)
        assert vals.shape == (2, 3, topk)
        assert ctags.shape == (2, 3, topk, 2)
        nms = heatmap_nms(maps, kernel)
        for b in range(2):
            for k in range(3):
                flat = nms[b, k].ravel()
                order = np.argsort(-flat, kind='stable')[:topk]
                order = order[flat[order] > thr]
                n = len(order)
                np.testing.assert_array_equal(vals[b, k, :n], flat[order])
                assert np.isneginf(vals[b, k, n:]).all()
                # same pixels (ties may come in another order)
                got = locs[b, k, :n, 1] * 29 + locs[b, k, :n, 0]
                assert sorted(got) == sorted(order)
                np.testing.assert_array_equal(ctags[b, k, :n, 0],
                                              tags[b, k].ravel()[got])
                np.testing.assert_array_equal(ctags[b, k, :n, 1],
                                              tags[b, 3 + k].ravel()[got])


def _fill_by_full_search(keypoints, scores, person_tags, heatmaps, tags):
    """Whole-map search person by person and joint by joint."""
    K, H, W = heatmaps.shape
    L = tags.shape[0] // K
    tag_maps = tags.reshape(L, K, H, W)
    pt = person_tags.astype(np.float32)
    for p in range(len(scores)):
        for k in range(K):
            if scores[p, k] != 0:
                continue
            d = np.sqrt(((tag_maps[:, k] - pt[p, :, None, None])**2).sum(0))
            if L == 1:
                d = np.abs(tag_maps[0, k] - pt[p, 0])
            idx = (heatmaps[k] - np.round(d)).argmax()
            y, x = divmod(idx, W)
            if heatmaps[k, y, x] > 0:
                kp = np.array([[[x, y]]], np.float32)
                adjust_keypoints(kp, np.ones((1, 1)), heatmaps[k:k + 1])
                keypoints[p, k] = kp[0, 0]
                scores[p, k] = heatmaps[k, y, x]
    return keypoints, scores


@pytest.mark.parametrize('L', [1, 2])
def test_fill_missing_keypoints_equals_full_map_search(L):
    """The branch-and-bound search must return exactly what a
    whole-map arg-max returns, ties (first pixel) and map borders (sizes
    that are not block multiples) included."""
    rng = np.random.default_rng(L)
    for trial in range(6):
        K, H, W = 3, int(rng.integers(20, 70)), int(rng.integers(20, 70))
        heat = rng.normal(0, 0.03, (K, H, W)).astype(np.float32)
        if trial % 2:
            heat = (np.round(heat * 50) / 50).astype(np.float32)  # ties
        heat.reshape(-1)[rng.integers(0, heat.size, 12)] = rng.random(12)
        tags = rng.normal(0, 2, (L * K, H, W)).astype(np.float32)
        if trial % 3 == 0:
            tags = (np.round(tags * 2) / 2).astype(np.float32)
        G = int(rng.integers(1, 25))
        scores = (rng.random((G, K)) > 0.5).astype(np.float32)
        kpts = np.zeros((G, K, 2), np.float32)
        ptags = rng.normal(0, 3, (G, L))
        got = fill_missing_keypoints(kpts.copy(), scores.copy(), ptags, heat,
                                     tags)
        want = _fill_by_full_search(kpts.copy(), scores.copy(), ptags, heat,
                                    tags)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _best_by_full_search(heat, tags, joints, query_tags):
    """Flat arg-max of ``heat - round(||tag - query tag||)`` over the whole
    map, one query at a time (first pixel on ties)."""
    K = heat.shape[0]
    L = tags.shape[0] // K
    tag_maps = tags.reshape(L, K, -1)
    out = []
    for k, t in zip(joints, query_tags.astype(np.float32)):
        diff = tag_maps[:, k] - t[:, None]
        d = np.abs(diff[0]) if L == 1 else np.sqrt((diff**2).sum(0))
        out.append((heat[k].ravel() - np.round(d)).argmax())
    return np.array(out)


def _search_scene(kind, rng, K, H, W, L):
    """Heatmaps and tag maps for the search tests. ``cells``: like a
    network output, each pixel with the (noisy) tag of the nearest of a few
    people, Gaussian peaks on weak noise; ``ties``: few distinct values, so
    that many pixels share the best cost; ``noise``; ``nonpositive``: no
    positive heat at all."""
    if kind == 'cells':
        n = 6
        seeds = rng.uniform(0, 1, (K, n, 2)) * [H, W]
        values = rng.normal(0, 4, (n, L)) + np.arange(n)[:, None] * 3
        ys, xs = np.mgrid[0:H, 0:W]
        heat = rng.normal(0, 0.01, (K, H, W))
        tags = np.empty((L, K, H, W))
        for k in range(K):
            d2 = ((ys[None] - seeds[k, :, 0, None, None])**2 +
                  (xs[None] - seeds[k, :, 1, None, None])**2)
            tags[:, k] = values[d2.argmin(0)].transpose(2, 0, 1)
            # some people hidden (no peak): their joint is found in noise
            peak = rng.uniform(0.05, 1, (n, 1, 1)) * (rng.random(
                (n, 1, 1)) > 0.3)
            heat[k] += (peak * np.exp(-d2 / 8)).max(0)
        tags += rng.normal(0, 0.1, tags.shape)
    elif kind == 'ties':
        heat = rng.integers(-2, 3, (K, H, W)) / 4
        tags = rng.integers(-4, 5, (L, K, H, W)) / 2
    else:
        heat = rng.normal(0, 0.05, (K, H, W))
        heat.reshape(-1)[rng.integers(0, heat.size, 10)] = rng.random(10)
        tags = rng.normal(0, 2, (L, K, H, W))
        if kind == 'nonpositive':
            heat = -np.abs(heat)
    return (heat.astype(np.float32), tags.reshape(L * K, H,
                                                  W).astype(np.float32))


def _search_queries(rng, tags, K, num=40):
    """Joint and tag of each query: random tags, tags found on the map
    (distance 0) and tags half a unit from map values (rounding ties)."""
    L = tags.shape[0] // K
    joints = rng.integers(0, K, num)
    flat = tags.reshape(L, K, -1)
    pixel = flat[:, joints, rng.integers(0, flat.shape[-1], num)].T
    shift = np.where(rng.random((num, 1)) > 0.5, 0.5, 0)
    qtags = np.where(
        rng.random((num, 1)) > 0.3, pixel + shift, rng.normal(0, 4, (num, L)))
    return joints, qtags.astype(np.float32)


@pytest.mark.parametrize('size,L', [((37, 53), 1), ((37, 53), 2), ((3, 5), 1),
                                    ((64, 64), 2), ((130, 97), 1),
                                    ((256, 256), 1)])
def test_block_search_equals_full_map_argmax(size, L):
    """The branch-and-bound arg-max equals a whole-map arg-max, first pixel
    on ties, whatever the map size (not a multiple of the blocks, smaller
    than one block, several pyramid levels) and the number of tag
    components, also where the winning cost is not positive."""
    H, W = size
    K = 3
    rng = np.random.default_rng(H * W + L)
    for kind in ('cells', 'ties', 'noise', 'nonpositive'):
        heat, tags = _search_scene(kind, rng, K, H, W, L)
        joints, qtags = _search_queries(rng, tags, K)
        got = _BlockPyramid(heat, tags).best_pixels(joints, qtags)
        want = _best_by_full_search(heat, tags, joints, qtags)
        np.testing.assert_array_equal(got, want, err_msg=kind)


def test_block_search_in_small_chunks_and_degenerate_maps(monkeypatch):
    """Splitting the queries to bound memory changes nothing; a map where
    every pixel ties returns its first pixel; NaN or inf inputs fall back to
    a dense search with the same result as a whole-map arg-max."""
    rng = np.random.default_rng(3)
    K, H, W = 3, 70, 45
    heat, tags = _search_scene('cells', rng, K, H, W, 1)
    joints, qtags = _search_queries(rng, tags, K, num=60)
    want = _best_by_full_search(heat, tags, joints, qtags)
    monkeypatch.setattr(ae_module, '_FILL_CHUNK', 64)
    got = _BlockPyramid(heat, tags).best_pixels(joints, qtags)
    np.testing.assert_array_equal(got, want)
    monkeypatch.undo()

    flat = np.full((K, H, W), 0.5, np.float32)
    got = _BlockPyramid(flat, np.ones((K, H, W),
                                      np.float32)).best_pixels(joints, qtags)
    assert (got == 0).all()

    for bad in (np.nan, np.inf):
        t = tags.copy()
        t[1, 20, 30] = bad
        h = heat.copy()
        h[2, 5, 7] = bad
        pyramid = _BlockPyramid(h, t)
        assert not pyramid.finite
        np.testing.assert_array_equal(
            pyramid.best_pixels(joints, qtags),
            _best_by_full_search(h, t, joints, qtags))


def _reference_grouping(vals, tags, locs, order, val_thr, tag_thr, max_people):
    """Straightforward list-of-people version of the greedy grouping."""
    people = []  # each: dict(kpts, scores, tags=list)
    for k in order:
        keep = vals[k] > val_thr
        v, t, loc = vals[k][keep], tags[k][keep], locs[k][keep]
        if len(v) == 0:
            continue
        if not people:
            assigned = {}
        else:
            offered = people[:max_people]
            means = np.array([np.mean(p['tags'], axis=0) for p in offered])
            dist = np.linalg.norm(t[:, None] - means[None], axis=2)
            cost = np.round(dist) * 100 - v[:, None]
            rows, cols = linear_sum_assignment(cost)
            assigned = {
                r: c
                for r, c in zip(rows, cols) if dist[r, c] < tag_thr
            }
        for r in range(len(v)):
            if r in assigned:
                person = people[assigned[r]]
            else:
                person = dict(kpts=np.zeros((K, 2)),
                              scores=np.zeros(K),
                              tags=[])
                people.append(person)
            person['kpts'][k] = loc[r]
            person['scores'][k] = v[r]
            person['tags'].append(t[r])
    return people


@pytest.mark.parametrize('max_people', [30, 4])
def test_vectorised_grouping_equals_straightforward_grouping(max_people):
    rng = np.random.default_rng(11)
    for trial in range(20):
        m = 12
        vals = np.sort(rng.random((K, m)), axis=1)[:, ::-1] * 0.6
        tags = np.round(rng.normal(0, 4, (K, m, 2)), 1)
        locs = rng.integers(0, 64, (K, m, 2)).astype(float)
        order = rng.permutation(K) if trial % 2 else COCO_KEYPOINT_ORDER
        kpts, scores, ptags = group_keypoints(vals, tags, locs, order, 0.1,
                                              1.0, max_people)
        ref = _reference_grouping(vals, tags, locs, order, 0.1, 1.0,
                                  max_people)
        assert len(kpts) == len(ref)
        for got_k, got_s, got_t, want in zip(kpts, scores, ptags, ref):
            np.testing.assert_allclose(got_s, want['scores'], rtol=1e-6)
            np.testing.assert_array_equal(got_k, want['kpts'])
            np.testing.assert_allclose(got_t,
                                       np.mean(want['tags'], 0),
                                       atol=1e-9)


def _mirror(x, perm):
    return torch.flip(x, [-1])[:, perm]


def test_flip_test_is_consistent():
    """A mirror-equivariant network (its output on the flipped image is the
    mirrored output with left/right joints swapped) decodes to the same
    people with and without the flip test."""
    codec, kpts, heatmaps, tags = _scene(8, seed=21)
    hm = torch.from_numpy(heatmaps)[None]
    tg = torch.from_numpy(tags)[None]
    hm_f, tg_f = _mirror(hm, COCO_FLIP), _mirror(tg, COCO_FLIP)
    agg_hm, agg_tg = aggregate_flip(hm, tg, hm_f, tg_f, COCO_FLIP)
    assert agg_tg.shape == (1, 2 * K, 128, 128)
    torch.testing.assert_close(agg_hm, hm)
    torch.testing.assert_close(agg_tg[:, K:], tg)
    # a wrong permutation would put the right wrist's map on the left wrist
    wrong, _ = aggregate_flip(hm, tg, hm_f, tg_f, list(range(K)))
    assert not torch.allclose(wrong, hm)

    plain = codec.batch_decode(hm, tg)
    flipped = codec.batch_decode(agg_hm, agg_tg)
    for a, b in zip(plain, flipped):
        np.testing.assert_allclose(a[0], b[0], atol=1e-6)
    owners = _assignment(zip(flipped[0][0], flipped[1][0]), kpts, 1 + 1e-3)
    assert sorted(owners) == list(range(8))
    with pytest.raises(ValueError, match='permutation'):
        aggregate_flip(hm, tg, hm_f, tg_f, COCO_FLIP[:5])


def test_multiscale_averages_heatmaps_and_stacks_tags():
    rng = np.random.default_rng(2)
    a, b = torch.rand(1, K, 32, 32), torch.rand(1, K, 32, 32)
    ta, tb = torch.rand(1, K, 32, 32), torch.rand(1, 2 * K, 32, 32)
    hm, tg = aggregate_multiscale([a, b], [ta, tb], (32, 32))
    torch.testing.assert_close(hm, (a + b) / 2)
    torch.testing.assert_close(tg, torch.cat([ta, tb], 1))
    small = torch.from_numpy(rng.random((1, K, 16, 16)).astype(np.float32))
    hm, _ = aggregate_multiscale([small, a], [ta], (32, 32))
    up = F.interpolate(small,
                       size=(32, 32),
                       mode='bilinear',
                       align_corners=False)
    torch.testing.assert_close(hm, (up + a) / 2)

    # people encoded at 1/4 and 1/2 resolution, decoded on the average
    codec, kpts, hm128, tags128 = _scene(10, seed=5)
    hm64 = codec.encode(kpts)['heatmaps'][0]
    tags64 = tags128[:, ::2, ::2].copy()
    hm_avg, tg = aggregate_multiscale(
        [torch.from_numpy(hm64)[None],
         torch.from_numpy(hm128)[None]],
        [torch.from_numpy(tags64)[None],
         torch.from_numpy(tags128)[None]], (128, 128))
    assert tg.shape == (1, 2 * K, 128, 128)
    dec, scores, _ = codec.batch_decode(hm_avg, tg)
    assert len(dec[0]) == 10 and (scores[0] > 0.9).all()
    owners = _assignment(zip(dec[0], scores[0]), kpts, tol=2.0 + 1e-3)
    assert sorted(owners) == list(range(10))


def test_codec_registry_and_bad_input():
    codec = KEYPOINT_CODECS.build(
        dict(type='AssociativeEmbedding',
             input_size=(512, 512),
             heatmap_size=(128, 128),
             sigma=2))
    assert isinstance(codec, AssociativeEmbedding)
    assert codec.heatmap_sizes == [(128, 128)]
    with pytest.raises(ValueError, match='sigmas'):
        AssociativeEmbedding((512, 512), [(128, 128), (256, 256)],
                             sigma=[2, 2, 2])
    with pytest.raises(ValueError, match=r'L\*K'):
        decode_associative_embedding(np.zeros((1, K, 8, 8)),
                                     np.zeros((1, K + 1, 8, 8)))
    with pytest.raises(ValueError, match='do not fit'):
        decode_associative_embedding(np.zeros((1, K, 8, 8)),
                                     np.zeros((1, K, 8, 9)))
    with pytest.raises(ValueError, match='keypoint_order'):
        decode_associative_embedding(np.ones((1, 3, 8, 8)),
                                     np.zeros((1, 3, 8, 8)),
                                     keypoint_order=[0, 1, 1])
