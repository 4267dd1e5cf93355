"""PoseDataset: parity with mmaction2's PoseDataset, validation of every
corruption class, skip_invalid logging, compact storage."""
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmaction.datasets import PoseDataset as RefPoseDataset
from mmengine.registry import DefaultScope

from mmpose_plus.datasets import PoseDataset
from mmpose_plus.datasets.pose_dataset import load_annotation_file
from mmpose_plus.registry import DATASETS

SHARED = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data'


def _anno(name, label=0, frames=10, persons=2, dtype=np.float32, seed=0,
          **extra):
    rng = np.random.default_rng(seed)
    anno = dict(
        frame_dir=name,
        label=label,
        img_shape=(48, 64),
        original_shape=(48, 64),
        total_frames=frames,
        keypoint=(rng.random((persons, frames, 17, 2)) * 40 + 4).astype(dtype),
        keypoint_score=rng.random((persons, frames, 17)).astype(dtype))
    anno.update(extra)
    return anno


def _write(path, annos, split=None, protocol=4):
    data = annos if split is False else dict(
        split=split or dict(train=[a['frame_dir'] for a in annos[::2]],
                            val=[a['frame_dir'] for a in annos[1::2]]),
        annotations=annos)
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=protocol)
    return str(path)


def _good(n=6, **kw):
    return [_anno(f'S{i:03d}', label=i % 3, frames=5 + i, seed=i, **kw)
            for i in range(n)]


def _assert_same_items(ours, ref):
    assert len(ours) == len(ref)
    for i in range(len(ref)):
        a, b = ours.get_data_info(i), ref.get_data_info(i)
        assert set(a) == set(b)
        for key, value in b.items():
            if isinstance(value, np.ndarray):
                assert a[key].dtype == np.float32 and a[key].shape == (
                    value.shape)
                np.testing.assert_array_equal(a[key], value)
            elif key in ('img_shape', 'original_shape'):
                assert a[key] == tuple(value)
            else:
                assert a[key] == value, key


# ---------------------------------------------------------------------------
# Parity and loading
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('protocol', [2, 4, 5])
@pytest.mark.parametrize('split', [None, 'val'])
def test_items_equal_mmaction2(tmp_path, protocol, split):
    # Without a split mmaction2 only handles a plain list (given the dict
    # form it iterates over the dict's keys); ours takes both.
    path = _write(tmp_path / 'a.pkl', _good(7),
                  split=None if split else False, protocol=protocol)
    ours = PoseDataset(path, [], split=split)
    ref = RefPoseDataset(path, [], split=split)
    _assert_same_items(ours, ref)
    assert len(ours) == (7 if split is None else 3)
    assert ours.get_data_info(0)['modality'] == 'Pose'


def test_float16_files_stay_compact_and_decode_to_float32(tmp_path):
    annos = _good(4, dtype=np.float16)
    path = _write(tmp_path / 'h.pkl', annos, split=False)
    ds = PoseDataset(path, [])
    assert ds._store.kp_buf.dtype == np.float16
    info = ds.get_data_info(3)
    assert info['keypoint'].dtype == np.float32
    np.testing.assert_array_equal(info['keypoint'], annos[3]['keypoint'])
    _assert_same_items(ds, RefPoseDataset(path, []))


def test_plain_list_file_and_lists_as_arrays(tmp_path):
    annos = _good(3)
    annos[1]['keypoint'] = annos[1]['keypoint'].tolist()  # custom data
    path = _write(tmp_path / 'l.pkl', annos, split=False)
    ds = PoseDataset(path, [])
    np.testing.assert_allclose(ds.get_data_info(1)['keypoint'],
                               np.asarray(annos[1]['keypoint']))


def test_items_are_fresh_copies(tmp_path):
    ds = PoseDataset(_write(tmp_path / 'a.pkl', _good(2)), [])
    first = ds.get_data_info(0)
    first['keypoint'][:] = -1
    assert ds.get_data_info(0)['keypoint'].min() > 0


