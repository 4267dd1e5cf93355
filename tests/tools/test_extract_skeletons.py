"""tools/data/extract_skeletons.py and mmpose_plus.apis.extraction: videos
in, a PYSKL pickle out that PoseDataset and the tiny action pipelines read
unchanged; resumable; broken videos reported and skipped. Tiny bottom-up
model with untrained weights: this checks the plumbing, not the poses."""
import importlib.util
import io
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmpose_plus.apis import extraction, init_model
from mmpose_plus.apis.extraction import (NTU60_XSUB_TRAIN_SUBJECTS,
                                         NTU120_XSUB_TRAIN_SUBJECTS,
                                         extract_skeletons, labels_from_file,
                                         labels_from_regex, list_videos,
                                         ntu60_splits, ntu120_splits,
                                         ntu_splits, video_name)
from mmpose_plus.datasets import PoseDataset
from mmpose_plus.datasets.tiny_dataset import generate_tiny_dataset

REPO = Path(__file__).resolve().parents[2]
SHARED_NTU = REPO / '..' / 'shared' / 'data' / 'ntu'
TOOL = REPO / 'tools' / 'data' / 'extract_skeletons.py'
BOTTOMUP = str(REPO / 'configs/pose/tiny/higherhrnet_tiny_tinycoco.py')
TOPDOWN = str(REPO / 'configs/pose/tiny/simplebaseline_res18_tiny_tinycoco.py')
SKELETON = str(REPO / 'configs/tiny/slowonly_tiny_tinyntu-keypoint.py')
RGBPOSE = str(REPO / 'configs/tiny/rgbposeconv3d_tiny_tinyntu.py')


