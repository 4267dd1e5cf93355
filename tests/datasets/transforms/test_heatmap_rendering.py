"""Pure numpy heatmap rendering: parity with mmaction2 1.1.0's
GeneratePoseTarget (the oracle) and the documented edge-case rules."""
import numpy as np
import pytest
from mmaction.datasets.transforms import GeneratePoseTarget as RefTarget

from mmpose_plus.datasets.transforms.heatmap_rendering import (
    COCO_LEFT_KP, COCO_LEFT_LIMB, COCO_RIGHT_KP, COCO_RIGHT_LIMB,
    COCO_SKELETON, flip_channel_indices, flip_heatmaps, heatmap_canvas,
    invalid_joint_mask, render_keypoint_heatmaps, render_limb_heatmaps,
    render_pose_heatmaps)

TOL = 1e-5


def _oracle(kp,
            score,
            hw,
            sigma,
            with_kp=True,
            with_limb=False,
            skeletons=COCO_SKELETON,
            use_score=True):
    """mmaction2's maps for float32 keypoints already in heatmap pixels."""
    ref = RefTarget(sigma=sigma,
                    use_score=use_score,
                    with_kp=with_kp,
                    with_limb=with_limb,
                    skeletons=skeletons)
    results = dict(keypoint=kp.copy(), img_shape=hw)
    if score is not None:
        results['keypoint_score'] = score.copy()
    return ref.gen_an_aug(results)


def _clip(rng, m=2, t=3, v=17, h=24, w=32, spread=1.4, dead=0.15):
    """Random joints, some outside the image, some with score 0, some limbs
    shorter than a pixel (joint 1 placed next to joint 0)."""
    kp = (rng.random((m, t, v, 2)) * spread - (spread - 1) / 2) * [w, h]
    kp = kp.astype(np.float32)
    if v > 1:
        kp[:, :, 1] = kp[:, :, 0] + rng.uniform(-0.6, 0.6, (m, t, 2))
    score = rng.uniform(0.05, 1, (m, t, v)).astype(np.float32)
    score[rng.random((m, t, v)) < dead] = 0
    return kp, score


def _close(a, b):
    assert a.shape == b.shape and a.dtype == np.float32
    assert np.abs(a - b).max(initial=0) <= TOL


@pytest.mark.parametrize('sigma', [0.6, 0.7, 1.5])
@pytest.mark.parametrize('use_score', [True, False])
def test_keypoint_maps_match_mmaction2(sigma, use_score):
    rng = np.random.default_rng(int(sigma * 10) + use_score)
    for m, t, h, w in [(2, 3, 24, 32), (1, 1, 7, 5), (3, 2, 40, 17)]:
        kp, score = _clip(rng, m, t, h=h, w=w)
        ours = render_keypoint_heatmaps(kp, score if use_score else None,
                                        (h, w), sigma)
        _close(ours, _oracle(kp, score, (h, w), sigma, use_score=use_score))
        assert ours.max() > 0


@pytest.mark.parametrize('sigma', [0.6, 1.1])
@pytest.mark.parametrize('use_score', [True, False])
def test_limb_maps_match_mmaction2(sigma, use_score):
    rng = np.random.default_rng(7 + use_score)
    for m, t, h, w in [(2, 3, 24, 32), (1, 2, 9, 6)]:
        kp, score = _clip(rng, m, t, h=h, w=w)
        ours = render_limb_heatmaps(kp,
                                    score if use_score else None, (h, w),
                                    sigma=sigma)
        ref = _oracle(kp,
                      score, (h, w),
                      sigma,
                      False,
                      True,
                      use_score=use_score)
        _close(ours, ref)
        assert ours.shape[1] == len(COCO_SKELETON)


def test_short_limb_uses_start_joint_gaussian_and_value():
    # |ab| < 1 px: mmaction2 draws joint a's gaussian with a's score.
    kp = np.array([[[[10.0, 10.0], [10.5, 10.4]]]], np.float32)
    score = np.array([[[0.9, 0.3]]], np.float32)
    ours = render_limb_heatmaps(kp, score, (20, 20), ((0, 1), ), sigma=0.6)
    assert ours[0, 0].max() == pytest.approx(0.9, abs=1e-6)
    assert ours[0, 0, 10, 10] == pytest.approx(0.9, abs=1e-6)
    _close(ours, _oracle(kp, score, (20, 20), 0.6, False, True, ((0, 1), )))


