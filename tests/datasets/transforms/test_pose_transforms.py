"""Pose transforms: parity with mmaction2 1.1.0 (the oracle) and bad input."""
import copy
import random

import numpy as np
import pytest
from mmaction.datasets.transforms import pose_transforms as ref_pose
from mmaction.datasets.transforms import processing as ref_proc
from mmengine.dataset import Compose

from mmpose_plus.datasets.transforms.pose_transforms import (
    Flip, MMCompact, MMUniformSampleFrames, PoseCompact, PoseDecode,
    UniformSampleFrames, compact_box, crop_with_padding, sample_uniform_clips)
from mmpose_plus.registry import TRANSFORMS

LEFT = [1, 3, 5, 7, 9, 11, 13, 15]
RIGHT = [2, 4, 6, 8, 10, 12, 14, 16]


def _oracle(transform, results, monkeypatch):
    """Run an mmaction2 transform; np.Inf exists only during the call."""
    with monkeypatch.context() as m:
        m.setattr(np, 'Inf', np.inf, raising=False)
        return transform(results)


def _keypoints(rng, m=2, t=20, v=17, h=120, w=160, missing=0.1):
    kp = np.stack([rng.uniform(5, w - 5, (m, t, v)),
                   rng.uniform(5, h - 5, (m, t, v))], -1).astype(np.float32)
    kp[rng.random((m, t, v)) < missing] = 0  # undetected joints
    score = rng.random((m, t, v)).astype(np.float32)
    return kp, score


def _same(ours, ref, keys):
    for key in keys:
        a, b = ours[key], ref[key]
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape, key
            assert np.abs(a.astype(np.float64) - b).max(initial=0) <= 1e-5, key
        else:
            assert a == b, (key, a, b)


# ---------------------------------------------------------------------------
# Frame sampling
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('test_mode', [False, True])
@pytest.mark.parametrize('num_clips', [1, 10])
@pytest.mark.parametrize('clip_len', [8, 48])
def test_uniform_sample_frames_matches_mmaction2(test_mode, num_clips,
                                                 clip_len):
    for num_frames in (1, 3, 7, 8, 9, 15, 47, 48, 60, 95, 96, 97, 150, 300):
        for seed in range(3):
            base = dict(total_frames=num_frames)
            if seed % 2:
                base['start_index'] = 1
            else:
                # mmaction2 indexes its per-frame table with start_index
                # added (IndexError), so keypoints only with start 0.
                base['keypoint'] = np.zeros((1, num_frames, 17, 2))
            np.random.seed(seed)
            ours = UniformSampleFrames(clip_len, num_clips, test_mode)(
                dict(base))
            np.random.seed(seed)
            ref = ref_pose.UniformSampleFrames(clip_len, num_clips,
                                               test_mode)(dict(base))
            assert ours['frame_inds'].dtype == np.int32
            np.testing.assert_array_equal(ours['frame_inds'],
                                          ref['frame_inds'])
            for key in ('clip_len', 'num_clips', 'frame_interval'):
                assert ours[key] == ref[key]


def test_uniform_sample_frames_start_index_with_keypoints():
    kp = np.zeros((1, 10, 17, 2), np.float32)
    out = UniformSampleFrames(4, test_mode=True)(dict(
        total_frames=10, start_index=1, keypoint=kp))
    assert out['frame_inds'].min() >= 1 and out['frame_inds'].max() <= 10


def test_uniform_sample_frames_test_mode_keeps_global_rng():
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    t = UniformSampleFrames(48, num_clips=10, test_mode=True, seed=3)
    first = t(dict(total_frames=100))['frame_inds']
    assert np.random.rand() == expected  # global state untouched
    np.testing.assert_array_equal(first,
                                  t(dict(total_frames=100))['frame_inds'])
    other = UniformSampleFrames(48, num_clips=10, test_mode=True, seed=4)
    assert not np.array_equal(first, other(dict(total_frames=100))[
        'frame_inds'])


def test_sample_uniform_clips_covers_video_in_order():
    inds = sample_uniform_clips(300, 48, 1, False, np.random.RandomState(0))
    assert inds.shape == (48, )
    assert np.all(np.diff(inds) > 0) and inds[0] < 300 // 48
    short = sample_uniform_clips(5, 8, 2, True, np.random.RandomState(0))
    np.testing.assert_array_equal(short[:8], np.arange(8))


