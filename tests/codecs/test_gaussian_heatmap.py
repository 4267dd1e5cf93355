import numpy as np
import pytest
import torch

from mmpose_plus.codecs import (MSRAHeatmap, decode_heatmaps,
                                encode_gaussian_heatmaps, flip_heatmaps)
from mmpose_plus.registry import KEYPOINT_CODECS

INPUT_SIZE = (192, 256)
HEATMAP_SIZE = (48, 64)
STRIDE = 4.0
# COCO left/right swap
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def _random_keypoints(num_people=1, seed=0, margin=8.0):
    rng = np.random.default_rng(seed)
    w, h = INPUT_SIZE
    xy = np.empty((num_people, 17, 2))
    xy[..., 0] = rng.uniform(margin, w - margin, (num_people, 17))
    xy[..., 1] = rng.uniform(margin, h - margin, (num_people, 17))
    return xy


def _render_subpixel(centres, size, sigma=2.0):
    """Gaussians centred exactly on sub-pixel locations, shape (1, K, H, W):
    what a well-trained network approximates."""
    W, H = size
    ys, xs = np.mgrid[0:H, 0:W]
    maps = [
        np.exp(-((xs - cx)**2 + (ys - cy)**2) / (2 * sigma**2))
        for cx, cy in centres
    ]
    return np.stack(maps)[None].astype(np.float32)


def test_encode_draws_unit_peak_in_3_sigma_window():
    hm, w = encode_gaussian_heatmaps(np.array([[[20.4, 30.6]]]),
                                     None,
                                     HEATMAP_SIZE,
                                     sigma=2)
    assert hm.shape == (1, 64, 48) and hm.dtype == np.float32
    assert w.tolist() == [[1.0]]
    # centred on the nearest pixel, peak exactly 1
    assert np.unravel_index(hm[0].argmax(), hm[0].shape) == (31, 20)
    assert hm[0, 31, 20] == 1.0
    # radius int(3 sigma) = 6: a 13 x 13 support, nothing outside it
    ys, xs = np.nonzero(hm[0])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (14, 26, 25, 37)
    assert hm[0, 31, 21] == pytest.approx(np.exp(-1 / 8), rel=1e-6)


def test_encode_merges_people_with_maximum():
    kpts = np.array([[[10., 10.]], [[13., 10.]]])
    hm, _ = encode_gaussian_heatmaps(kpts, None, HEATMAP_SIZE, sigma=2)
    assert hm[0, 10, 10] == 1.0 and hm[0, 10, 13] == 1.0
    # between the two: the larger of the two tails, not their sum
    assert hm[0, 10, 11] == pytest.approx(np.exp(-1 / 8), rel=1e-6)


def test_window_at_border_truncated_and_outside_gets_weight_zero():
    W, H = HEATMAP_SIZE
    kpts = np.array([[
        [-2.0, 10.0],  # window crosses the left border: drawn, weight 1
        [-6.0, 10.0],  # window [-12, 0]: only column 0 left, weight 1
        [-7.0, 10.0],  # window [-13, -1]: entirely outside, weight 0
        [W + 6.6, 10.0],  # rounds to W + 7: outside on the right
        [20.0, -9.0],  # outside above
        [20.0, 20.0],  # inside but invisible
    ]])
    visible = np.array([[1, 1, 1, 1, 1, 0]])
    hm, w = encode_gaussian_heatmaps(kpts, visible, HEATMAP_SIZE, sigma=2)
    assert w.tolist() == [[1, 1, 0, 0, 0, 0]]
    assert hm[0, 10, 0] == pytest.approx(np.exp(-4 / 8), rel=1e-6)
    assert hm[0].max() < 1  # the peak itself is off the map
    assert np.count_nonzero(hm[1, :, 1:]) == 0 and hm[1, 10, 0] > 0
    assert not hm[2:].any()


