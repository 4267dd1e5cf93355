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


def _run(*argv):
    spec = importlib.util.spec_from_file_location('demo_video_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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


def test_every_json_key_is_documented(video, tmp_path):
    out, js = tmp_path / 'o.mp4', tmp_path / 'o.json'
    assert _run(video, out, '--pose-config', BOTTOMUP, '--action-config',
                RGBPOSE, '--json', js, '--no-flip-test') == 0
    record = json.loads(js.read_text())
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
