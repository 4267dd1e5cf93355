"""MMDecode / read_video_frames on tiny generated videos, with mmaction2's
MMDecode as the oracle."""
import copy
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmaction.datasets.transforms import pose_transforms as ref_pose
from mmengine.dataset import Compose

from mmpose_plus.datasets.transforms.loading import (MMDecode,
                                                     read_video_frames)
from mmpose_plus.registry import TRANSFORMS

LEFT = [1, 3, 5, 7, 9, 11, 13, 15]
RIGHT = [2, 4, 6, 8, 10, 12, 14, 16]
SHARED = Path(__file__).resolve().parents[3] / '..' / 'shared' / 'data'


def _write_video(path: Path, num_frames: int, h: int = 32, w: int = 40):
    """MJPG video whose frame i is gray level 20*i (frame id readable back)
    with a blue corner (to see the channel order)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25,
                             (w, h))
    for i in range(num_frames):
        frame = np.full((h, w, 3), 20 * i % 256, np.uint8)
        frame[:4, :4] = (255, 0, 0)  # BGR blue
        writer.write(frame)
    writer.release()
    return str(path)


def _frame_ids(imgs):
    return [int(round(img[h // 2, w // 2, 1] / 20))
            for img in imgs for h, w in [img.shape[:2]]]


@pytest.fixture
def video(tmp_path):
    return _write_video(tmp_path / 'clip.avi', 12)


@pytest.mark.parametrize('backend', ['decord', 'opencv'])
def test_read_video_frames_any_order_and_repeats(video, backend):
    imgs, length = read_video_frames(video, np.array([7, 2, 7, 0, 11]),
                                     backend)
    assert length == 12
    assert _frame_ids(imgs) == [7, 2, 7, 0, 11]
    assert imgs[0].shape == (32, 40, 3) and imgs[0].dtype == np.uint8
    assert imgs[0][0, 0, 2] > 200 and imgs[0][0, 0, 0] < 50  # RGB order
    imgs[0][:] = 0  # a repeated index is a separate array
    assert imgs[2].max() > 0


def test_decord_and_opencv_decode_the_same_pixels(video):
    inds = np.array([0, 5, 5, 9])
    a, _ = read_video_frames(video, inds, 'decord')
    b, _ = read_video_frames(video, inds, 'opencv')
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def _mm_results(filename, total_frames=12, img_shape=(32, 40), seed=0):
    rng = np.random.default_rng(seed)
    h, w = img_shape
    kp = np.stack([rng.uniform(2, w - 2, (2, total_frames, 17)),
                   rng.uniform(2, h - 2, (2, total_frames, 17))],
                  -1).astype(np.float32)
    return dict(frame_dir='clip', filename=filename, total_frames=total_frames,
                img_shape=img_shape, original_shape=img_shape, label=0,
                keypoint=kp, keypoint_score=rng.random(
                    (2, total_frames, 17)).astype(np.float32),
                modality='Pose', start_index=0)


@pytest.mark.parametrize('img_shape', [(32, 40), (64, 100)])
def test_mmdecode_matches_mmaction2(video, img_shape):
    """Same frames, keypoints, scores and (for a video smaller than the
    annotation's img_shape) the same keypoint rescaling."""
    sample = ref_pose.MMUniformSampleFrames(
        dict(RGB=4, Pose=6), num_clips=2, test_mode=True)
    base = sample(_mm_results(video, img_shape=img_shape))
    ours = MMDecode()(copy.deepcopy(base))
    ref = ref_pose.MMDecode()(copy.deepcopy(base))
    assert len(ours['imgs']) == len(ref['imgs']) == 8
    for a, b in zip(ours['imgs'], ref['imgs']):
        np.testing.assert_array_equal(a, b)
    for key in ('keypoint', 'keypoint_score'):
        assert ours[key].dtype == np.float32
        np.testing.assert_allclose(ours[key], ref[key], atol=1e-5, rtol=0)
    assert tuple(ours['img_shape']) == tuple(ref['img_shape']) == (32, 40)
    assert tuple(ours['original_shape']) == tuple(ref['original_shape'])


def test_mmdecode_without_scores_or_filename(tmp_path):
    path = _write_video(tmp_path / 'abc.mp4', 6)
    base = _mm_results(None, total_frames=6)
    del base['filename'], base['keypoint_score']
    base['frame_dir'] = str(tmp_path / 'abc')
    base.update(modality=['RGB', 'Pose'], RGB_inds=np.array([[1, 2]]),
                Pose_inds=np.array([0, 5]))
    out = MMDecode()(base)
    assert out['filename'] == path
    assert _frame_ids(out['imgs']) == [1, 2]
    np.testing.assert_array_equal(out['keypoint_score'], 1.)
    assert out['RGB_inds'].ndim == 1


def test_missing_and_unreadable_videos_name_the_file(tmp_path, logged):
    missing = str(tmp_path / 'nope_rgb.avi')
    bad = tmp_path / 'bad.avi'
    bad.write_bytes(b'not a video' * 20)
    base = dict(frame_dir='S001', modality=['RGB'],
                RGB_inds=np.arange(3), img_shape=(32, 40))
    with pytest.raises(FileNotFoundError, match=r"'S001'.*nope_rgb\.avi"):
        MMDecode()(dict(base, filename=missing))
    for backend in ('decord', 'opencv'):
        with pytest.raises(ValueError, match=r"'S001'.*bad\.avi"):
            MMDecode(backend=backend)(dict(base, filename=str(bad)))
    skipping = MMDecode(on_error='skip')
    assert skipping(dict(base, filename=missing)) is None
    assert skipping(dict(base, filename=str(bad))) is None
    assert len(logged) == 2
    assert "'S001'" in logged[0] and 'nope_rgb.avi' in logged[0]
    assert "'S001'" in logged[1] and 'bad.avi' in logged[1]
    assert all('skipped' in msg for msg in logged)


def test_skip_lets_the_dataset_draw_another_sample(tmp_path):
    """With on_error='skip', a training pipeline returns None for the broken
    sample; mmengine's BaseDataset then refetches another index."""
    good = _write_video(tmp_path / 'good.avi', 8)
    pipeline = Compose([
        TRANSFORMS.build(dict(type='MMUniformSampleFrames',
                              clip_len=dict(RGB=2, Pose=4))),
        TRANSFORMS.build(dict(type='MMDecode', on_error='skip')),
    ])
    assert pipeline(_mm_results(str(tmp_path / 'gone.avi'), 8)) is None
    assert len(pipeline(_mm_results(good, 8))['imgs']) == 2


@pytest.mark.parametrize('backend', ['decord', 'opencv'])
def test_short_video_is_clamped_and_warned_once(tmp_path, logged, backend):
    path = _write_video(tmp_path / 'short.avi', 5)
    decode = MMDecode(backend=backend)
    for _ in range(2):
        out = decode(dict(frame_dir='short', filename=path, total_frames=9,
                          modality=['RGB'], RGB_inds=np.array([0, 4, 6, 8]),
                          img_shape=(32, 40)))
        assert _frame_ids(out['imgs']) == [0, 4, 4, 4]
    assert len(logged) == 1
    assert 'short.avi' in logged[0] and 'has 5 frames' in logged[0]


def test_mmdecode_rejects_bad_config_and_input(video):
    with pytest.raises(ValueError, match='backend'):
        MMDecode(backend='pyav')
    with pytest.raises(ValueError, match='on_error'):
        MMDecode(on_error='ignore')
    with pytest.raises(KeyError, match='Pose_inds'):
        MMDecode()(dict(frame_dir='x', modality=['Pose'], keypoint=np.zeros(
            (1, 2, 17, 2))))
    with pytest.raises(ValueError, match="'Audio'"):
        MMDecode()(dict(frame_dir='x', modality=['Audio'],
                        Audio_inds=np.arange(2)))


def _rgbpose_pipeline(prefix=''):
    return [
        dict(type=prefix + 'MMUniformSampleFrames',
             clip_len=dict(RGB=4, Pose=8)),
        dict(type=prefix + 'MMDecode'),
        dict(type=prefix + 'MMCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='mmaction.Resize', scale=(48, 48), keep_ratio=False),
        dict(type='mmaction.RandomResizedCrop', area_range=(0.56, 1.0)),
        dict(type='mmaction.Resize', scale=(32, 32), keep_ratio=False),
        dict(type=prefix + 'Flip', flip_ratio=0.5, left_kp=LEFT,
             right_kp=RIGHT),
    ]


def test_rgbpose_train_pipeline_matches_mmaction2(tmp_path, monkeypatch):
    path = _write_video(tmp_path / 'v.avi', 20, h=48, w=64)
    ours = Compose([TRANSFORMS.build(c) for c in _rgbpose_pipeline()])
    ref = Compose(_rgbpose_pipeline('mmaction.'))
    for seed in range(4):
        base = _mm_results(path, 20, (48, 64), seed)
        base['keypoint'] = base['keypoint'] * 0.5 + 8  # compact crop applies
        outs = []
        for pipeline in (ours, ref):
            np.random.seed(seed)
            random.seed(seed)
            with monkeypatch.context() as m:
                m.setattr(np, 'Inf', np.inf, raising=False)
                outs.append(pipeline(copy.deepcopy(base)))
        a, b = outs
        assert a['flip'] == b['flip']
        np.testing.assert_allclose(a['keypoint'], b['keypoint'], atol=1e-5,
                                   rtol=0)
        np.testing.assert_array_equal(a['keypoint_score'],
                                      b['keypoint_score'])
        assert len(a['imgs']) == len(b['imgs']) == 4
        for x, y in zip(a['imgs'], b['imgs']):
            np.testing.assert_array_equal(x, y)


@pytest.mark.shared_data
def test_real_ntu_clip_decodes():
    path = SHARED / 'ntu' / 'S001C001P001R001A001_rgb.avi'
    if not path.is_file():
        pytest.skip('shared data not available')
    imgs, length = read_video_frames(str(path), np.array([0, 50, 102]))
    assert length == 103 and imgs[0].shape == (1080, 1920, 3)


@pytest.mark.parametrize('num_person,num_frames', [(0, 1), (0, 6), (2, 1)])
def test_rgbpose_pipeline_zero_persons_and_single_frame(
        tmp_path, num_person, num_frames):
    path = _write_video(tmp_path / 'v.avi', num_frames, h=48, w=64)
    pipeline = Compose([TRANSFORMS.build(c) for c in _rgbpose_pipeline()])
    base = _mm_results(path, num_frames, (48, 64))
    base['keypoint'] = base['keypoint'][:num_person]
    base['keypoint_score'] = base['keypoint_score'][:num_person]
    out = pipeline(base)
    assert len(out['imgs']) == 4 and out['imgs'][0].shape == (32, 32, 3)
    assert out['keypoint'].shape == (num_person, 8, 17, 2)
    if num_frames == 1:
        assert _frame_ids(out['imgs']) == [0] * 4
