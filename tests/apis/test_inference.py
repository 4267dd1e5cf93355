"""Inference API: building from configs, loading checkpoints (ours and the
official pose layout), batched pose estimation and the two recognisers, all
with the tiny configs and untrained weights on a generated video."""
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from mmpose_plus.apis import (estimate_poses, find_config, init_model,
                              is_rgbpose, recognize_rgbpose,
                              recognize_skeleton, untrained_banner)
from mmpose_plus.apis.inference import get_test_pipeline
from mmpose_plus.datasets.tiny_dataset import generate_tiny_dataset
from mmpose_plus.engine.checks import CheckpointMismatchError

REPO = Path(__file__).resolve().parents[2]
BOTTOMUP = str(REPO / 'configs/pose/tiny/higherhrnet_tiny_tinycoco.py')
TOPDOWN = str(REPO / 'configs/pose/tiny/simplebaseline_res18_tiny_tinycoco.py')
SKELETON = str(REPO / 'configs/tiny/slowonly_tiny_tinyntu-keypoint.py')
RGBPOSE = str(REPO / 'configs/tiny/rgbposeconv3d_tiny_tinyntu.py')


def _build(config, checkpoint=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return init_model(config, checkpoint, **kwargs)


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> Path:
    """A 6-frame 64x64 stick-figure video (two people in some clips)."""
    out = tmp_path_factory.mktemp('tiny_video')
    generate_tiny_dataset(str(out), num_classes=1, videos_per_class=2,
                          val_per_class=1, img_size=64, frames=(6, 6))
    return sorted((out / 'videos').glob('*.mp4'))[0]


@pytest.fixture(scope='module')
def bottomup():
    return _build(BOTTOMUP)


@pytest.fixture(scope='module')
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(3, 48, 64, 3), dtype=np.uint8)


def test_init_model_warns_loudly_without_checkpoint():
    with pytest.warns(UserWarning, match='UNTRAINED'):
        model = init_model(SKELETON)
    assert not model.training
    assert model.checkpoint is None
    assert get_test_pipeline(model.cfg)[0]['type'] == 'UniformSampleFrames'


def test_repository_configs_are_found_from_any_folder(tmp_path,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    rel = 'configs/tiny/slowonly_tiny_tinyntu-keypoint.py'
    assert Path(find_config(rel)) == REPO / rel
    model = _build(rel)
    assert type(model).__name__ == 'Recognizer3D'
    # A file in the working folder wins over the checkout's.
    (tmp_path / 'configs' / 'tiny').mkdir(parents=True)
    (tmp_path / rel).write_text('model = None\n')
    assert find_config(rel) == rel
    assert find_config('nowhere/at_all.py') == 'nowhere/at_all.py'
    with pytest.raises(FileNotFoundError, match='at_all.py'):
        init_model('nowhere/at_all.py')


def test_untrained_banner_names_the_models():
    banner = untrained_banner(['pose', 'action'])
    lines = banner.strip('\n').splitlines()
    assert lines[0] == lines[-1] == '!' * 72
    assert 'pose and action model(s)' in banner and 'UNTRAINED' in banner
    assert all(line.startswith('!') for line in lines)


def test_init_model_loads_our_checkpoint_and_rejects_a_wrong_one(tmp_path):
    source = _build(SKELETON, seed=1)
    ckpt = tmp_path / 'skeleton.pth'
    torch.save(dict(state_dict=source.state_dict(),
                    meta=dict(dataset_meta=dict(classes=list('abcde')))),
               ckpt)
    model = _build(SKELETON, str(ckpt), seed=2)
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert model.dataset_meta['classes'] == list('abcde')

    wrong = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict=_build(TOPDOWN).state_dict()), wrong)
    with pytest.raises(CheckpointMismatchError, match='missing'):
        _build(SKELETON, str(wrong))
    with pytest.raises(FileNotFoundError):
        init_model(str(tmp_path / 'nope.py'))


