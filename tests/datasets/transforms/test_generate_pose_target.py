"""GeneratePoseTarget / PackPoseKeypoints: parity with mmaction2 1.1.0's
GeneratePoseTarget (the oracle), registry, bad input."""
import copy

import numpy as np
import pytest
from mmaction.datasets.transforms import GeneratePoseTarget as RefTarget

from mmpose_plus.datasets.transforms import (GeneratePoseTarget,
                                             PackPoseKeypoints)
from mmpose_plus.registry import TRANSFORMS

TOL = 1e-5


def _sample(rng, m=2, t=4, v=17, h=60, w=80, dead=0.1):
    kp = np.stack(
        [rng.uniform(-5, w + 5, (m, t, v)),
         rng.uniform(-5, h + 5, (m, t, v))], -1).astype(np.float32)
    score = rng.uniform(0.05, 1, (m, t, v)).astype(np.float32)
    score[rng.random((m, t, v)) < dead] = 0
    return dict(keypoint=kp,
                keypoint_score=score,
                img_shape=(h, w),
                frame_dir='S001C001P001R001A001',
                label=3)


def _both(cfg, results):
    ours = GeneratePoseTarget(**cfg)(copy.deepcopy(results))
    ref = RefTarget(**cfg)(copy.deepcopy(results))
    return ours, ref


def _assert_same(a, b):
    assert a.shape == b.shape and a.dtype == np.float32 == b.dtype
    assert np.abs(a - b).max(initial=0) <= TOL


@pytest.mark.parametrize('cfg', [
    dict(),
    dict(sigma=0.7, use_score=False),
    dict(with_kp=False, with_limb=True),
    dict(double=True),
    dict(with_kp=False, with_limb=True, double=True, sigma=1.0),
    dict(scaling=0.25, sigma=0.7),
    dict(scaling=0.5, with_kp=False, with_limb=True, double=True),
])
def test_matches_mmaction2(cfg):
    rng = np.random.default_rng(len(cfg))
    # img_shape chosen so that the scaled canvas rounds (75.5 -> 76).
    results = _sample(rng, h=122, w=151)
    ours, ref = _both(cfg, results)
    _assert_same(ours['imgs'], ref['imgs'])
    assert ours['imgs'].max() > 0


def test_matches_mmaction2_on_edge_cases():
    rng = np.random.default_rng(1)
    cases = [
        _sample(rng, m=0),  # no person in the clip
        _sample(rng, t=1),  # T = 1
        _sample(rng, m=3, dead=0.5),
    ]
    no_score = _sample(rng)
    del no_score['keypoint_score']
    cases.append(no_score)
    custom = _sample(rng, v=5)
    for results in cases:
        _assert_same(*(r['imgs'] for r in _both({}, results)))
    skeleton = dict(skeletons=((0, 1), (1, 2), (2, 3), (3, 4)),
                    with_kp=False,
                    with_limb=True,
                    double=True,
                    left_limb=(0, ),
                    right_limb=(3, ))
    _assert_same(*(r['imgs'] for r in _both(skeleton, custom)))
    kp_cfg = dict(double=True, left_kp=(1, 3), right_kp=(2, 4))
    _assert_same(*(r['imgs'] for r in _both(kp_cfg, custom)))


def test_writes_heatmap_imgs_when_rgb_frames_exist():
    rng = np.random.default_rng(2)
    results = _sample(rng)
    results['imgs'] = np.zeros((8, 60, 80, 3), np.uint8)
    ours, ref = _both(dict(scaling=0.5), results)
    assert ours['imgs'].shape == (8, 60, 80, 3)  # RGB frames untouched
    _assert_same(ours['heatmap_imgs'], ref['heatmap_imgs'])


def test_kp_and_limb_together_are_separate_channels():
    rng = np.random.default_rng(3)
    results = _sample(rng)
    both = GeneratePoseTarget(with_limb=True,
                              double=True)(copy.deepcopy(results))['imgs']
    kp = RefTarget(double=True)(copy.deepcopy(results))['imgs']
    limb = RefTarget(with_kp=False, with_limb=True,
                     double=True)(copy.deepcopy(results))['imgs']
    assert both.shape == (8, 34, 60, 80)
    _assert_same(both[:, :17], kp)
    _assert_same(both[:, 17:], limb)


def test_registered_in_our_scope():
    t = TRANSFORMS.build(dict(type='GeneratePoseTarget', sigma=0.7))
    assert isinstance(t, GeneratePoseTarget) and t.sigma == 0.7
    assert isinstance(TRANSFORMS.build(dict(type='PackPoseKeypoints')),
                      PackPoseKeypoints)
    assert 'sigma=0.7' in repr(t)


def test_nan_keypoints_raise_naming_the_sample():
    rng = np.random.default_rng(4)
    results = _sample(rng, dead=0)
    results['frame_inds'] = np.array([10, 20, 30, 40])
    results['keypoint'][1, 2, 5] = np.nan
    with pytest.raises(ValueError) as err:
        GeneratePoseTarget()(copy.deepcopy(results))
    msg = str(err.value)
    for part in ('S001C001P001R001A001', 'person 1', 'clip frame 2',
                 'video frame 30', 'joint 5', "invalid_keypoints='absent'"):
        assert part in msg
    # NaN scores are corrupt too, even with use_score=False.
    bad_score = _sample(rng, dead=0)
    bad_score['keypoint_score'][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='non-finite'):
        GeneratePoseTarget(use_score=False)(bad_score)