def _tool():
    spec = importlib.util.spec_from_file_location('extract_skeletons_tool',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(config, seed=0, **kwargs):
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return init_model(config, **kwargs)


@pytest.fixture(scope='module')
def video_dir(tmp_path_factory) -> Path:
    """Four 6-frame NTU-named videos (classes A001, A002) and no others."""
    out = tmp_path_factory.mktemp('tiny_videos')
    generate_tiny_dataset(str(out), num_classes=2, videos_per_class=2,
                          val_per_class=1, img_size=64, frames=(6, 6))
    return out / 'videos'


@pytest.fixture(scope='module')
def pose_model():
    return _build(BOTTOMUP, cfg_options={'model.test_cfg.flip_test': False})


def _broken(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    return path


def test_cli_writes_a_pickle_posedataset_and_action_pipelines_read(
        video_dir, tmp_path):
    folder = tmp_path / 'videos'
    folder.mkdir()
    for video in video_dir.glob('*.mp4'):
        (folder / video.name).symlink_to(video)
    broken = _broken(folder / 'S001C002P003R001A001.mp4')
    out = tmp_path / 'ntu_2d.pkl'
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        rc = _tool().main([
            str(folder),
            str(out), '--pose-config', BOTTOMUP, '--ntu', '--batch-size',
            '4', '--no-flip-test', '--quiet'
        ])
    assert rc == 2  # written, but one video failed
    data = pickle.load(open(out, 'rb'))
    annos = data['annotations']
    names = sorted(v.stem for v in video_dir.glob('*.mp4'))
    assert sorted(a['frame_dir'] for a in annos) == names
    assert broken.stem not in data['split']['xview_train']
    assert sorted(data['split']) == [
        'xsub_train', 'xsub_val', 'xview_train', 'xview_val'
    ]
    assert sorted(data['split']['xsub_train']) == names  # performers 1, 2
    for anno in annos:
        assert set(anno) == {
            'frame_dir', 'label', 'img_shape', 'original_shape',
            'total_frames', 'keypoint', 'keypoint_score'
        }
        assert anno['label'] == int(anno['frame_dir'][-3:]) - 1
        assert anno['img_shape'] == anno['original_shape'] == (64, 64)
        assert anno['total_frames'] == 6
        m = anno['keypoint'].shape[0]
        assert 1 <= m <= 2
        assert anno['keypoint'].shape == (m, 6, 17, 2)
        assert anno['keypoint'].dtype == np.float32
        assert anno['keypoint_score'].shape == (m, 6, 17)
        assert anno['keypoint_score'].dtype == np.float32

    # Round trip: PoseDataset + the tiny PoseC3D pipelines and model.
    init_default_scope('mmpose_plus')
    cfg = Config.fromfile(SKELETON)
    train = PoseDataset(str(out), pipeline=cfg.train_pipeline,
                        split='xsub_train', num_classes=5)
    test = PoseDataset(str(out), pipeline=cfg.test_pipeline,
                       split='xview_val', num_classes=5)
    assert len(train) == len(test) == 4
    assert train[0]['inputs'].shape == (1, 17, 16, 16, 16)
    model = _build(SKELETON)
    batch = pseudo_collate([test[i] for i in range(len(test))])
    with torch.no_grad():
        preds = model.test_step(batch)
    assert len(preds) == 4
    assert preds[0].pred_scores.item.shape == (5, )
    # The RGBPose pipeline reads the same file with the videos.
    rgbpose = Config.fromfile(RGBPOSE)
    ds = PoseDataset(str(out), pipeline=rgbpose.test_pipeline,
                     split='xsub_train', data_prefix=dict(video=str(folder)))
    sample = ds[0]['inputs']
    assert sample['imgs'].shape[-2:] == (64, 64)
    assert sample['heatmap_imgs'].shape[1] == 17


def test_resume_skips_finished_videos_and_redoes_stale_ones(
        video_dir, tmp_path, pose_model, monkeypatch):
    videos = sorted(str(v) for v in video_dir.glob('*.mp4'))[:2]
    out, work = str(tmp_path / 'out.pkl'), str(tmp_path / 'work')
    labels = labels_from_regex(r'A(\d{3})', -1)
    first = extract_skeletons(videos, pose_model, out, work, labels=labels,
                              verbose=False)
    assert len(first['extracted']) == 2 and first['cached'] == []
    before = pickle.load(open(out, 'rb'))

    def no_model(*args, **kwargs):
        raise AssertionError('a finished video was extracted again')

    monkeypatch.setattr(extraction, 'extract_video', no_model)
    again = extract_skeletons(videos, pose_model, out, work, labels=labels,
                              verbose=False)
    assert again['extracted'] == [] and len(again['cached']) == 2
    after = pickle.load(open(out, 'rb'))
    for a, b in zip(before['annotations'], after['annotations']):
        assert a['frame_dir'] == b['frame_dir']
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])
    monkeypatch.undo()

    # A half-written cache file and changed settings are both redone.
    cache = sorted(Path(work).glob('*.pkl'))[0]
    cache.write_bytes(b'\x80\x04truncated')
    redo = extract_skeletons(videos, pose_model, out, work, labels=labels,
                             verbose=False)
    assert len(redo['extracted']) == 1 and len(redo['cached']) == 1
    other = extract_skeletons(videos, pose_model, out, work, labels=labels,
                              max_persons=1, verbose=False)
    assert len(other['extracted']) == 2
    assert all(a['keypoint'].shape[0] == 1
               for a in pickle.load(open(out, 'rb'))['annotations'])


def test_broken_video_is_reported_and_the_rest_continue(
        video_dir, tmp_path, pose_model, capsys):
    good = sorted(str(v) for v in video_dir.glob('*.mp4'))[:1]
    broken = str(_broken(tmp_path / 'broken.mp4'))
    empty = tmp_path / 'empty.avi'
    empty.write_bytes(b'')
    out = str(tmp_path / 'out.pkl')
    summary = extract_skeletons([broken, good[0], str(empty)], pose_model,
                                out, splits='test', verbose=True)
    failed = dict(summary['failed'])
    assert set(failed) == {broken, str(empty)}
    assert 'cannot decode' in failed[broken]
    assert summary['extracted'] == [Path(good[0]).stem]
    printed = capsys.readouterr().out
    assert 'FAILED' in printed and 'broken.mp4' in printed
    data = pickle.load(open(out, 'rb'))
    assert data['split'] == {'test': [Path(good[0]).stem]}
    with pytest.raises(ValueError, match='all 1 videos failed'):
        extract_skeletons([broken], pose_model, str(tmp_path / 'x.pkl'),
                          verbose=False)


def test_topdown_extraction_with_given_boxes(video_dir, tmp_path):
    model = _build(TOPDOWN)
    video = sorted(video_dir.glob('*.mp4'))[0]
    boxes = {video.stem: [np.array([[2, 2, 30, 62, 0.9]])] * 6}
    summary = extract_skeletons([str(video)], model, str(tmp_path / 'o.pkl'),
                                bboxes=boxes, tracking=dict(person_thr=-1.),
                                verbose=False)
    assert summary['failed'] == []
    anno = pickle.load(open(tmp_path / 'o.pkl', 'rb'))['annotations'][0]
    assert anno['keypoint'].shape == (1, 6, 17, 2)
    # Keypoints were decoded in the given box (padded by 1.25), not the
    # whole 64-pixel frame.
    assert anno['keypoint'][..., 0].max() < 40


