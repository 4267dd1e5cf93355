import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpose_plus.datasets import CocoKeypointDataset
from mmpose_plus.datasets.coco_meta import COCO_METAINFO

K = 17
SHARED_COCO = (Path(__file__).resolve().parents[2] / '..' / 'shared' /
               'data' / 'coco')


def _kpts(n_labelled: int, x0: float = 20., y0: float = 10.) -> list:
    """17 joints, the first ``n_labelled`` labelled (v alternates 1, 2)."""
    out = []
    for k in range(K):
        if k < n_labelled:
            out += [x0 + k, y0 + 2 * k, 1 + k % 2]
        else:
            out += [0, 0, 0]
    return out


def _person(ann_id, img_id, bbox, n_labelled=17, **extra):
    ann = dict(
        id=ann_id,
        image_id=img_id,
        category_id=1,
        iscrowd=0,
        bbox=bbox,
        area=bbox[2] * bbox[3],
        num_keypoints=n_labelled,
        keypoints=_kpts(n_labelled),
        segmentation=[[
            bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1], bbox[0] + bbox[2],
            bbox[1] + bbox[3], bbox[0], bbox[1] + bbox[3]
        ]])
    ann.update(extra)
    return ann


def _coco() -> dict:
    """4 images: two valid people + a zero-keypoint person + a crowd (1),
    a valid person + a degenerate box (2), only a crowd (3), nobody (4)."""
    crowd_rle = dict(counts=[0, 300, 4500], size=[60, 80])
    images = [
        dict(id=i, file_name=f'{i:03d}.png', width=80, height=60)
        for i in (1, 2, 3, 4)
    ]
    anns = [
        _person(1, 1, [10, 5, 30, 40]),
        _person(2, 1, [-5, -5, 40, 30], n_labelled=9),  # clipped to image
        _person(3, 1, [50, 5, 20, 40], n_labelled=0),
        dict(id=4, image_id=1, category_id=1, iscrowd=1, bbox=[0, 0, 20, 20],
             area=100, num_keypoints=0, keypoints=[0] * 51,
             segmentation=crowd_rle),
        _person(5, 2, [5, 5, 30, 30]),
        _person(6, 2, [90, 5, 20, 20]),  # entirely right of the image
        dict(id=7, image_id=3, category_id=1, iscrowd=1, bbox=[0, 0, 10, 10],
             area=100, num_keypoints=0, keypoints=[0] * 51,
             segmentation=crowd_rle),
    ]
    categories = [dict(id=1, name='person')]
    return dict(images=images, annotations=anns, categories=categories)


def _write(tmp_path: Path, coco: dict, name: str = 'ann.json') -> str:
    path = tmp_path / name
    path.write_text(json.dumps(coco))
    return str(path)


def _dataset(ann_file, **kwargs) -> CocoKeypointDataset:
    kwargs.setdefault('data_prefix', dict(img='imgs/'))
    return CocoKeypointDataset(ann_file=ann_file, **kwargs)


def test_topdown_skips_crowd_unlabelled_and_degenerate(tmp_path):
    ds = _dataset(_write(tmp_path, _coco()))
    assert [ds.get_data_info(i)['id'] for i in range(len(ds))] == [1, 2, 5]
    info = ds.get_data_info(0)
    assert info['img_id'] == 1
    assert info['img_path'] == 'imgs/001.png'
    assert info['bbox'].shape == (1, 4)
    np.testing.assert_allclose(info['bbox'][0], [10, 5, 40, 45])
    assert info['keypoints'].shape == (1, K, 2)
    assert info['keypoints_visible'].shape == (1, K)
    # visibility 1 (occluded) and 2 (visible) both count as labelled
    assert set(np.unique(info['keypoints_visible'])) == {1.}
    # the second person's box starts outside the image and is clipped
    clipped = ds.get_data_info(1)
    np.testing.assert_allclose(clipped['bbox'][0], [0, 0, 35, 25])
    np.testing.assert_array_equal(clipped['keypoints_visible'][0],
                                  [1] * 9 + [0] * 8)


