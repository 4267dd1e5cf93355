"""The built-in tiny NTU-style dataset: determinism, format, videos, classes,
and the idempotent command-line tool."""
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from mmpose_plus.datasets.tiny_dataset import (TINY_ACTIONS, TINY_ANN_FILE,
                                               TINY_META_FILE, TINY_VIDEO_DIR,
                                               generate_tiny_dataset,
                                               tiny_dataset_is_current)

REPO = Path(__file__).resolve().parents[2]
# Small enough to write in well under a second.
SMALL = dict(
    num_classes=3,
    videos_per_class=4,
    val_per_class=1,
    img_size=40,
    frames=(10, 12),
    two_person_prob=0.5)


def _load(out_dir) -> dict:
    with open(Path(out_dir) / TINY_ANN_FILE, 'rb') as f:
        return pickle.load(f)


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp('tiny')
    info = generate_tiny_dataset(str(out), **SMALL)
    return out, info


def test_same_arguments_same_bytes(small_set, tmp_path):
    out, _ = small_set
    generate_tiny_dataset(str(tmp_path), **SMALL)
    assert (tmp_path / TINY_ANN_FILE).read_bytes() == \
        (out / TINY_ANN_FILE).read_bytes()
    names = sorted(p.name for p in (out / TINY_VIDEO_DIR).iterdir())
    assert names == sorted(p.name
                           for p in (tmp_path / TINY_VIDEO_DIR).iterdir())
    for name in names:
        assert (out / TINY_VIDEO_DIR / name).read_bytes() == \
            (tmp_path / TINY_VIDEO_DIR / name).read_bytes(), name


def test_seed_changes_the_data(small_set, tmp_path):
    out, _ = small_set
    generate_tiny_dataset(str(tmp_path), seed=1, write_videos=False, **SMALL)
    a, b = _load(out), _load(tmp_path)
    assert [x['frame_dir'] for x in a['annotations']] == \
        [x['frame_dir'] for x in b['annotations']]
    assert not np.array_equal(a['annotations'][0]['keypoint'],
                              b['annotations'][0]['keypoint'])


def test_annotation_format(small_set):
    out, info = small_set
    data = _load(out)
    annos = data['annotations']
    n_cls, per_cls = SMALL['num_classes'], SMALL['videos_per_class']
    assert len(annos) == n_cls * per_cls
    assert info['classes'] == list(TINY_ACTIONS[:n_cls])
    assert (out / 'label_map.txt').read_text().split() == info['classes']

    persons = set()
    for anno in annos:
        h, w = anno['img_shape']
        assert (h, w) == (SMALL['img_size'], ) * 2
        assert anno['original_shape'] == anno['img_shape']
        t = anno['total_frames']
        assert SMALL['frames'][0] <= t <= SMALL['frames'][1]
        kp, score = anno['keypoint'], anno['keypoint_score']
        assert kp.dtype == np.float32 and score.dtype == np.float32
        assert kp.shape[1:] == (t, 17, 2)
        assert score.shape == kp.shape[:-1]
        persons.add(kp.shape[0])
        # Inside the frame and never exactly 0 (0 means "missing joint").
        assert kp.min() >= 1 and kp[..., 0].max() <= w - 1
        assert kp[..., 1].max() <= h - 1
        assert 0 < score.min() and score.max() <= 1
        assert anno['label'] == int(anno['frame_dir'][-3:]) - 1
    assert persons == {1, 2}

    split = data['split']
    train, val = set(split['train']), set(split['val'])
    assert not train & val
    assert train | val == {a['frame_dir'] for a in annos}
    assert len(val) == n_cls * SMALL['val_per_class']
    assert info['num_train'] == len(train) and info['num_val'] == len(val)
    # NTU recipe split names are aliases of the same lists.
    assert split['xsub_train'] == split['train']
    assert split['xsub_val'] == split['val']


def test_videos_match_skeletons(small_set):
    decord = pytest.importorskip('decord')
    out, _ = small_set
    for anno in _load(out)['annotations']:
        path = out / TINY_VIDEO_DIR / (anno['frame_dir'] + '.mp4')
        reader = decord.VideoReader(str(path))
        assert len(reader) == anno['total_frames'], path
        frames = reader.get_batch(list(range(len(reader)))).asnumpy()
        assert frames.shape[1:] == tuple(anno['img_shape']) + (3, )
        # The figure is drawn in a bright colour on a dark background: the
        # pixels under the torso joints are brighter than the frame.
        gray = frames.astype(np.float32).mean(-1)
        kp = np.round(anno['keypoint']).astype(int)
        torso = kp[:, :, [5, 6, 11, 12]]  # shoulders, hips
        t_idx = np.arange(len(reader))[None, :, None]
        on_figure = gray[t_idx, torso[..., 1], torso[..., 0]]
        assert on_figure.mean() > gray.mean() + 40, path