def test_inputs_labels_and_splits(video_dir, tmp_path):
    videos = sorted(str(v) for v in video_dir.glob('*.mp4'))
    assert list_videos(str(video_dir)) == videos
    assert list_videos(str(video_dir / '*A001.mp4')) == [
        v for v in videos if v.endswith('A001.mp4')
    ]
    listing = tmp_path / 'list.txt'
    listing.write_text(f'# my videos\n{videos[1]}\n\n{videos[0]}\n'
                       f'{videos[1]}\n')
    assert list_videos(str(listing)) == [videos[1], videos[0]]
    listing.write_text('missing.mp4\n')
    with pytest.raises(FileNotFoundError, match='list.txt:1'):
        list_videos(str(listing))
    with pytest.raises(FileNotFoundError, match='matches no file'):
        list_videos(str(tmp_path / '*.mkv'))

    assert video_name('a/S001C001P001R001A060_rgb.avi', '_rgb') == \
        'S001C001P001R001A060'
    assert labels_from_regex(r'A(\d{3})', -1)('S001C001P001R001A060') == 59
    ntu60 = labels_from_regex(r'A(\d{3})', -1, num_classes=60)
    assert ntu60('S001C001P001R001A060') == 59
    with pytest.raises(ValueError, match='not below the 60 classes'):
        ntu60('S018C001P045R001A061')
    label_file = tmp_path / 'labels.txt'
    label_file.write_text('clip_a.mp4 3\nclip_b, 1\n')
    assert labels_from_file(str(label_file)) == {'clip_a.mp4': 3,
                                                 'clip_b': 1}
    label_file.write_text('clip_a.mp4 three\n')
    with pytest.raises(ValueError, match='labels.txt:1'):
        labels_from_file(str(label_file))

    # Labels are checked for every video before any model work (model=None
    # would fail at the first extraction).
    with pytest.raises(ValueError, match='without a valid label'):
        extract_skeletons(videos, None, str(tmp_path / 'o.pkl'),
                          labels={'nothing': 0}, verbose=False)
    with pytest.raises(ValueError, match='negative'):
        extract_skeletons(videos, None, str(tmp_path / 'o.pkl'),
                          labels=labels_from_regex(r'A(\d{3})', -5),
                          verbose=False)
    with pytest.raises(ValueError, match='same frame_dir'):
        extract_skeletons([videos[0], videos[0].replace('.mp4', '.avi')],
                          None, str(tmp_path / 'o.pkl'), verbose=False)

    splits = ntu60_splits(['S001C001P001R001A001', 'S002C003P003R002A010',
                           'not_ntu'])
    assert splits == {
        'xsub_train': ['S001C001P001R001A001'],
        'xsub_val': ['S002C003P003R002A010'],
        'xview_train': ['S002C003P003R002A010'],
        'xview_val': ['S001C001P001R001A001']
    }


def test_cli_reports_bad_arguments_readably(tmp_path, capsys):
    tool = _tool()
    assert tool.main([str(tmp_path / 'none'), str(tmp_path / 'o.pkl')]) == 1
    assert 'is not a folder' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path), 'o.pkl', '--label-file', 'a',
                   '--label-regex', 'b'])


def _run_tool(*argv) -> int:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return _tool().main([str(a) for a in argv])


def _linked(video_dir: Path, folder: Path, names) -> Path:
    """``folder`` with the tiny videos linked under other (NTU) names."""
    folder.mkdir()
    for video, name in zip(sorted(video_dir.glob('*.mp4')), names):
        (folder / name).symlink_to(video)
    return folder