@pytest.mark.parametrize('refine', ['quarter', 'dark', None])
def test_round_trip_within_half_heatmap_pixel(refine):
    codec = MSRAHeatmap(INPUT_SIZE, HEATMAP_SIZE, sigma=2, refine=refine)
    kpts = _random_keypoints(num_people=1, seed=1)
    enc = codec.encode(kpts)
    assert enc['keypoint_weights'].tolist() == [[1.0] * 17]
    dec, scores = codec.decode(enc['heatmaps'])
    assert dec.shape == (1, 17, 2) and scores.shape == (1, 17)
    np.testing.assert_allclose(scores, 1.0)
    # the target is centred on the nearest pixel: error <= half a heatmap
    # pixel per axis (2 input pixels at stride 4)
    assert np.abs(dec - kpts).max() <= STRIDE / 2 + 1e-3
    # keypoints on the heatmap grid whose window is not cut by the border
    # come back exactly (a cut window biases DARK slightly)
    on_grid = np.round(_random_keypoints(1, seed=2, margin=32) / STRIDE)
    on_grid *= STRIDE
    dec, _ = codec.decode(codec.encode(on_grid)['heatmaps'])
    np.testing.assert_allclose(dec, on_grid, atol=1e-2)


def test_quarter_shift_moves_towards_higher_neighbour():
    hm = np.zeros((1, 2, 16, 16), np.float32)
    hm[0, 0, 5, 7], hm[0, 0, 5, 8], hm[0, 0, 4, 7] = 1.0, 0.6, 0.3
    hm[0, 1, 0, 3] = 1.0  # on the top border: no y shift, x tie: no shift
    kpts, scores = decode_heatmaps(hm)
    assert kpts[0, 0].tolist() == [7.25, 4.75]
    assert kpts[0, 1].tolist() == [3.0, 0.0]
    assert scores[0].tolist() == [1.0, 1.0]
    kpts, _ = decode_heatmaps(hm, refine=None)
    assert kpts[0, 0].tolist() == [7.0, 5.0]


def test_dark_is_sub_pixel_accurate_and_beats_quarter():
    rng = np.random.default_rng(3)
    centres = rng.uniform(8, 40, (17, 2))
    maps = _render_subpixel(centres, HEATMAP_SIZE)
    quarter, _ = decode_heatmaps(maps, refine='quarter')
    dark, _ = decode_heatmaps(maps, refine='dark', blur_kernel_size=11)
    err_q = np.abs(quarter[0] - centres).max(axis=1)
    err_d = np.abs(dark[0] - centres).max(axis=1)
    assert err_q.max() <= 0.25 + 1e-6
    assert err_d.max() < 0.05
    assert err_d.mean() < err_q.mean() / 3
    # on integer-centred targets both are exact: DARK matches
    hm, _ = encode_gaussian_heatmaps(
        np.round(centres)[None], None, HEATMAP_SIZE, 2)
    dark, _ = decode_heatmaps(hm, refine='dark')
    np.testing.assert_allclose(dark[0], np.round(centres), atol=1e-3)


def test_decode_accepts_tensors_and_batches():
    rng = np.random.default_rng(4)
    maps = rng.random((3, 17, 64, 48)).astype(np.float32)
    k_np, s_np = decode_heatmaps(maps)
    k_t, s_t = decode_heatmaps(torch.from_numpy(maps))
    np.testing.assert_array_equal(k_np, k_t)
    np.testing.assert_array_equal(s_np, s_t)
    k_single, _ = decode_heatmaps(maps[1])
    np.testing.assert_array_equal(k_single[0], k_np[1])
    np.testing.assert_array_equal(s_np, maps.reshape(3, 17, -1).max(-1))