def _nearest_centroid_accuracy(data: dict) -> float:
    """Val accuracy of a nearest-centroid classifier on simple motion
    features: how much each joint moves, relative to body size."""

    def feature(anno):
        kp = anno['keypoint'][0]  # first person, (T, 17, 2)
        span = kp[..., 1].max() - kp[..., 1].min()
        rel = (kp - kp.mean(axis=(0, 1))) / span
        return np.concatenate([rel.std(0).ravel(), rel.mean(0).ravel()])

    by_name = {a['frame_dir']: a for a in data['annotations']}
    train = [by_name[n] for n in data['split']['train']]
    val = [by_name[n] for n in data['split']['val']]
    labels = sorted({a['label'] for a in train})
    centroids = np.stack([
        np.mean([feature(a) for a in train if a['label'] == c], 0)
        for c in labels
    ])
    hits = [
        labels[np.argmin(((centroids - feature(a))**2).sum(1))] == a['label']
        for a in val
    ]
    return float(np.mean(hits))


def test_classes_are_distinct_and_learnable(tmp_path):
    """On the default set, classes differ in their motion so much that a
    nearest-centroid rule already beats chance by far."""
    generate_tiny_dataset(str(tmp_path), write_videos=False)
    data = _load(tmp_path)
    num_classes = len({a['label'] for a in data['annotations']})
    assert num_classes == 5
    assert _nearest_centroid_accuracy(data) >= 0.7  # chance: 0.2


def test_every_action_moves_differently(tmp_path):
    generate_tiny_dataset(
        str(tmp_path),
        num_classes=len(TINY_ACTIONS),
        videos_per_class=2,
        val_per_class=1,
        two_person_prob=0.0,
        write_videos=False)
    annos = _load(tmp_path)['annotations']
    # Per class: which joints move the most (normalised by body height).
    signatures = {}
    for anno in annos:
        kp = anno['keypoint'][0]
        span = kp[..., 1].max() - kp[..., 1].min()
        signatures.setdefault(anno['label'], []).append(
            (kp / span).std(0).sum(-1))
    sig = np.stack([np.mean(signatures[c], 0) for c in sorted(signatures)])
    dist = np.abs(sig[:, None] - sig[None]).sum(-1)
    off_diag = dist[~np.eye(len(sig), dtype=bool)]
    assert off_diag.min() > 0.1, dist


@pytest.mark.parametrize('bad, match', [
    (dict(num_classes=0), 'num_classes'),
    (dict(num_classes=len(TINY_ACTIONS) + 1), 'num_classes'),
    (dict(videos_per_class=4, val_per_class=4), 'val_per_class'),
    (dict(frames=(12, 10)), 'frames'),
    (dict(img_size=16), 'img_size'),
    (dict(img_size=60), 'img_size'),
    (dict(two_person_prob=1.5), 'two_person_prob'),
])
def test_bad_parameters_are_named(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        generate_tiny_dataset(str(tmp_path), **bad)
    assert not (tmp_path / TINY_ANN_FILE).exists()


def test_size_decord_cannot_read_is_refused(tmp_path):
    pytest.importorskip('decord')
    # decord 0.6 mis-decodes 48-pixel mp4v videos; fail at generation time.
    with pytest.raises(ValueError, match='decord cannot read back'):
        generate_tiny_dataset(str(tmp_path), img_size=48, **{
            k: v
            for k, v in SMALL.items() if k != 'img_size'
        })


def test_is_current_tracks_parameters_and_files(small_set, tmp_path):
    out, _ = small_set
    assert tiny_dataset_is_current(str(out), **SMALL)
    assert not tiny_dataset_is_current(str(out), **dict(SMALL, seed=3))
    assert not tiny_dataset_is_current(str(tmp_path), **SMALL)

    generate_tiny_dataset(str(tmp_path), **SMALL)
    victim = next((tmp_path / TINY_VIDEO_DIR).iterdir())
    victim.unlink()
    assert not tiny_dataset_is_current(str(tmp_path), **SMALL)


def _load_cli():
    path = REPO / 'tools' / 'data' / 'generate_tiny_dataset.py'
    spec = importlib.util.spec_from_file_location('generate_tiny_cli', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_is_idempotent(tmp_path, capsys):
    cli = _load_cli()
    out = tmp_path / 'tiny'
    args = [
        '--out-dir',
        str(out), '--num-classes', '2', '--videos-per-class', '3',
        '--val-per-class', '1', '--img-size', '32', '--frames', '8', '9'
    ]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert 'wrote 4 train + 2 val clips of 2 classes' in first
    ann = out / TINY_ANN_FILE
    stamp = ann.stat().st_mtime_ns
    os.utime(ann, ns=(stamp - 10**9, stamp - 10**9))
    stamp = ann.stat().st_mtime_ns

    assert cli.main(args) == 0
    assert 'up to date' in capsys.readouterr().out
    assert ann.stat().st_mtime_ns == stamp  # not rewritten

    assert cli.main(args + ['--force']) == 0
    assert 'wrote' in capsys.readouterr().out
    assert ann.stat().st_mtime_ns != stamp

    # Different parameters regenerate without --force.
    assert cli.main(args[:-3] + ['--frames', '8', '10']) == 0
    assert 'wrote' in capsys.readouterr().out
    assert (out / TINY_META_FILE).exists()


def test_cli_reports_bad_parameters(tmp_path, capsys):
    cli = _load_cli()
    assert cli.main(['--out-dir', str(tmp_path), '--num-classes', '99']) == 2
    assert 'num_classes' in capsys.readouterr().err