@pytest.mark.parametrize('test_mode', [False, True])
def test_mm_uniform_sample_frames_matches_mmaction2(test_mode):
    for num_frames in (1, 6, 20, 40, 72, 103, 300):
        for num_clips in (1, 10):
            base = dict(total_frames=num_frames, modality='Pose')
            clip_len = dict(RGB=8, Pose=32)
            np.random.seed(num_frames)
            ours = MMUniformSampleFrames(clip_len, num_clips, test_mode)(
                dict(base))
            np.random.seed(num_frames)
            ref = ref_pose.MMUniformSampleFrames(clip_len, num_clips,
                                                 test_mode)(dict(base))
            for key in ('RGB_inds', 'Pose_inds'):
                assert ours[key].dtype == np.int32
                np.testing.assert_array_equal(ours[key], ref[key])
            assert ours['modality'] == ref['modality'] == ['RGB', 'Pose']
            assert ours['clip_len'] == ref['clip_len']


def test_sampling_rejects_inconsistent_clips():
    kp = np.zeros((1, 30, 17, 2), np.float32)
    with pytest.raises(ValueError, match=r"frame_dir='clip7'.*T=30.*=40"):
        UniformSampleFrames(8)(dict(frame_dir='clip7', total_frames=40,
                                    keypoint=kp))
    with pytest.raises(ValueError, match='total_frames=0'):
        UniformSampleFrames(8)(dict(frame_dir='c', total_frames=0))
    with pytest.raises(ValueError, match='clip_len as a dict'):
        MMUniformSampleFrames(8)


# ---------------------------------------------------------------------------
# PoseDecode
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('num_person', [0, 1, 3])
@pytest.mark.parametrize('with_score', [True, False])
def test_pose_decode_matches_mmaction2(num_person, with_score):
    rng = np.random.default_rng(num_person)
    kp, score = _keypoints(rng, m=num_person, t=30)
    inds = rng.integers(0, 25, (1, 16)).astype(np.int32)
    base = dict(keypoint=kp.astype(np.float16), frame_inds=inds, offset=3)
    if with_score:
        base['keypoint_score'] = score
    ours = PoseDecode()(copy.deepcopy(base))
    ref = ref_pose.PoseDecode()(copy.deepcopy(base))
    keys = ['keypoint', 'frame_inds', 'total_frames'] + (['keypoint_score']
                                                         if with_score else [])
    _same(ours, ref, keys)
    assert ours['keypoint'].dtype == np.float32
    assert ours['keypoint'].shape == (num_person, 16, 17, 2)
    assert ('keypoint_score' in ours) == with_score


def test_pose_decode_without_frame_inds_keeps_every_frame():
    kp = np.ones((2, 5, 17, 2), np.float64)
    out = PoseDecode()(dict(keypoint=kp))
    np.testing.assert_array_equal(out['frame_inds'], np.arange(5))
    assert out['total_frames'] == 5 and out['keypoint'].dtype == np.float32


# ---------------------------------------------------------------------------
# PoseCompact / MMCompact
# ---------------------------------------------------------------------------
COMPACT_CASES = [
    dict(),
    dict(hw_ratio=1., allow_imgpad=True),
    dict(hw_ratio=1., allow_imgpad=False),
    dict(hw_ratio=(0.5, 2.), padding=0.5),
    dict(hw_ratio=(1.5, 1.5), padding=0.),
    dict(threshold=200),  # too small: unchanged
]


@pytest.mark.parametrize('cfg', COMPACT_CASES)
def test_pose_compact_matches_mmaction2(cfg, monkeypatch):
    rng = np.random.default_rng(len(str(cfg)))
    for trial in range(5):
        kp, _ = _keypoints(rng, m=2, t=6)
        # Shrink the person to a random part of the frame.
        kp *= rng.uniform(0.2, 0.9)
        kp[0, 0, 0, 0] = np.nan  # NaN means "not detected" for both
        quad = (0.1, 0.2, 0.5, 0.6) if trial % 2 else None
        base = dict(keypoint=kp, img_shape=(120, 160))
        if quad:
            base['crop_quadruple'] = quad
        ours = PoseCompact(**cfg)(copy.deepcopy(base))
        ref = _oracle(ref_pose.PoseCompact(**cfg), copy.deepcopy(base),
                      monkeypatch)
        keys = ['keypoint', 'img_shape']
        if 'crop_quadruple' in ref:
            keys.append('crop_quadruple')
        _same(ours, ref, keys)
        assert not np.isnan(ours['keypoint']).any()