def test_limb_skipped_when_either_end_is_absent():
    kp = np.array([[[[3.0, 3.0], [15.0, 12.0], [3.0, 3.4]]]], np.float32)
    score = np.array([[[0.9, 0.0, 0.8]]], np.float32)
    # A long limb and a short one, both ending in a zero-score joint.
    ours = render_limb_heatmaps(kp, score, (20, 20), ((0, 1), (1, 0)))
    assert not ours.any()


def test_custom_skeleton_and_joint_count():
    rng = np.random.default_rng(3)
    skeleton = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 4), (2, 2))
    kp, score = _clip(rng, 2, 3, v=5)
    ours = render_limb_heatmaps(kp, score, (24, 32), skeleton, sigma=0.8)
    _close(ours, _oracle(kp, score, (24, 32), 0.8, False, True, skeleton))
    assert ours.shape == (3, 6, 24, 32)
    with pytest.raises(ValueError, match='outside'):
        render_limb_heatmaps(kp, score, (24, 32), ((0, 5), ))


def test_zero_persons_and_single_frame():
    empty = render_pose_heatmaps(np.zeros((0, 4, 17, 2)),
                                 np.zeros((0, 4, 17)), (8, 9),
                                 with_limb=True)
    assert empty.shape == (4, 34, 8, 9) and not empty.any()
    rng = np.random.default_rng(0)
    kp, score = _clip(rng, 2, 1)
    one = render_keypoint_heatmaps(kp, score, (24, 32))
    assert one.shape == (1, 17, 24, 32)
    _close(one, _oracle(kp, score, (24, 32), 0.6))


def test_keypoints_outside_the_image_are_clipped_like_the_reference():
    sigma = 0.6
    # Partial gaussians across each border, the truncation corner case
    # (x + 3 sigma in (-1, 0) still draws column 0: int() rounds toward
    # zero), and joints far away or absurdly far (nothing, no overflow).
    xy = [(-0.5, 5), (-2.3, 5), (-2.9, 5), (10.7, 5), (11.6, 5), (5, -1.7),
          (5, 12.5), (-50, -50), (1e6, 3), (3, -1e30)]
    kp = np.array(xy, np.float32)[None, None]
    score = np.ones((1, 1, len(xy)), np.float32)
    ours = render_keypoint_heatmaps(kp, score, (12, 11), sigma)
    # mmaction2 itself fails on the last joint (np.arange of -1e30 pixels).
    _close(ours[:, :-1],
           _oracle(kp[:, :, :-1], score[:, :, :-1], (12, 11), sigma))
    assert ours[0, 1, :, 0].max() > 0 and not ours[0, 1, :, 1:].any()
    assert not ours[0, 2].any()  # -2.9 + 1.8 = -1.1: nothing
    assert ours[0, [0, 3, 4, 5, 6]].max(axis=(1, 2)).min() > 0
    assert not ours[0, 7:].any()


def test_huge_coordinates_do_not_overflow(recwarn):
    # A limb from inside the image to an absurd point: no NaN, no warning
    # (the reference's float32 arithmetic gives NaN here); coordinates are
    # clamped to 1e6 px, which keeps an axis-aligned limb's line.
    kp = np.array([[[[3.0, 3.0], [3.0, -1e30], [3.0, -1e4]]]], np.float32)
    hm = render_limb_heatmaps(kp, None, (10, 10), ((0, 1), (0, 2)))
    assert np.isfinite(hm).all() and not recwarn.list
    assert np.abs(hm[:, 0] - hm[:, 1]).max() < 1e-3
    assert hm[0, 0, :4, 3].min() > 0.999


def test_nan_and_inf_joints_are_absent_never_nan():
    rng = np.random.default_rng(5)
    kp, score = _clip(rng, 2, 2, dead=0)
    clean_score = score.copy()
    kp[0, 0, 3] = np.nan
    kp[1, 1, 5, 1] = np.inf
    score[0, 1, 7] = np.nan
    for with_kp, with_limb in [(True, False), (False, True)]:
        ours = render_pose_heatmaps(kp, score, (24, 32), 0.6, with_kp,
                                    with_limb)
        assert np.isfinite(ours).all()
        # Same as the clean clip with those joints' scores set to 0.
        expect_score = clean_score.copy()
        expect_score[0, 0, 3] = expect_score[1, 1, 5] = 0
        expect_score[0, 1, 7] = 0
        kp_clean = np.nan_to_num(kp, nan=0, posinf=0)
        ref = _oracle(kp_clean, expect_score, (24, 32), 0.6, with_kp,
                      with_limb)
        _close(ours, ref)
    # Without scores, non-finite coordinates still draw nothing.
    no_score = render_keypoint_heatmaps(kp, None, (24, 32))
    assert np.isfinite(no_score).all() and not no_score[0, 3].any()