def test_storage_is_flat_arrays(tmp_path):
    annos = _good(5)
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), [])
    store = ds._store
    assert store.kp_buf.ndim == 1 and store.kp_buf.dtype == np.float32
    assert store.kp_buf.size == sum(a['keypoint'].size for a in annos)
    assert ds.data_list == []
    raw = sum(a['keypoint'].nbytes + a['keypoint_score'].nbytes
              for a in annos)
    assert raw <= ds.memory_bytes < raw + 5 * 1024


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_arrays_outside_the_split_are_not_kept(tmp_path, protocol):
    path = _write(tmp_path / 'a.pkl', _good(6), protocol=protocol)
    data, arena = load_annotation_file(path, 'val')  # S001, S003, S005
    loaded = [a['keypoint'].chunk_id >= 0 for a in data['annotations']]
    assert loaded == [False, True, False, True, False, True]
    np.testing.assert_array_equal(data['annotations'][3]['keypoint'].view(),
                                  _good(6)[3]['keypoint'])
    everything, _ = load_annotation_file(path)
    assert all(a['keypoint_score'].chunk_id >= 0
               for a in everything['annotations'])


def test_split_after_annotations_still_selects(tmp_path):
    annos = _good(4)
    path = tmp_path / 'a.pkl'
    path.write_bytes(pickle.dumps(dict(annotations=annos,
                                       split=dict(val=['S002']))))
    ds = PoseDataset(str(path), [], split='val')
    assert len(ds) == 1
    np.testing.assert_array_equal(ds.get_data_info(0)['keypoint'],
                                  annos[2]['keypoint'])


def test_shared_long_strings_fall_back_to_plain_loading(tmp_path):
    note = 'n' * 400  # one str object referenced twice: pickled by memo
    annos = _good(3)
    annos[0]['note'] = annos[2]['note'] = note
    path = _write(tmp_path / 'a.pkl', annos, split=False)
    data, arena = load_annotation_file(path)
    assert arena is None  # the streaming loader gave way to pickle.load
    ds = PoseDataset(path, [])
    assert ds.get_data_info(2)['note'] == note
    _assert_same_items(ds, RefPoseDataset(path, []))


def test_shared_arrays_load(tmp_path):
    annos = [_anno('A', seed=1), _anno('B', seed=2)]
    annos[1]['keypoint_score'] = annos[0]['keypoint_score']  # same object
    annos[1]['keypoint'] = np.asfortranarray(annos[1]['keypoint'])
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), [])
    np.testing.assert_array_equal(ds.get_data_info(1)['keypoint'],
                                  annos[1]['keypoint'])
    np.testing.assert_array_equal(ds.get_data_info(0)['keypoint_score'],
                                  ds.get_data_info(1)['keypoint_score'])


def test_zero_persons_and_single_frame_samples_are_valid(tmp_path):
    annos = [_anno('empty', persons=0, frames=4), _anno('one', frames=1)]
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), [])
    empty, one = ds.get_data_info(0), ds.get_data_info(1)
    assert empty['keypoint'].shape == (0, 4, 17, 2)
    assert empty['keypoint_score'].shape == (0, 4, 17)
    assert one['keypoint'].shape == (2, 1, 17, 2)


def test_posec3d_pipeline_on_zero_person_and_single_frame(tmp_path):
    annos = [_anno('empty', persons=0, frames=4), _anno('one', frames=1)]
    pipeline = [
        dict(type='UniformSampleFrames', clip_len=8),
        dict(type='PoseDecode'),
        dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='mmaction.Resize', scale=(32, 32), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5, left_kp=[1, 3], right_kp=[2, 4]),
        dict(type='GeneratePoseTarget', sigma=0.6, use_score=True),
        dict(type='mmaction.FormatShape', input_format='NCTHW_Heatmap'),
        dict(type='mmaction.PackActionInputs')
    ]
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        ds = DATASETS.build(dict(type='PoseDataset',
                                 ann_file=_write(tmp_path / 'a.pkl', annos),
                                 pipeline=pipeline))
    assert isinstance(ds, PoseDataset)
    for i in range(2):
        out = ds[i]
        assert out['inputs'].shape[-3:] == (8, 32, 32)
        assert out['data_samples'].gt_labels.item.item() == annos[i]['label']