def test_nan_keypoints_as_absent_and_missing_joints_accepted():
    rng = np.random.default_rng(5)
    results = _sample(rng, dead=0)
    clean = copy.deepcopy(results)
    results['keypoint'][0, 1, 3] = np.nan
    results['keypoint'][1, 0, 7, 1] = np.inf
    clean['keypoint_score'][0, 1, 3] = clean['keypoint_score'][1, 0, 7] = 0
    for cfg in (dict(), dict(with_kp=False, with_limb=True)):
        absent = GeneratePoseTarget(invalid_keypoints='absent',
                                    **cfg)(copy.deepcopy(results))['imgs']
        assert np.isfinite(absent).all()
        _assert_same(absent, RefTarget(**cfg)(copy.deepcopy(clean))['imgs'])
    # Missing joints stored as NaN with score 0 are fine under 'raise'.
    missing = copy.deepcopy(results)
    missing['keypoint_score'][0, 1, 3] = missing['keypoint_score'][1, 0, 7] = 0
    out = GeneratePoseTarget()(missing)['imgs']
    assert np.isfinite(out).all()


def test_bad_input_errors_name_the_sample():
    rng = np.random.default_rng(6)
    results = _sample(rng)
    no_kp = {k: v for k, v in results.items() if k != 'keypoint'}
    with pytest.raises(KeyError, match='S001C001P001R001A001.*keypoint'):
        GeneratePoseTarget()(no_kp)
    no_shape = {k: v for k, v in results.items() if k != 'img_shape'}
    with pytest.raises(KeyError, match='img_shape'):
        GeneratePoseTarget()(no_shape)
    wrong = dict(results, keypoint_score=results['keypoint_score'][:, :2])
    with pytest.raises(ValueError, match='keypoint_score of shape'):
        GeneratePoseTarget()(wrong)
    flat = dict(results, keypoint=results['keypoint'][0])
    with pytest.raises(ValueError, match=r'expected \(M, T, V, 2 or 3\)'):
        PackPoseKeypoints()(flat)
    with pytest.raises(ValueError, match='with_kp and with_limb'):
        GeneratePoseTarget(with_kp=False)
    with pytest.raises(ValueError, match='invalid_keypoints'):
        GeneratePoseTarget(invalid_keypoints='ignore')


def test_pack_pose_keypoints_packet_layout():
    rng = np.random.default_rng(7)
    results = _sample(rng, m=2, t=6)
    results.update(num_clips=3, clip_len=2)
    packed = PackPoseKeypoints(meta_keys=('frame_dir', ))(
        copy.deepcopy(results))
    packet = packed['inputs'].numpy()
    assert packet.shape == (3, 2, 2, 17, 3) and packet.dtype == np.float32
    # clip c, person m, frame f  <-  keypoint[m, c * clip_len + f]
    assert np.array_equal(packet[2, 1, 0, :, :2], results['keypoint'][1, 4])
    assert np.array_equal(packet[1, 0, 1, :, 2], results['keypoint_score'][0,
                                                                           3])
    sample = packed['data_samples']
    assert tuple(sample.img_shape) == (60, 80)  # always packed
    assert sample.frame_dir == 'S001C001P001R001A001'
    assert int(sample.gt_labels.item) == 3

    no_score = {k: v for k, v in results.items() if k != 'keypoint_score'}
    packet = PackPoseKeypoints()(no_score)['inputs'].numpy()
    assert (packet[..., 2] == 1).all()

    with pytest.raises(ValueError, match='num_clips x clip_len'):
        PackPoseKeypoints()(dict(results, clip_len=4))


def test_pack_pose_keypoints_rgbpose_dict_inputs():
    rng = np.random.default_rng(8)
    results = _sample(rng, t=8)
    results.update(num_clips=1,
                   clip_len=dict(RGB=2, Pose=8),
                   imgs=np.zeros((1, 3, 2, 60, 80), np.float32))
    packed = PackPoseKeypoints(collect_keys=('imgs', 'heatmap_imgs'))(results)
    assert set(packed['inputs']) == {'imgs', 'heatmap_imgs'}
    assert tuple(packed['inputs']['heatmap_imgs'].shape) == (1, 2, 8, 17, 3)
    assert tuple(packed['inputs']['imgs'].shape) == (1, 3, 2, 60, 80)


def test_pack_pose_keypoints_nan_policy():
    rng = np.random.default_rng(9)
    results = _sample(rng, dead=0)
    results['keypoint'][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='S001C001P001R001A001'):
        PackPoseKeypoints()(copy.deepcopy(results))
    packet = PackPoseKeypoints(invalid_keypoints='absent')(results)['inputs']
    assert np.isnan(packet[0, 0, 0, 0, 0].item())  # skipped on the device