def test_invalid_joint_mask():
    kp = np.zeros((1, 2, 3, 2), np.float32)
    score = np.ones((1, 2, 3), np.float32)
    kp[0, 0, 0, 0] = np.nan  # present joint with NaN x: invalid
    kp[0, 1, 1] = np.nan
    score[0, 1, 1] = 0  # missing joint stored as NaN: fine
    score[0, 1, 2] = np.inf  # corrupt score: invalid
    mask = invalid_joint_mask(kp, score)
    assert mask.tolist() == [[[True, False, False], [False, False, True]]]
    assert invalid_joint_mask(kp).sum() == 2  # without scores: any NaN xy


def test_both_kp_and_limb_channels_are_concatenated():
    rng = np.random.default_rng(11)
    kp, score = _clip(rng, 2, 2)
    both = render_pose_heatmaps(kp,
                                score, (24, 32),
                                with_kp=True,
                                with_limb=True)
    _close(both[:, :17], render_keypoint_heatmaps(kp, score, (24, 32)))
    _close(both[:, 17:], render_limb_heatmaps(kp, score, (24, 32)))


def test_flip_doubling_matches_reference_transform():
    rng = np.random.default_rng(2)
    kp, score = _clip(rng, 2, 3)
    for with_kp in (True, False):
        ref = RefTarget(sigma=0.6,
                        with_kp=with_kp,
                        with_limb=not with_kp,
                        double=True)
        expect = ref.transform(
            dict(keypoint=kp.copy(),
                 keypoint_score=score.copy(),
                 img_shape=(24, 32)))['imgs']
        flip = flip_channel_indices(17, 17, with_kp, not with_kp)
        ours = render_pose_heatmaps(kp,
                                    score, (24, 32),
                                    0.6,
                                    with_kp,
                                    not with_kp,
                                    flip_indices=flip)
        _close(ours, expect)
        _close(ours[3:], flip_heatmaps(ours[:3], flip).copy())


def test_flip_channel_indices():
    idx = flip_channel_indices(17, 17, True, True)
    assert idx.shape == (34, )
    assert idx[COCO_LEFT_KP[0]] == COCO_RIGHT_KP[0]
    assert idx[17 + COCO_LEFT_LIMB[2]] == 17 + COCO_RIGHT_LIMB[2]
    assert (idx[idx] == np.arange(34)).all()  # an involution
    with pytest.raises(ValueError, match='out of range'):
        flip_channel_indices(5, 0, left_kp=(1, ), right_kp=(7, ))


def test_heatmap_canvas_rounds_like_the_reference():
    assert heatmap_canvas((224, 224), 0.25) == (56, 56)
    assert heatmap_canvas((225, 302), 0.25) == (56, 76)  # 56.25, 75.5
    assert heatmap_canvas((1080, 1920)) == (1080, 1920)


def test_bad_shapes_raise_readable_errors():
    with pytest.raises(ValueError, match=r'\(M, T, V, 2 or 3\)'):
        render_keypoint_heatmaps(np.zeros((4, 17, 2)), None, (8, 8))
    with pytest.raises(ValueError, match='scores must have shape'):
        render_keypoint_heatmaps(np.zeros((1, 4, 17, 2)), np.zeros((1, 4)),
                                 (8, 8))
    with pytest.raises(ValueError, match='with_kp and with_limb'):
        render_pose_heatmaps(np.zeros((1, 1, 2, 2)), None, (8, 8), 0.6, False,
                             False)


def test_extra_score_column_and_float64_input():
    rng = np.random.default_rng(4)
    kp, score = _clip(rng, 1, 2)
    kp3 = np.concatenate([kp, score[..., None]], -1).astype(np.float64)
    _close(render_keypoint_heatmaps(kp3, score.astype(np.float64), (24, 32)),
           render_keypoint_heatmaps(kp, score, (24, 32)))