def test_flip_test_is_consistent():
    """Decoding the flipped-back heatmaps of the mirrored image lands within
    one heatmap pixel of the truth, and averaging keeps it there."""
    codec = MSRAHeatmap(INPUT_SIZE, HEATMAP_SIZE, sigma=2)
    kpts = _random_keypoints(num_people=1, seed=5)
    mirrored = kpts[:, COCO_FLIP].copy()
    mirrored[..., 0] = INPUT_SIZE[0] - 1 - mirrored[..., 0]
    hm = codec.encode(kpts)['heatmaps']
    hm_flip = codec.encode(mirrored)['heatmaps']
    back = flip_heatmaps(hm_flip, COCO_FLIP, shift_heatmap=True)
    dec_back, _ = codec.decode(back)
    assert np.abs(dec_back - kpts).max() <= STRIDE + 1e-3
    dec_avg, _ = codec.decode((hm + back) / 2)
    assert np.abs(dec_avg - kpts).max() <= STRIDE + 1e-3
    # without the shift the flipped-back peaks sit left of the truth
    no_shift = flip_heatmaps(hm_flip, COCO_FLIP, shift_heatmap=False)
    dec_ns, _ = codec.decode(no_shift)
    assert (dec_ns[..., 0] - kpts[..., 0]).mean() < -STRIDE / 2


def test_flip_heatmaps_numpy_torch_and_involution():
    rng = np.random.default_rng(6)
    maps = rng.random((2, 17, 8, 6)).astype(np.float32)
    out_np = flip_heatmaps(maps, COCO_FLIP, shift_heatmap=False)
    out_t = flip_heatmaps(torch.from_numpy(maps), COCO_FLIP, False)
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_array_equal(out_np, out_t.numpy())
    # channel 1 (left eye) becomes channel 2 (right eye), mirrored
    np.testing.assert_array_equal(out_np[:, 2], maps[:, 1, :, ::-1])
    np.testing.assert_array_equal(
        flip_heatmaps(out_np, COCO_FLIP, shift_heatmap=False), maps)
    shifted = flip_heatmaps(maps, COCO_FLIP, shift_heatmap=True)
    np.testing.assert_array_equal(shifted[..., 1:], out_np[..., :-1])
    np.testing.assert_array_equal(shifted[..., 0], out_np[..., 0])
    with pytest.raises(ValueError, match='permutation'):
        flip_heatmaps(maps, COCO_FLIP[:-1])
    with pytest.raises(ValueError, match='permutation'):
        flip_heatmaps(maps, [0] * 17)


def test_codec_is_registered_and_scales_coordinates():
    codec = KEYPOINT_CODECS.build(
        dict(type='MSRAHeatmap',
             input_size=(192, 256),
             heatmap_size=(48, 64),
             sigma=2,
             refine='dark'))
    assert isinstance(codec, MSRAHeatmap)
    assert codec.blur_kernel_size == 11
    np.testing.assert_allclose(codec.scale_factor, [4, 4])
    kpts = np.array([[[100., 60.]]])
    enc = codec.encode(kpts)
    assert enc['heatmaps'][0, 15, 25] == 1.0
    dec, _ = codec.decode(torch.from_numpy(enc['heatmaps'][None]))
    np.testing.assert_allclose(dec, kpts, atol=1e-2)


def test_bad_input_raises_readable_errors():
    codec = MSRAHeatmap(INPUT_SIZE, HEATMAP_SIZE)
    with pytest.raises(ValueError, match='heatmap_size'):
        codec.decode(np.zeros((17, 32, 32)))
    with pytest.raises(ValueError, match='refine'):
        MSRAHeatmap(INPUT_SIZE, HEATMAP_SIZE, refine='udp')
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        codec.encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match='visible'):
        codec.encode(np.zeros((1, 17, 2)), np.ones((1, 16)))
    bad = np.zeros((1, 17, 2))
    bad[0, 3, 0] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        codec.encode(bad)
    vis = np.ones((1, 17))
    vis[0, 3] = 0  # an invisible NaN joint is fine
    assert codec.encode(bad, vis)['keypoint_weights'][0, 3] == 0
