"""Tracking people across frames: identities survive crossings, gaps,
appearances and disappearances, and the most persistent tracks are kept."""
import numpy as np
import pytest

from mmpose_plus.apis.tracking import (keypoint_boxes, pose_similarity,
                                       track_poses)

V = 17


def _person(cx: float, cy: float, height: float = 60.,
            arms_up: bool = False) -> np.ndarray:
    """A crude (17, 2) standing pose centred at (cx, cy)."""
    rel = np.zeros((V, 2))
    rel[:5] = [[0, -0.45], [0.03, -0.47], [-0.03, -0.47], [0.06, -0.46],
               [-0.06, -0.46]]
    rel[5:7] = [[0.12, -0.3], [-0.12, -0.3]]
    arm_y = -0.55 if arms_up else -0.05
    rel[7:11] = [[0.2, -0.15], [-0.2, -0.15], [0.22, arm_y], [-0.22, arm_y]]
    rel[11:13] = [[0.08, 0.0], [-0.08, 0.0]]
    rel[13:17] = [[0.09, 0.25], [-0.09, 0.25], [0.09, 0.5], [-0.09, 0.5]]
    return np.array([cx, cy]) + rel * height


def _frames(people_per_frame, shuffle_seed=0):
    """Frames whose detections are in a random order (as a detector's)."""
    rng = np.random.default_rng(shuffle_seed)
    frames = []
    for people in people_per_frame:
        kp = np.array(people, dtype=np.float64).reshape(-1, V, 2)
        order = rng.permutation(len(kp))
        frames.append(dict(keypoints=kp[order],
                           keypoint_scores=np.full((len(kp), V), 0.9)))
    return frames


def _matches(track: np.ndarray, truth: np.ndarray) -> bool:
    return np.allclose(track, truth, atol=1e-4)


@pytest.mark.parametrize('method', ['hungarian', 'greedy'])
@pytest.mark.parametrize('metric', ['oks', 'iou'])
def test_crossing_people_keep_their_identity(method, metric):
    # A walks right, B walks left, both in the same pose: they overlap
    # exactly at t=10, so only their motion tells them apart afterwards
    # (without the constant-velocity prediction some of these shuffles
    # swap the two people). Detections come in a random order each frame.
    T = 21
    a = np.stack([_person(40 + 6 * t, 100) for t in range(T)])
    b = np.stack([_person(160 - 6 * t, 100) for t in range(T)])
    for seed in range(8):
        frames = _frames([[a[t], b[t]] for t in range(T)], seed)
        out = track_poses(frames, max_persons=2, metric=metric,
                          method=method)
        assert out['keypoint'].shape == (2, T, V, 2)
        assert out['keypoint'].dtype == np.float32
        assert out['keypoint_score'].shape == (2, T, V)
        assert out['num_tracks'] == 2
        k0, k1 = out['keypoint']
        assert ((_matches(k0, a) and _matches(k1, b))
                or (_matches(k0, b) and _matches(k1, a))), seed


def test_detection_order_alone_would_mix_the_people():
    # Sanity check of the test above: the detections really are shuffled.
    T = 21
    a = np.stack([_person(40 + 6 * t, 100) for t in range(T)])
    b = np.stack([_person(160 - 6 * t, 100) for t in range(T)])
    frames = _frames([[a[t], b[t]] for t in range(T)])
    first = np.stack([f['keypoints'][0] for f in frames])
    assert not (_matches(first, a) or _matches(first, b))