def test_dict_file_without_split_gives_every_annotation(tmp_path):
    ds = PoseDataset(_write(tmp_path / 'a.pkl', _good(5)), [])
    assert [ds.get_data_info(i)['frame_dir'] for i in range(5)] == [
        f'S{i:03d}' for i in range(5)
    ]


def test_split_names_without_annotation_are_reported(tmp_path, logged):
    annos = _good(4)
    split = dict(train=['S000', 'S001', 'GHOST'])
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos, split=split), [],
                     split='train')
    assert len(ds) == 2
    assert any('GHOST' in m and "'train'" in m for m in logged)


# ---------------------------------------------------------------------------
# Validation: every corruption class names the file, the sample and the
# problem; skip_invalid skips and logs the same, with a count.
# ---------------------------------------------------------------------------
def _corrupt(kind):
    bad = _anno('BAD01', frames=6, seed=9)
    if kind == 'missing key':
        del bad['total_frames']
        return bad, r"missing key\(s\) \['total_frames'\]"
    if kind == 'score shape':
        bad['keypoint_score'] = bad['keypoint_score'][:, :, :15]
        return bad, r'keypoint_score has shape \(2, 6, 15\)'
    if kind == 'T != total_frames':
        bad['total_frames'] = 8
        return bad, 'T=6 frames but total_frames=8'
    if kind == 'nan keypoint':
        bad['keypoint'][1, 2, 3, 0] = np.nan
        return bad, r'keypoint has 1 non-finite \(NaN/inf\)'
    if kind == 'inf keypoint':
        bad['keypoint'][0, 0, 0, 1] = np.inf
        return bad, 'keypoint has 1 non-finite'
    if kind == 'nan score':
        bad['keypoint_score'][0, 0, 0] = np.nan
        return bad, 'keypoint_score has 1 non-finite'
    if kind == 'label range':
        bad['label'] = 3
        return bad, r'label 3 is outside \[0, 3\)'
    if kind == 'negative label':
        bad['label'] = -1
        return bad, r'label -1 is outside'
    if kind == 'keypoint ndim':
        bad['keypoint'] = bad['keypoint'][0]
        return bad, r'keypoint must have shape \(M, T, V, C>=2\)'
    if kind == 'img_shape':
        bad['img_shape'] = (0, 64)
        return bad, 'img_shape must be'
    if kind == 'zero frames':
        bad['keypoint'] = bad['keypoint'][:, :0]
        bad['keypoint_score'] = bad['keypoint_score'][:, :0]
        bad['total_frames'] = 0
        return bad, 'total_frames=0'
    raise AssertionError(kind)


CORRUPTIONS = [
    'missing key', 'score shape', 'T != total_frames', 'nan keypoint',
    'inf keypoint', 'nan score', 'label range', 'negative label',
    'keypoint ndim', 'img_shape', 'zero frames'
]


@pytest.mark.parametrize('kind', CORRUPTIONS)
def test_corrupt_sample_raises_with_file_sample_and_problem(tmp_path, kind):
    bad, problem = _corrupt(kind)
    path = _write(tmp_path / 'bad.pkl', _good(4) + [bad])
    with pytest.raises(ValueError) as info:
        PoseDataset(path, [], num_classes=3)
    msg = str(info.value)
    assert path in msg and "'BAD01'" in msg and 'annotation #4' in msg
    assert __import__('re').search(problem, msg), msg


@pytest.mark.parametrize('kind', CORRUPTIONS)
def test_skip_invalid_skips_logs_and_counts(tmp_path, kind, logged):
    bad, problem = _corrupt(kind)
    good = _good(4)
    path = _write(tmp_path / 'bad.pkl', good[:2] + [bad] + good[2:])
    ds = PoseDataset(path, [], num_classes=3, skip_invalid=True)
    assert len(ds) == 4 and ds.num_skipped == 1
    assert [ds.get_data_info(i)['frame_dir'] for i in range(4)] == [
        a['frame_dir'] for a in good
    ]
    detail = [m for m in logged if "'BAD01'" in m]
    assert len(detail) == 1 and path in detail[0]
    assert __import__('re').search(problem, detail[0])
    assert any('skipped 1 invalid of 5 samples, kept 4' in m for m in logged)


