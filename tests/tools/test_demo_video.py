"""tools/demo/demo_video.py: an annotated video with as many frames as the
input and a JSON of predictions, offline with untrained tiny models."""
import importlib.util
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from mmpose_plus.apis.extraction import iter_video_frames, video_info
from mmpose_plus.datasets.tiny_dataset import generate_tiny_dataset

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'demo' / 'demo_video.py'
BOTTOMUP = 'configs/pose/tiny/higherhrnet_tiny_tinycoco.py'
SKELETON = 'configs/tiny/slowonly_tiny_tinyntu-keypoint.py'
RGBPOSE = 'configs/tiny/rgbposeconv3d_tiny_tinyntu.py'


def _load():
    spec = importlib.util.spec_from_file_location('demo_video_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*argv):
    module = _load()
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return module.main([str(a) for a in argv])


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('demo_video')
    generate_tiny_dataset(str(out), num_classes=1, videos_per_class=2,
                          val_per_class=1, img_size=64, frames=(7, 7))
    return sorted((out / 'videos').glob('*.mp4'))[0]


def _frames(path):
    return [f for batch in iter_video_frames(str(path)) for f in batch]


def test_demo_writes_annotated_video_and_json(video, tmp_path, capsys):
    labels = tmp_path / 'labels.txt'
    labels.write_text('wave\njump\nwalk\nsquat\narm circles\n')
    out = tmp_path / 'out' / 'demo.mp4'
    rc = _run(video, out, '--pose-config', BOTTOMUP, '--action-config',
              SKELETON, '--label-map', labels, '--top-k', '2',
              '--batch-size', '4')
    assert rc == 0
    assert 'UNTRAINED' in capsys.readouterr().err
    src, dst = _frames(video), _frames(out)
    assert len(dst) == len(src) == 7
    assert dst[0].shape == src[0].shape
    # The label box is drawn in the top-left corner of every frame.
    for a, b in zip(src, dst):
        assert np.abs(a[:12, :40].astype(int) - b[:12, :40]).mean() > 10
    assert video_info(str(out))['fps'] == pytest.approx(
        video_info(str(video))['fps'])

    record = json.loads((tmp_path / 'out' / 'demo.json').read_text())
    assert record['num_frames'] == 7
    assert record['img_shape'] == [64, 64]
    assert record['untrained'] == ['pose', 'action']
    assert len(record['scores']) == 5
    assert sum(record['scores']) == pytest.approx(1., abs=1e-4)
    top = record['predictions']
    assert len(top) == 2
    assert top[0]['score'] >= top[1]['score']
    assert top[0]['score'] == pytest.approx(max(record['scores']))
    names = ['wave', 'jump', 'walk', 'squat', 'arm circles']
    assert all(p['name'] == names[p['label']] for p in top)
    kp = np.array(record['keypoints'])
    assert kp.shape == (record['num_persons'], 7, 17, 3)
    # Rounded to 0.01 in the file (no float32 noise such as 13.8299999).
    assert all(len(repr(v).split('.')[-1]) <= 2 for v in kp.ravel().tolist())
    assert set(record['timings']) == {'pose_s', 'action_s', 'render_s'}
    assert 'windows' not in record  # only with --window


def test_every_json_key_is_documented(video, tmp_path):
    out, js = tmp_path / 'o.mp4', tmp_path / 'o.json'
    # RGBPose with windows: every key the tool can write is present.
    assert _run(video, out, '--pose-config', BOTTOMUP, '--action-config',
                RGBPOSE, '--json', js, '--no-flip-test', '--window', '4',
                '--stride', '2') == 0
    record = json.loads(js.read_text())
    assert [(w['start'], w['end']) for w in record['windows']] == \
        [(0, 4), (2, 6), (3, 7)]
    guide = (REPO / 'docs' / 'video_to_action.md').read_text()
    table = guide.split('| key | type | meaning |')[1].split('\n\n')[0]
    documented = set(re.findall(r'^\| `(\w+)`(?:, `(\w+)`)?', table,
                                re.M))
    documented = {k for pair in documented for k in pair if k}
    assert set(record) == documented
    for key in record['timings']:
        assert f'`{key}`' in table


def test_demo_with_rgbpose_and_an_explicit_json_path(video, tmp_path):
    out, js = tmp_path / 'rgbpose.mp4', tmp_path / 'preds.json'
    rc = _run(video, out, '--pose-config', BOTTOMUP, '--action-config',
              RGBPOSE, '--json', js, '--top-k', '10', '--pose-cfg-options',
              'model.test_cfg.flip_test=False')
    assert rc == 0
    record = json.loads(js.read_text())
    assert len(record['rgb_scores']) == len(record['pose_scores']) == 5
    assert len(record['predictions']) == 5  # top-k capped at the classes
    assert record['predictions'][0]['name'] == \
        f'class {record["predictions"][0]["label"]}'
    assert len(_frames(out)) == 7


def test_demo_reports_bad_inputs(video, tmp_path, capsys):
    assert _run(tmp_path / 'missing.mp4', tmp_path / 'o.mp4') == 1
    assert 'does not exist' in capsys.readouterr().err
    short = tmp_path / 'short.txt'
    short.write_text('only one\n')
    rc = _run(video, tmp_path / 'o.mp4', '--pose-config', BOTTOMUP,
              '--action-config', SKELETON, '--label-map', short,
              '--no-flip-test')
    assert rc == 1
    assert 'has 1 names but the recogniser has 5' in capsys.readouterr().err


@pytest.mark.parametrize('frames,window,stride', [(20, 8, 4), (21, 8, 4),
                                                  (10, 8, 4), (9, 3, 3),
                                                  (5, 1, 1), (7, 7, 3),
                                                  (7, 30, 15)])
def test_windows_cover_the_video(frames, window, stride):
    tool = _load()
    ranges = tool.window_ranges(frames, window, stride)
    covered = np.zeros(frames, int)
    for start, end in ranges:
        assert 0 <= start < end <= frames
        assert end - start == min(window, frames)
        covered[start:end] += 1
    assert covered.min() >= 1
    starts = [s for s, _ in ranges]
    assert starts == sorted(set(starts))
    assert all(b - a <= stride for a, b in zip(starts, starts[1:]))
    # Each frame shows the window with the largest start containing it.
    shown = tool.frame_windows(frames, ranges)
    for t, i in enumerate(shown):
        assert ranges[i][0] <= t < ranges[i][1]
        assert all(not s <= t < e for s, e in ranges[i + 1:])


def test_sliding_windows_in_json_and_video(tmp_path, capsys):
    data = tmp_path / 'data'
    generate_tiny_dataset(str(data), num_classes=1, videos_per_class=2,
                          val_per_class=1, img_size=40, frames=(20, 20))
    clip = sorted((data / 'videos').glob('*.mp4'))[0]
    out = tmp_path / 'win.mp4'
    rc = _run(clip, out, '--pose-config', BOTTOMUP, '--action-config',
              SKELETON, '--window', '8', '--stride', '4', '--top-k', '2',
              '--no-flip-test', '--batch-size', '10')
    assert rc == 0
    assert len(_frames(out)) == len(_frames(clip)) == 20
    record = json.loads((tmp_path / 'win.json').read_text())
    windows = record['windows']
    assert [(w['start'], w['end']) for w in windows] == \
        [(0, 8), (4, 12), (8, 16), (12, 20)]
    for w in windows:
        preds = w['predictions']
        assert len(preds) == 2 and preds[0]['score'] >= preds[1]['score']
        assert set(preds[0]) == {'label', 'name', 'score'}
        assert preds[0]['name'] == f'class {preds[0]["label"]}'
    # The whole-clip keys keep their meaning.
    assert len(record['predictions']) == 2 and len(record['scores']) == 5


def test_window_longer_than_the_video_is_the_whole_clip(video, tmp_path,
                                                         capsys):
    out = tmp_path / 'long.mp4'
    assert _run(video, out, '--pose-config', BOTTOMUP, '--action-config',
                SKELETON, '--window', '30', '--no-flip-test') == 0
    assert 'longer than the video (7 frames)' in capsys.readouterr().err
    record = json.loads((tmp_path / 'long.json').read_text())
    assert record['windows'] == [
        dict(start=0, end=7, predictions=record['predictions'])
    ]
    assert len(_frames(out)) == 7


@pytest.mark.parametrize('argv,message', [
    (['--window', '0'], '--window must be >= 1'),
    (['--window', '-3'], '--window must be >= 1'),
    (['--window', '8', '--stride', '0'], '--stride must be >= 1'),
    (['--window', '4', '--stride', '5'], 'longer than --window'),
    (['--stride', '2'], '--stride needs --window'),
])
def test_bad_window_arguments(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _run('in.mp4', tmp_path / 'o.mp4', *argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