def test_bottomup_groups_people_and_collects_ignore_regions(tmp_path):
    ann = _write(tmp_path, _coco())
    train = _dataset(ann, data_mode='bottomup')
    assert len(train) == 2  # images without a valid person are skipped
    first = train.get_data_info(0)
    assert first['id'] == [1, 2]
    assert first['keypoints'].shape == (2, K, 2)
    assert first['bbox'].shape == (2, 4)
    assert first['keypoints_visible'].shape == (2, K)
    # the unlabelled person and the crowd become ignore regions
    assert len(first['invalid_segs']) == 2
    assert train.get_data_info(1)['invalid_segs'] == []  # degenerate: no

    test = _dataset(ann, data_mode='bottomup', test_mode=True)
    assert [test.get_data_info(i)['img_id'] for i in range(len(test))] == [
        1, 2, 3, 4
    ]
    assert test.get_data_info(3)['keypoints'].shape == (0, K, 2)


def test_prepare_data_adds_metainfo_for_the_pipeline(tmp_path):
    seen = []
    ds = _dataset(
        _write(tmp_path, _coco()), pipeline=[lambda r: seen.append(r) or r])
    ds[0]
    assert seen[0]['flip_indices'] == COCO_METAINFO['flip_indices']
    assert seen[0]['upper_body_ids'] == list(range(11))
    assert seen[0]['lower_body_ids'] == list(range(11, 17))
    np.testing.assert_allclose(seen[0]['dataset_keypoint_weights'],
                               COCO_METAINFO['dataset_keypoint_weights'])
    # samples get copies: a transform cannot corrupt the dataset's metainfo
    seen[0]['flip_indices'].append(99)
    assert len(ds.metainfo['flip_indices']) == K


def test_metainfo_is_coco17():
    meta = CocoKeypointDataset(lazy_init=True).metainfo
    assert meta['num_keypoints'] == 17
    assert meta['keypoint_names'][5] == 'left_shoulder'
    assert meta['flip_indices'][5] == 6 and meta['flip_indices'][0] == 0
    assert meta['sigmas'][0] == pytest.approx(0.026)
    assert meta['sigmas'][-1] == pytest.approx(0.089)
    flip = np.array(meta['flip_indices'])
    np.testing.assert_array_equal(flip[flip], np.arange(17))
    assert len(meta['skeleton_links']) == 19


@pytest.mark.parametrize('mutate, error, words', [
    (lambda c: c['annotations'][0].update(keypoints=[0] * 50), ValueError,
     ['annotation id=1', 'image id=1', '50', '51']),
    (lambda c: c['annotations'][4].pop('bbox'), KeyError,
     ['annotation id=5', 'bbox']),
    (lambda c: c['annotations'][1].pop('keypoints'), KeyError,
     ['annotation id=2', 'keypoints']),
    (lambda c: c['annotations'][0].update(image_id=42), ValueError,
     ['annotation id=1', 'image id=42']),
    (lambda c: c['images'][1].pop('file_name'), KeyError,
     ['id=2', 'file_name']),
    (lambda c: c['annotations'][1].update(id=1), ValueError,
     ['annotation id=1', 'more than once']),
    (lambda c: c['annotations'][6].update(keypoints=[0] * 3), ValueError,
     ['annotation id=7']),
    (lambda c: c['annotations'][0].update(bbox=[1, 2, 3]), ValueError,
     ['annotation id=1', 'bbox']),
])
def test_malformed_annotations_name_the_culprit(tmp_path, mutate, error,
                                                words):
    coco = _coco()
    mutate(coco)
    with pytest.raises(error) as info:
        _dataset(_write(tmp_path, coco))
    for word in words:
        assert word in str(info.value)


def test_missing_or_broken_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        _dataset(str(tmp_path / 'nope.json'))
    broken = tmp_path / 'broken.json'
    broken.write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json'):
        _dataset(str(broken))
    with pytest.raises(ValueError, match='data_mode'):
        _dataset(str(broken), data_mode='sideways')