def test_invalid_samples_outside_the_split_are_not_checked(tmp_path):
    bad, _ = _corrupt('nan keypoint')
    annos = _good(2) + [bad]
    path = _write(tmp_path / 'a.pkl', annos,
                  split=dict(train=['S000', 'S001'], val=['BAD01']))
    assert len(PoseDataset(path, [], split='train')) == 2
    with pytest.raises(ValueError, match='BAD01'):
        PoseDataset(path, [], split='val')


def test_nan_policy_zero_replaces_and_counts(tmp_path, logged):
    bad, _ = _corrupt('nan keypoint')
    ds = PoseDataset(_write(tmp_path / 'a.pkl', [bad]), [], nan_policy='zero')
    kp = ds.get_data_info(0)['keypoint']
    assert kp[1, 2, 3, 0] == 0 and np.isfinite(kp).all()
    assert any('set 1 non-finite keypoint' in m for m in logged)
    with pytest.raises(ValueError, match='nan_policy'):
        PoseDataset(_write(tmp_path / 'b.pkl', [bad]), [], nan_policy='drop')


def test_file_level_errors(tmp_path):
    missing = str(tmp_path / 'nowhere.pkl')
    with pytest.raises(FileNotFoundError, match='nowhere.pkl'):
        PoseDataset(missing, [])
    path = _write(tmp_path / 'a.pkl', _good(2))
    with pytest.raises(ValueError) as info:
        PoseDataset(path, [], split='xsub_train')
    assert "unknown split 'xsub_train'" in str(info.value)
    assert "['train', 'val']" in str(info.value) and path in str(info.value)
    garbage = tmp_path / 'garbage.pkl'
    garbage.write_bytes(b'\x00not a pickle')
    with pytest.raises(ValueError, match='garbage.pkl.*pickle'):
        PoseDataset(str(garbage), [])
    no_annos = tmp_path / 'dict.pkl'
    no_annos.write_bytes(pickle.dumps(dict(split={}, samples=[])))
    with pytest.raises(ValueError, match="without 'annotations'"):
        PoseDataset(str(no_annos), [])
    plain = _write(tmp_path / 'plain.pkl', _good(2), split=False)
    with pytest.raises(ValueError, match="no 'split'"):
        PoseDataset(plain, [], split='train')


# ---------------------------------------------------------------------------
# Videos, subsets, options
# ---------------------------------------------------------------------------
def _touch_video(path):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25,
                             (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), 10 * i, np.uint8))
    writer.release()


def test_video_name_template_and_prefix(tmp_path):
    videos = tmp_path / 'videos'
    videos.mkdir()
    annos = _good(3)
    for a in annos:
        _touch_video(videos / f"{a['frame_dir']}_rgb.avi")
    path = _write(tmp_path / 'a.pkl', annos)
    ds = PoseDataset(path, [], data_prefix=dict(video=str(videos)),
                     video_name_tmpl='{frame_dir}_rgb.avi')
    info = ds.get_data_info(1)
    assert info['filename'] == str(videos / 'S001_rgb.avi')
    assert info['frame_dir'] == 'S001'  # unchanged, unlike mmaction2
    # mmaction2's convention (frame_dir + '.mp4') is the default template.
    ds = PoseDataset(path, [], data_prefix=dict(video=str(videos)),
                     check_videos=False)
    assert ds.get_data_info(0)['filename'] == str(videos / 'S000.mp4')
    assert 'filename' not in PoseDataset(path, []).get_data_info(0)


def test_missing_videos_are_invalid_samples(tmp_path, logged):
    videos = tmp_path / 'videos'
    videos.mkdir()
    annos = _good(3)
    for a in annos[:2]:
        _touch_video(videos / f"{a['frame_dir']}.mp4")
    path = _write(tmp_path / 'a.pkl', annos)
    with pytest.raises(ValueError, match=r"'S002'.*S002\.mp4.*does not exist"):
        PoseDataset(path, [], data_prefix=dict(video=str(videos)))
    ds = PoseDataset(path, [], data_prefix=dict(video=str(videos)),
                     skip_invalid=True)
    assert len(ds) == 2
    assert any('S002.mp4' in m for m in logged)