def test_ntu120_splits_follow_the_published_benchmarks():
    # 53 of the 106 performers train, the NTU60 ones among them.
    assert len(set(NTU120_XSUB_TRAIN_SUBJECTS)) == 53
    assert set(NTU60_XSUB_TRAIN_SUBJECTS) < set(NTU120_XSUB_TRAIN_SUBJECTS)
    assert max(NTU120_XSUB_TRAIN_SUBJECTS) <= 106
    assert {45, 103} <= set(NTU120_XSUB_TRAIN_SUBJECTS)
    assert not {3, 44, 48, 104, 106} & set(NTU120_XSUB_TRAIN_SUBJECTS)
    names = ['S001C001P001R001A001', 'S018C002P045R002A061_rgb',
             'S032C003P106R001A120', 'S031C001P103R002A100', 'not_ntu']
    assert ntu120_splits(names) == {
        'xsub_train': [names[0], names[1], names[3]],
        'xsub_val': [names[2]],
        'xset_train': [names[1], names[2]],  # setups 18 and 32: even
        'xset_val': [names[0], names[3]],
    }
    # The NTU60 rules on the same names: cameras 2, 3 train.
    assert ntu_splits(names, 'ntu60')['xview_train'] == [names[1], names[2]]
    assert ntu_splits(names, 'ntu60') == ntu60_splits(names)
    with pytest.raises(ValueError, match='ntu120'):
        ntu_splits(names, 'ntu90')


def test_cli_ntu120_preset_labels_and_splits(video_dir, tmp_path, capsys):
    names = ['S018C001P045R001A061_rgb.mp4', 'S019C002P044R002A120_rgb.mp4']
    folder = _linked(video_dir, tmp_path / 'ntu120', names)
    out = tmp_path / 'ntu120_2d.pkl'
    assert _run_tool(folder, out, '--pose-config', BOTTOMUP, '--ntu120',
                     '--no-flip-test', '--quiet') == 0
    data = pickle.load(open(out, 'rb'))
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert labels == {'S018C001P045R001A061': 60, 'S019C002P044R002A120': 119}
    assert data['split'] == {
        'xsub_train': ['S018C001P045R001A061'],
        'xsub_val': ['S019C002P044R002A120'],
        'xset_train': ['S018C001P045R001A061'],
        'xset_val': ['S019C002P044R002A120'],
    }
    # The NTU60 preset refuses classes it does not have, before any video.
    capsys.readouterr()
    assert _run_tool(folder, tmp_path / 'ntu60.pkl', '--pose-config',
                     BOTTOMUP, '--ntu', '--quiet') == 1
    assert 'not below the 60 classes' in capsys.readouterr().err
    assert not (tmp_path / 'ntu60.pkl.work').exists()
    with pytest.raises(SystemExit):
        _tool().parse_args([str(folder), 'o.pkl', '--ntu', '--ntu120'])


def test_cli_label_file_max_persons_split_and_resume(video_dir, tmp_path,
                                                     monkeypatch, capsys):
    names = ['walk_01.mp4', 'wave_01.mp4', 'walk_02.mp4']
    folder = _linked(video_dir, tmp_path / 'clips', names)
    label_file = tmp_path / 'labels.txt'
    label_file.write_text('walk_01.mp4 4\nwave_01 7\n'
                          f'{folder / "walk_02.mp4"} 4\n')
    out = tmp_path / 'mine.pkl'
    argv = [folder, out, '--pose-config', BOTTOMUP, '--label-file',
            label_file, '--max-persons', '1', '--split', 'train',
            '--no-flip-test', '--person-thr', '-1']
    assert _run_tool(*argv) == 0
    first = capsys.readouterr().out
    assert first.count('person(s)') == 3
    data = pickle.load(open(out, 'rb'))
    assert {a['frame_dir']: a['label'] for a in data['annotations']} == {
        'walk_01': 4, 'wave_01': 7, 'walk_02': 4}
    assert data['split'] == {'train': ['walk_01', 'walk_02', 'wave_01']}
    assert all(a['keypoint'].shape[:2] == (1, 6)
               for a in data['annotations'])

    # Second run: every video is taken from the cache, none re-extracted.
    def no_model(*args, **kwargs):
        raise AssertionError('a finished video was extracted again')

    monkeypatch.setattr(extraction, 'extract_video', no_model)
    assert _run_tool(*argv) == 0
    again = capsys.readouterr().out
    assert '[3/3] 3 video(s) done earlier (cached): skipped' in again
    assert '0 extracted, 3 cached, 0 failed' in again
    assert pickle.load(open(out, 'rb'))['split'] == data['split']


class _Terminal(io.StringIO):

    def isatty(self) -> bool:
        return True