@pytest.mark.parametrize('cfg', COMPACT_CASES)
def test_mm_compact_matches_mmaction2(cfg, monkeypatch):
    rng = np.random.default_rng(7 + len(str(cfg)))
    for trial in range(4):
        kp, _ = _keypoints(rng, m=2, t=4, h=48, w=64)
        if trial % 2:
            kp[..., 0] = np.where(kp[..., 0] != 0, kp[..., 0] * 0.2 + 50, 0)
        imgs = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
                for _ in range(3)]
        base = dict(keypoint=kp, img_shape=(48, 64), imgs=imgs)
        ours = MMCompact(**cfg)(copy.deepcopy(base))
        ref = _oracle(ref_pose.MMCompact(**cfg), copy.deepcopy(base),
                      monkeypatch)
        _same(ours, ref, ['keypoint', 'img_shape'])
        assert len(ours['imgs']) == len(ref['imgs'])
        for a, b in zip(ours['imgs'], ref['imgs']):
            np.testing.assert_array_equal(a, b)


def test_crop_with_padding_equals_pad_then_crop():
    rng = np.random.default_rng(0)
    img = rng.integers(1, 255, (10, 12, 3), dtype=np.uint8)
    for box in [(-3, -2, 8, 9), (4, 5, 17, 14), (-5, -5, 20, 20), (2, 2, 8, 8),
                (13, 11, 16, 15)]:
        x0, y0, x1, y1 = box
        pl, pu = max(0, -x0), max(0, -y0)
        padded = np.pad(img, ((pu, max(0, y1 - 10)), (pl, max(0, x1 - 12)),
                              (0, 0)))
        expected = padded[y0 + pu:y1 + pu, x0 + pl:x1 + pl]
        np.testing.assert_array_equal(crop_with_padding([img], box)[0],
                                      expected)


def test_compact_no_joints_or_zero_persons_is_identity():
    empty = np.zeros((0, 5, 17, 2), np.float32)
    out = PoseCompact(hw_ratio=1.)(dict(keypoint=empty, img_shape=(60, 80)))
    assert out['img_shape'] == (60, 80) and 'crop_quadruple' not in out
    zeros = np.zeros((2, 5, 17, 2), np.float32)
    imgs = [np.ones((60, 80, 3), np.uint8)]
    out = MMCompact()(dict(keypoint=zeros, img_shape=(60, 80), imgs=imgs))
    assert out['img_shape'] == (60, 80) and out['imgs'][0].shape == (60, 80,
                                                                      3)
    assert compact_box(zeros, (60, 80)) is None


def test_keypoints_outside_image_cannot_inflate_the_crop(monkeypatch):
    rng = np.random.default_rng(3)
    kp, _ = _keypoints(rng, m=1, t=4, h=48, w=64)
    kp = kp * 0.3 + 10  # a small person, zeros become 10: all detected
    kp[0, 1, 5] = (5000., 20.)  # one stray detection far to the right
    imgs = [np.full((48, 64, 3), 9, np.uint8) for _ in range(2)]
    base = dict(keypoint=kp, img_shape=(48, 64), imgs=imgs)

    ref = _oracle(ref_pose.MMCompact(hw_ratio=1.), copy.deepcopy(base),
                  monkeypatch)
    ours = MMCompact(hw_ratio=1.)(copy.deepcopy(base))
    # mmaction2 stretches the box to x=5000: a >6000x6000 zero-padded frame.
    assert ref['img_shape'][1] > 5000
    # Ours: the box comes from joints clipped to the 64-px-wide image.
    h, w = ours['img_shape']
    assert w <= 64 * 1.25 + 1 and h == w
    assert ours['imgs'][0].shape[:2] == (h, w)
    assert ours['keypoint'][0, 1, 5, 0] > w  # stray joint: outside, kept
    # clip_box_to_image=False reproduces mmaction2 exactly.
    exact = MMCompact(hw_ratio=1., clip_box_to_image=False)(
        copy.deepcopy(base))
    _same(exact, ref, ['keypoint', 'img_shape'])

    pose_ref = _oracle(ref_pose.PoseCompact(hw_ratio=1.),
                       copy.deepcopy(base), monkeypatch)
    pose_ours = PoseCompact(hw_ratio=1.)(copy.deepcopy(base))
    assert pose_ref['img_shape'][1] > 5000
    assert pose_ours['img_shape'] == (h, w)