def test_detection_boxes(tmp_path):
    ann = _write(tmp_path, _coco())
    dets = [
        dict(image_id=1, category_id=1, bbox=[10, 10, 20, 30], score=0.9),
        dict(image_id=1, category_id=1, bbox=[30, 10, 20, 30], score=0.2),
        dict(image_id=2, category_id=2, bbox=[10, 10, 20, 30], score=0.9),
        dict(image_id=4, category_id=1, bbox=[10, 10, 0, 30], score=0.9),
        dict(image_id=4, category_id=1, bbox=[1, 2, 3, 4], score=0.5),
    ]
    det_file = _write(tmp_path, dets, 'dets.json')
    ds = _dataset(ann, bbox_file=det_file, test_mode=True)
    # the other category and the empty box are dropped
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [1, 1, 4]
    info = ds.get_data_info(0)
    np.testing.assert_allclose(info['bbox'][0], [10, 10, 30, 40])
    assert info['bbox_score'][0] == pytest.approx(0.9)
    assert info['keypoints'].shape == (1, K, 2)
    thr = _dataset(ann, bbox_file=det_file, test_mode=True,
                   bbox_score_thr=0.3)
    assert len(thr) == 2

    with pytest.raises(ValueError, match='test_mode'):
        _dataset(ann, bbox_file=det_file)
    with pytest.raises(ValueError, match='topdown'):
        _dataset(ann, bbox_file=det_file, test_mode=True,
                 data_mode='bottomup')
    dets.append(dict(image_id=99, category_id=1, bbox=[0, 0, 5, 5],
                     score=1.))
    with pytest.raises(ValueError, match=r'detection #5.*image id=99'):
        _dataset(ann, bbox_file=_write(tmp_path, dets, 'dets.json'),
                 test_mode=True)


def test_bottomup_ignore_mask_covers_the_crowd(tmp_path):
    """End to end: the crowd of image 3 is masked out of the loss."""
    init_default_scope('mmpose_plus')
    (tmp_path / 'imgs').mkdir()
    for i in (1, 2, 3, 4):
        cv2.imwrite(str(tmp_path / 'imgs' / f'{i:03d}.png'),
                    np.zeros((60, 80, 3), np.uint8))
    ds = _dataset(
        _write(tmp_path, _coco()),
        data_mode='bottomup',
        test_mode=True,
        data_prefix=dict(img=str(tmp_path / 'imgs') + '/'),
        pipeline=[
            dict(type='LoadImage'),
            dict(type='BottomupGetHeatmapMask')
        ])
    mask = ds[2]['heatmap_mask']
    assert mask.shape == (60, 80)
    # RLE counts [0, 300, 4500] run down the columns: the first 5 columns
    assert mask[:, :5].max() == 0
    assert mask[:, 5:].min() == 1
    assert ds[3]['heatmap_mask'].min() == 1  # nobody to ignore

    # an RLE drawn for another image size is an error naming the sample
    coco = _coco()
    coco['annotations'][6]['segmentation'] = dict(counts=[0, 4, 12],
                                                  size=[4, 4])
    ds = _dataset(
        _write(tmp_path, coco),
        data_mode='bottomup',
        test_mode=True,
        data_prefix=dict(img=str(tmp_path / 'imgs') + '/'),
        pipeline=[
            dict(type='LoadImage'),
            dict(type='BottomupGetHeatmapMask')
        ])
    with pytest.raises(ValueError, match='003.png'):
        ds[2]


@pytest.mark.shared_data
def test_real_coco_annotations():
    if not (SHARED_COCO / 'test_coco.json').is_file():
        pytest.skip('shared COCO sample data is absent')
    ann = str(SHARED_COCO / 'test_coco.json')
    prefix = dict(img=str(SHARED_COCO) + '/')
    topdown = CocoKeypointDataset(ann_file=ann, data_prefix=prefix)
    assert len(topdown) == 12  # 14 people, 12 with labelled joints
    bottomup = CocoKeypointDataset(
        ann_file=ann, data_prefix=prefix, data_mode='bottomup')
    assert len(bottomup) == 4
    assert sum(len(bottomup.get_data_info(i)['id']) for i in range(4)) == 12
    dets = CocoKeypointDataset(
        ann_file=ann,
        data_prefix=prefix,
        bbox_file=str(SHARED_COCO / 'test_coco_det_AP_H_56.json'),
        test_mode=True)
    assert len(dets) == 118
    assert all(
        Path(dets.get_data_info(i)['img_path']).is_file() for i in range(3))