def test_progress_bars_overall_and_per_video(video_dir, tmp_path,
                                             pose_model):
    videos = sorted(str(v) for v in video_dir.glob('*.mp4'))[:2]
    broken = str(_broken(tmp_path / 'broken.mp4'))
    screen = _Terminal()
    extract_skeletons([videos[0], broken, videos[1]], pose_model,
                      str(tmp_path / 'o.pkl'), batch_size=4, stream=screen)
    text = screen.getvalue()
    status = [chunk for chunk in text.split('\r') if 'frames' in chunk
              and 'fps' in chunk]
    # Per video, a bar of its frames after every batch of 4 ...
    assert [s.split('] ')[-1].split(' frames')[0] for s in status] == [
        '4/6', '6/6', '4/6', '6/6']
    # ... beside the overall bar, which counts the videos done.
    assert 'video 1/3' in status[0] and 'video 3/3' in status[-1]
    assert status[1].startswith('[#######.............]  33.3%')
    assert status[-1].startswith('[####################] 100.0%')
    assert '[2/3] FAILED' in text
    # A shorter line blanks out the longer status line it replaces (the
    # status chunk itself may carry padding for an even longer one before).
    line = text.split('\r[1/3] ')[1].split('\n')[0]
    assert len('[1/3] ' + line) >= len(status[1].rstrip())
    assert line.endswith(' ')

    # In a log file (no terminal): one plain line per video, no bars.
    log = io.StringIO()
    extract_skeletons(videos, pose_model, str(tmp_path / 'p.pkl'),
                      batch_size=4, stream=log)
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue()
    assert lines[1].startswith('[1/2] ') and lines[2].startswith('[2/2] ')
    assert 'frames/s' in lines[1]


def test_extraction_batches_frames_per_forward_pass(video_dir, tmp_path,
                                                    pose_model,
                                                    monkeypatch):
    seen = []
    forward = pose_model.test_step

    def counting(data):
        seen.append(len(data['inputs']))
        return forward(data)

    monkeypatch.setattr(pose_model, 'test_step', counting)
    video = sorted(str(v) for v in video_dir.glob('*.mp4'))[0]
    batched = extraction.extract_video(pose_model, video, batch_size=4)
    assert seen == [4, 2]  # 6 frames
    seen.clear()
    single = extraction.extract_video(pose_model, video, batch_size=1)
    assert seen == [1] * 6
    np.testing.assert_allclose(batched['keypoint'], single['keypoint'],
                               atol=1e-3)


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED_NTU.is_dir(), reason='../shared/data absent')
def test_real_ntu_clip_extraction_and_recognition(tmp_path):
    from mmpose_plus.apis import recognize_rgbpose, recognize_skeleton
    video = SHARED_NTU / 'S001C001P001R001A001_rgb.avi'
    model = _build(BOTTOMUP, cfg_options={'model.test_cfg.flip_test': False})
    out = tmp_path / 'ntu.pkl'
    summary = extract_skeletons([str(video)], model, str(out),
                                labels=labels_from_regex(r'A(\d{3})', -1),
                                splits=ntu60_splits, strip_suffix='_rgb',
                                batch_size=16, verbose=False)
    assert summary['failed'] == []
    data = pickle.load(open(out, 'rb'))
    anno = data['annotations'][0]
    assert anno['frame_dir'] == 'S001C001P001R001A001'
    assert anno['label'] == 0
    assert anno['total_frames'] == 103
    assert anno['img_shape'] == (1080, 1920)
    assert anno['keypoint'].shape[1:] == (103, 17, 2)
    assert data['split']['xsub_train'] == ['S001C001P001R001A001']
    # Loads like the PYSKL annotation of the same clip.
    reference = pickle.load(
        open(SHARED_NTU / 'ntu60_S001C001P001R001A001_mediapipe_coco17.pkl',
             'rb'))
    ref = reference['annotations'][0]
    assert anno['img_shape'] == tuple(ref['img_shape'])
    assert anno['keypoint'].shape[1:] == ref['keypoint'].shape[1:]

    skeleton = recognize_skeleton(_build(SKELETON), anno['keypoint'],
                                  anno['keypoint_score'], anno['img_shape'])
    assert skeleton['scores'].shape == (5, )
    both = recognize_rgbpose(_build(RGBPOSE), str(video), anno['keypoint'],
                             anno['keypoint_score'])
    assert both['rgb_scores'].shape == both['pose_scores'].shape == (5, )