def test_compact_rejects_negative_padding():
    with pytest.raises(ValueError, match='padding'):
        PoseCompact(padding=-0.1)
    with pytest.raises(ValueError, match='hw_ratio'):
        MMCompact(hw_ratio=(1., 2., 3.))


# ---------------------------------------------------------------------------
# Flip
# ---------------------------------------------------------------------------
def _flip_both(cfg, base, seed):
    np.random.seed(seed)
    ours = Flip(**cfg)(copy.deepcopy(base))
    np.random.seed(seed)
    ref = ref_proc.Flip(**cfg)(copy.deepcopy(base))
    return ours, ref


@pytest.mark.parametrize('modality', ['Pose', ['RGB', 'Pose']])
def test_flip_keypoints_matches_mmaction2(modality):
    rng = np.random.default_rng(0)
    kp, score = _keypoints(rng, m=2, t=5, h=56, w=56)
    base = dict(keypoint=kp, keypoint_score=score, img_shape=(56, 56),
                modality=modality, label=3)
    if modality != 'Pose':
        base['imgs'] = [rng.integers(0, 255, (56, 56, 3), dtype=np.uint8)
                        for _ in range(4)]
    flipped = 0
    cfg = dict(flip_ratio=0.5, left_kp=LEFT, right_kp=RIGHT,
               flip_label_map={3: 4})
    for seed in range(6):
        ours, ref = _flip_both(cfg, base, seed)
        assert ours['flip'] == ref['flip']
        flipped += bool(ours['flip'])
        _same(ours, ref, ['keypoint', 'keypoint_score', 'label',
                          'flip_direction'])
        for a, b in zip(ours.get('imgs', []), ref.get('imgs', [])):
            np.testing.assert_array_equal(a, b)
    assert 0 < flipped < 6


def test_flip_swaps_left_and_right_and_keeps_missing_joints():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    kp[0, 0, 5] = (10., 20.)  # left shoulder
    score = np.zeros((1, 1, 17), np.float32)
    score[0, 0, 5] = 0.9
    out = Flip(1., left_kp=LEFT, right_kp=RIGHT)(dict(
        keypoint=kp, keypoint_score=score, img_shape=(64, 100),
        modality='Pose'))
    assert out['keypoint'][0, 0, 6].tolist() == [90., 20.]
    assert out['keypoint_score'][0, 0, 6] == pytest.approx(0.9)
    assert out['keypoint'][0, 0, 5].tolist() == [0., 0.]  # missing stays 0


@pytest.mark.parametrize('direction', ['horizontal', 'vertical'])
def test_flip_rgb_and_flow_frames_match_mmaction2(direction):
    rng = np.random.default_rng(1)
    for modality in ('RGB', 'Flow'):
        shape = (10, 14, 3) if modality == 'RGB' else (10, 14)
        imgs = [rng.integers(0, 255, shape, dtype=np.uint8) for _ in range(4)]
        base = dict(imgs=imgs, modality=modality)
        if modality == 'Flow' and direction == 'vertical':
            with pytest.raises(ValueError):
                Flip(1., direction=direction)(copy.deepcopy(base))
            continue
        ours, ref = _flip_both(dict(flip_ratio=1., direction=direction),
                               base, 0)
        assert ours['img_shape'] == ref['img_shape']
        for a, b in zip(ours['imgs'], ref['imgs']):
            np.testing.assert_array_equal(a, b)


def test_flip_of_repeated_frame_objects_is_not_applied_twice():
    frame = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    out = Flip(1.)(dict(imgs=[frame, frame], modality='RGB'))
    np.testing.assert_array_equal(out['imgs'][0], frame[:, ::-1])
    np.testing.assert_array_equal(out['imgs'][1], frame[:, ::-1])


def test_flip_lazy_and_boxes_match_mmaction2():
    imgs = [np.zeros((8, 10, 3), np.uint8)]
    ours, ref = _flip_both(dict(flip_ratio=1., lazy=True),
                           dict(imgs=imgs, modality='RGB'), 0)
    assert ours['lazy']['flip'] == ref['lazy']['flip'] is True
    np.testing.assert_array_equal(ours['lazy']['crop_bbox'],
                                  ref['lazy']['crop_bbox'])
    boxes = np.array([[1., 2., 4., 6.]], np.float32)
    base = dict(imgs=imgs, modality='RGB', gt_bboxes=boxes,
                proposals=boxes + 1)
    ours, ref = _flip_both(dict(flip_ratio=1.), base, 0)
    _same(ours, ref, ['gt_bboxes', 'proposals'])