def test_init_model_converts_an_official_pose_checkpoint(tmp_path, bottomup):
    # The official HigherHRNet release has bare backbone / head keys.
    official = {
        k.split('.', 1)[1]: v
        for k, v in bottomup.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    assert 'final_layers.0.weight' in official
    path = tmp_path / 'pose_higher_hrnet.pth'
    torch.save(official, path)
    model = _build(BOTTOMUP, str(path), seed=5)
    for key, value in bottomup.state_dict().items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(model.state_dict()[key], value), key


def test_bottomup_estimate_poses_is_batched_and_well_formed(
        bottomup, frames):
    one = estimate_poses(bottomup, frames, batch_size=1)
    batched = estimate_poses(bottomup, list(frames), batch_size=3)
    assert len(one) == len(batched) == 3
    for a, b in zip(one, batched):
        assert set(a) == {'keypoints', 'keypoint_scores', 'bbox_scores'}
        n = len(a['keypoints'])
        assert a['keypoints'].shape == (n, 17, 2)
        assert a['keypoint_scores'].shape == (n, 17)
        assert a['bbox_scores'].shape == (n, )
        assert a['keypoints'].dtype == np.float32
        # Batching frames does not change the result.
        assert len(b['keypoints']) == n
        np.testing.assert_allclose(a['keypoints'], b['keypoints'], atol=1e-3)
        np.testing.assert_allclose(a['keypoint_scores'],
                                   b['keypoint_scores'], atol=1e-4)


def test_estimate_poses_reads_a_video_and_reports_progress(bottomup, video):
    seen = []
    out = estimate_poses(bottomup, str(video), batch_size=4,
                         progress=seen.append)
    assert len(out) == 6
    assert seen == [4, 6]


def test_topdown_whole_frames_or_given_boxes(frames):
    model = _build(TOPDOWN)
    whole = estimate_poses(model, frames, batch_size=2)
    assert [len(f['keypoints']) for f in whole] == [1, 1, 1]
    assert all(f['bbox_scores'].tolist() == [1.] for f in whole)
    boxes = [np.array([[0, 0, 20, 40, .7], [30, 5, 60, 45, .9]])] * 2 + [
        np.zeros((0, 4))
    ]
    given = estimate_poses(model, frames, batch_size=2, bboxes=boxes)
    assert [len(f['keypoints']) for f in given] == [2, 2, 0]
    assert given[0]['bbox_scores'].tolist() == pytest.approx([.7, .9])
    assert given[2]['keypoints'].shape == (0, 17, 2)
    # Each person is decoded inside (the padded version of) its own box.
    left, right = given[0]['keypoints']
    assert left[:, 0].mean() < right[:, 0].mean()
    with pytest.raises(ValueError, match='bboxes has 2 frames'):
        estimate_poses(model, frames, bboxes=boxes[:2])


def test_topdown_runs_all_persons_of_a_frame_in_one_pass(frames):
    model = _build(TOPDOWN)
    sizes = []
    original = model.test_step
    model.test_step = lambda data: sizes.append(len(data['inputs'])) or \
        original(data)
    boxes = [np.array([[0, 0, 20, 40], [30, 5, 60, 45], [5, 5, 50, 50]])] * 3
    out = estimate_poses(model, frames, batch_size=1, bboxes=boxes)
    assert sizes == [3, 3, 3]  # three people per pass, one frame each
    sizes.clear()
    batched = estimate_poses(model, frames, batch_size=2, bboxes=boxes)
    assert sizes == [6, 3]
    for a, b in zip(out, batched):
        np.testing.assert_allclose(a['keypoints'], b['keypoints'], atol=1e-3)


def test_estimate_poses_rejects_bad_input(bottomup):
    with pytest.raises(ValueError, match='top-down'):
        estimate_poses(bottomup, np.zeros((1, 32, 32, 3), np.uint8),
                       bboxes=[np.zeros((1, 4))])
    with pytest.raises(ValueError, match='uint8'):
        estimate_poses(bottomup, np.zeros((1, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        estimate_poses(bottomup, [np.zeros((32, 32), np.uint8)])
    with pytest.raises(FileNotFoundError):
        estimate_poses(bottomup, ['missing.jpg'])


def _skeleton(m=2, t=12, h=64, w=64, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(5, min(h, w) - 5, size=(m, t, 17, 2)).astype(np.float32)
    return kp, rng.uniform(.5, 1, size=(m, t, 17)).astype(np.float32)


def test_recognize_skeleton_returns_class_probabilities():
    model = _build(SKELETON)
    kp, sc = _skeleton()
    out = recognize_skeleton(model, kp, sc, (64, 64))
    assert set(out) == {'label', 'score', 'scores'}
    assert out['scores'].shape == (5, ) and out['scores'].dtype == np.float32
    assert out['scores'].sum() == pytest.approx(1., abs=1e-4)
    assert out['label'] == int(np.argmax(out['scores']))
    assert out['score'] == pytest.approx(out['scores'].max())
    # A different skeleton gives different scores (the input is used).
    other = recognize_skeleton(model, kp[:, ::-1] * 0.5, sc, (64, 64))
    assert not np.allclose(other['scores'], out['scores'])
    # Nobody found: still a valid, well-formed prediction.
    empty = recognize_skeleton(model, np.zeros((0, 12, 17, 2)), None,
                               (64, 64))
    assert empty['scores'].shape == (5, )
    with pytest.raises(ValueError, match=r'\(M, T, V, 2\)'):
        recognize_skeleton(model, kp[0], sc[0], (64, 64))
    with pytest.raises(ValueError, match='scores'):
        recognize_skeleton(model, kp, sc[:1], (64, 64))
    with pytest.raises(ValueError, match='NaN'):
        recognize_skeleton(model, kp * np.nan, sc, (64, 64))


def test_recognize_rgbpose_from_a_raw_video(video):
    model = _build(RGBPOSE)
    kp, sc = _skeleton(t=6)
    out = recognize_rgbpose(model, str(video), kp, sc)
    assert set(out) == {'label', 'score', 'scores', 'rgb_scores',
                        'pose_scores'}
    for key in ('scores', 'rgb_scores', 'pose_scores'):
        assert out[key].shape == (5, )
        assert out[key].sum() == pytest.approx(1., abs=1e-4)
    np.testing.assert_allclose(
        out['scores'], (out['rgb_scores'] + out['pose_scores']) / 2,
        atol=1e-6)
    rgb_only = recognize_rgbpose(model, str(video), kp, sc,
                                 fusion_weights=(1., 0.))
    np.testing.assert_allclose(rgb_only['scores'], out['rgb_scores'],
                               atol=1e-6)
    assert is_rgbpose(model) and not is_rgbpose(_build(SKELETON))
    with pytest.raises(ValueError, match='non-negative'):
        recognize_rgbpose(model, str(video), kp, sc,
                          fusion_weights=(2., -1.))
    with pytest.raises(FileNotFoundError):
        recognize_rgbpose(model, 'missing.mp4', kp, sc)
    with pytest.raises(ValueError, match='pred_scores'):
        recognize_skeleton(model, kp, sc, (64, 64))


def test_recognize_rgbpose_on_a_frame_range(video, monkeypatch):
    from mmpose_plus.datasets.transforms import loading
    decoded = []
    read = loading.read_video_frames

    def spy(filename, inds, *args, **kwargs):
        decoded.append(np.asarray(inds).copy())
        return read(filename, inds, *args, **kwargs)

    monkeypatch.setattr(loading, 'read_video_frames', spy)
    model = _build(RGBPOSE)
    kp, sc = _skeleton(t=6)
    whole = recognize_rgbpose(model, str(video), kp, sc)
    same = recognize_rgbpose(model, str(video), kp, sc, frame_range=(0, 6))
    np.testing.assert_allclose(same['scores'], whole['scores'], atol=1e-6)
    # Frames 3..5 only: the video frames decoded are those frames...
    decoded.clear()
    part = recognize_rgbpose(model, str(video), kp, sc, frame_range=(3, 6))
    assert decoded and decoded[0].min() >= 3 and decoded[0].max() <= 5
    # ...and so are the keypoints: changing frames 0..2 changes nothing.
    kp2 = kp.copy()
    kp2[:, :3] = 0
    again = recognize_rgbpose(model, str(video), kp2, sc, frame_range=(3, 6))
    np.testing.assert_allclose(again['pose_scores'], part['pose_scores'],
                               atol=1e-6)
    assert not np.allclose(part['pose_scores'], whole['pose_scores'])
    for bad in ((0, 7), (4, 4), (-1, 3)):
        with pytest.raises(ValueError, match='frame_range'):
            recognize_rgbpose(model, str(video), kp, sc, frame_range=bad)