def test_rgbpose_pipeline_from_dataset(tmp_path):
    videos = tmp_path / 'videos'
    videos.mkdir()
    annos = [_anno(f'S{i:03d}', frames=12, seed=i) for i in range(2)]
    for a in annos:
        _touch_video(videos / f"{a['frame_dir']}_rgb.avi")
    pipeline = [
        dict(type='MMUniformSampleFrames', clip_len=dict(RGB=2, Pose=4)),
        dict(type='MMDecode'),
        dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='mmaction.Resize', scale=(24, 24), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5, left_kp=[1], right_kp=[2]),
    ]
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), pipeline,
                         data_prefix=dict(video=str(videos)),
                         video_name_tmpl='{frame_dir}_rgb.avi')
    out = ds[1]
    assert len(out['imgs']) == 2 and out['imgs'][0].shape == (24, 24, 3)
    assert out['keypoint'].shape == (2, 4, 17, 2)


def test_subsets_and_indices(tmp_path):
    path = _write(tmp_path / 'a.pkl', _good(6))
    ds = PoseDataset(path, [])
    sub = ds.get_subset([4, 1])
    assert [sub.get_data_info(i)['frame_dir'] for i in range(2)] == [
        'S004', 'S001'
    ]
    assert len(ds) == 6
    np.testing.assert_array_equal(sub.get_data_info(0)['keypoint'],
                                  ds.get_data_info(4)['keypoint'])
    ds.get_subset_(-2)
    assert [ds.get_data_info(i)['frame_dir'] for i in range(2)] == [
        'S004', 'S005'
    ]
    first = PoseDataset(path, [], indices=3)
    assert len(first) == 3 and first.get_data_info(-1)['frame_dir'] == 'S002'
    lazy = PoseDataset(path, [], lazy_init=True)
    assert not lazy._fully_initialized and len(lazy) == 6


def test_multi_class_labels_become_one_hot(tmp_path):
    annos = _good(2)
    annos[0]['label'] = [0, 2]
    annos[1]['label'] = [1]
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), [], multi_class=True,
                     num_classes=3)
    assert torch.equal(ds.get_data_info(0)['label'],
                       torch.tensor([1., 0., 1.]))
    assert ds.get_cat_ids(0) == [0, 2]


def test_valid_ratio_filters_like_mmaction2(tmp_path):
    annos = _good(3)
    for i, a in enumerate(annos):
        a['valid'] = {0.5: (i + 1) * a['total_frames'] // 3}
        a['box_score'] = np.array([0.9, 0.3])
    ds = PoseDataset(_write(tmp_path / 'a.pkl', annos), [], valid_ratio=0.5,
                     box_thr=0.5)
    assert [ds.get_data_info(i)['frame_dir'] for i in range(len(ds))] == [
        'S001', 'S002'
    ]
    np.testing.assert_array_equal(ds.get_data_info(0)['anno_inds'],
                                  [True, False])
    del annos[0]['valid']
    with pytest.raises(ValueError, match=r"missing key\(s\) \['valid'\]"):
        PoseDataset(_write(tmp_path / 'b.pkl', annos), [], valid_ratio=0.5,
                    box_thr=0.5)


@pytest.mark.shared_data
def test_real_ntu_annotation(tmp_path):
    path = SHARED / 'ntu' / 'ntu60_S001C001P001R001A001_mediapipe_coco17.pkl'
    if not path.is_file():
        pytest.skip('shared data not available')
    ds = PoseDataset(str(path), [], split='xsub_val', num_classes=60,
                     data_prefix=dict(video=str(SHARED / 'ntu')),
                     video_name_tmpl='{frame_dir}_rgb.avi')
    info = ds.get_data_info(0)
    assert info['label'] == 0 and info['keypoint'].shape == (1, 103, 17, 2)
    assert info['img_shape'] == (1080, 1920)
    assert Path(info['filename']).is_file()
    _assert_same_items(PoseDataset(str(path), [], split='xsub_val'),
                       RefPoseDataset(str(path), [], split='xsub_val'))