def test_flip_rejects_bad_config():
    with pytest.raises(ValueError, match='direction'):
        Flip(direction='diagonal')
    with pytest.raises(ValueError, match='left_kp and right_kp'):
        Flip(left_kp=[1, 3], right_kp=[2])
    kp = np.zeros((1, 1, 17, 2), np.float32)
    with pytest.raises(ValueError, match='keypoints'):
        Flip(1., direction='vertical')(dict(keypoint=kp, img_shape=(4, 4)))


# ---------------------------------------------------------------------------
# Whole pipelines
# ---------------------------------------------------------------------------
def _posec3d_pipeline(prefix=''):
    return [
        dict(type=prefix + 'UniformSampleFrames', clip_len=8),
        dict(type=prefix + 'PoseDecode'),
        dict(type=prefix + 'PoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='mmaction.Resize', scale=(-1, 64)),
        dict(type='mmaction.RandomResizedCrop', area_range=(0.56, 1.0)),
        dict(type='mmaction.Resize', scale=(56, 56), keep_ratio=False),
        dict(type=prefix + 'Flip', flip_ratio=0.5, left_kp=LEFT,
             right_kp=RIGHT),
    ]


def test_posec3d_train_pipeline_matches_mmaction2(monkeypatch):
    ours = Compose([TRANSFORMS.build(c) for c in _posec3d_pipeline()])
    ref = Compose(_posec3d_pipeline('mmaction.'))
    rng = np.random.default_rng(5)
    for seed in range(4):
        kp, score = _keypoints(rng, m=2, t=37, h=480, w=640)
        kp = kp * 0.5 + 100
        base = dict(frame_dir='s', keypoint=kp, keypoint_score=score,
                    total_frames=37, img_shape=(480, 640), modality='Pose',
                    start_index=0, label=0)
        # RandomResizedCrop draws from both numpy and Python's random.
        np.random.seed(seed)
        random.seed(seed)
        a = ours(copy.deepcopy(base))
        np.random.seed(seed)
        random.seed(seed)
        b = _oracle(ref, copy.deepcopy(base), monkeypatch)
        _same(a, b, ['frame_inds', 'keypoint', 'keypoint_score', 'img_shape',
                     'flip', 'crop_quadruple'])


@pytest.mark.parametrize('num_person,num_frames', [(0, 1), (0, 9), (2, 1),
                                                   (1, 2)])
def test_zero_persons_and_single_frame_clips_flow_through(
        num_person, num_frames):
    from mmaction.datasets.transforms import FormatShape, PackActionInputs
    pipeline = Compose([TRANSFORMS.build(c) for c in _posec3d_pipeline()] + [
        ref_pose.GeneratePoseTarget(sigma=0.6, use_score=True),
        FormatShape('NCTHW_Heatmap'),
        PackActionInputs()
    ])
    rng = np.random.default_rng(0)
    kp, score = _keypoints(rng, m=num_person, t=num_frames, h=240, w=320)
    for seed in range(3):
        np.random.seed(seed)
        out = pipeline(dict(frame_dir='z', keypoint=kp.copy(),
                            keypoint_score=score.copy(),
                            total_frames=num_frames, img_shape=(240, 320),
                            modality='Pose', start_index=0, label=2))
        assert tuple(out['inputs'].shape) == (1, 17, 8, 56, 56)
        if num_person == 0:
            assert float(out['inputs'].abs().sum()) == 0.
        else:
            assert float(out['inputs'].max()) > 0.


def test_registered_names_build_our_classes():
    for name, cls in [('UniformSampleFrames', UniformSampleFrames),
                      ('PoseDecode', PoseDecode),
                      ('PoseCompact', PoseCompact), ('MMCompact', MMCompact),
                      ('Flip', Flip)]:
        cfg = dict(type=name)
        if name == 'UniformSampleFrames':
            cfg['clip_len'] = 4
        assert type(TRANSFORMS.build(cfg)) is cls
    t = TRANSFORMS.build(dict(type='MMUniformSampleFrames',
                              clip_len=dict(RGB=2, Pose=4)))
    assert type(t) is MMUniformSampleFrames