def test_appearing_and_disappearing_people_and_max_persons():
    T = 30
    a = [_person(50, 100 + t) for t in range(T)]  # whole video
    b = [_person(200, 100) for _ in range(T)]  # leaves at t=20
    c = [_person(350, 100 - t) for t in range(T)]  # only t=25..29
    people = []
    for t in range(T):
        now = [a[t]]
        if t < 20:
            now.append(b[t])
        if t >= 25:
            now.append(c[t])
        people.append(now)
    out = track_poses(_frames(people), max_persons=2)
    assert out['num_tracks'] == 3
    kp, sc = out['keypoint'], out['keypoint_score']
    assert kp.shape == (2, T, V, 2)
    # Ranked by persistence: A (30 frames) first, then B (20), C dropped.
    assert _matches(kp[0], np.stack(a))
    assert _matches(kp[1, :20], np.stack(b[:20]))
    assert np.all(kp[1, 20:] == 0) and np.all(sc[1, 20:] == 0)
    assert np.all(sc[1, :20] > 0)
    assert out['track_score'][0] > out['track_score'][1]

    everyone = track_poses(_frames(people), max_persons=None)
    assert everyone['keypoint'].shape[0] == 3
    c_track = everyone['keypoint'][2]
    assert np.all(c_track[:25] == 0)
    assert _matches(c_track[25:], np.stack(c[25:]))


def test_short_miss_does_not_split_a_track_but_a_long_one_does():
    T = 20
    a = [_person(50 + 2 * t, 100) for t in range(T)]
    missing = {8, 9}  # two frames without a detection
    people = [[] if t in missing else [a[t]] for t in range(T)]
    out = track_poses(_frames(people), max_persons=None, max_gap=3)
    assert out['num_tracks'] == 1
    assert np.all(out['keypoint_score'][0, 8:10] == 0)
    assert _matches(out['keypoint'][0, 10:], np.stack(a[10:]))

    out = track_poses(_frames(people), max_persons=None, max_gap=1)
    assert out['num_tracks'] == 2


def test_confidence_breaks_ties_in_persistence():
    T = 10
    frames = []
    for t in range(T):
        kp = np.stack([_person(50, 100), _person(300, 100)])
        frames.append(dict(keypoints=kp,
                           keypoint_scores=np.stack([np.full(V, 0.3),
                                                     np.full(V, 0.9)])))
    out = track_poses(frames, max_persons=1)
    assert _matches(out['keypoint'][0], np.stack([_person(300, 100)] * T))


def test_person_threshold_and_empty_video():
    frames = [dict(keypoints=_person(50, 100)[None],
                   keypoint_scores=np.full((1, V), 0.05))] * 4
    out = track_poses(frames, person_thr=0.1)
    assert out['keypoint'].shape == (0, 4, V, 2)
    out = track_poses([dict(keypoints=np.zeros((0, V, 2)))] * 3)
    assert out['keypoint'].shape == (0, 3, V, 2)
    assert out['keypoint_score'].shape == (0, 3, V)


def test_bad_input_is_reported_with_the_frame():
    good = dict(keypoints=np.zeros((1, V, 2)), keypoint_scores=np.ones((1, V)))
    with pytest.raises(ValueError, match='frame 1'):
        track_poses([good, dict(keypoints=np.zeros((1, V)))])
    with pytest.raises(ValueError, match='frame 1.*keypoint_scores'):
        track_poses([good, dict(keypoints=np.zeros((1, V, 2)),
                                keypoint_scores=np.ones((2, V)))])
    with pytest.raises(KeyError, match='frame 0'):
        track_poses([dict(scores=1)])
    with pytest.raises(ValueError, match='metric'):
        track_poses([good], metric='l2')


def test_pose_similarity_properties():
    a = np.stack([_person(50, 100), _person(200, 100)])
    sc = np.ones((2, V))
    oks = pose_similarity(a, sc, a, sc)
    assert np.allclose(np.diag(oks), 1.)
    assert oks[0, 1] < 0.01
    # Joints below the threshold do not count; none shared -> 0.
    low = np.zeros((2, V))
    assert np.all(pose_similarity(a, sc, a, low) == 0)
    iou = pose_similarity(a, sc, a + 5, sc, metric='iou')
    assert 0.5 < iou[0, 0] < 1 and iou[0, 1] == 0
    box = keypoint_boxes(a[:1], sc[:1])
    assert np.allclose(box, [[a[0, :, 0].min(), a[0, :, 1].min(),
                              a[0, :, 0].max(), a[0, :, 1].max()]])
