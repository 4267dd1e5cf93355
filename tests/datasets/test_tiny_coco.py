import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmpose_plus.datasets import CocoKeypointDataset
from mmpose_plus.datasets.tiny_coco import _joint_colours, generate_tiny_coco
from mmpose_plus.registry import KEYPOINT_CODECS


def _load(ann_file):
    return json.loads(Path(ann_file).read_text())


def test_same_seed_same_bytes(tmp_path):
    a = generate_tiny_coco(str(tmp_path / 'a'), num_images=3, seed=7)
    b = generate_tiny_coco(str(tmp_path / 'b'), num_images=3, seed=7)
    c = generate_tiny_coco(str(tmp_path / 'c'), num_images=3, seed=8)
    assert Path(a).read_bytes() == Path(b).read_bytes()
    assert Path(a).read_bytes() != Path(c).read_bytes()
    for img in _load(a)['images']:
        name = Path('images') / img['file_name']
        assert (tmp_path / 'a' / name).read_bytes() == (tmp_path / 'b' /
                                                        name).read_bytes()


def test_annotations_are_consistent(tmp_path):
    ann = generate_tiny_coco(
        str(tmp_path), num_images=10, persons_per_image=(1, 3),
        image_size=(192, 128))
    coco = _load(ann)
    assert len(coco['images']) == 10
    counts = np.bincount([a['image_id'] for a in coco['annotations']])[1:]
    assert counts.min() >= 1 and counts.max() <= 3 and len(set(counts)) > 1
    assert coco['categories'][0]['keypoints'][5] == 'left_shoulder'
    for img in coco['images']:
        assert (img['width'], img['height']) == (192, 128)
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        spans = []
        for a in anns:
            k = np.array(a['keypoints']).reshape(17, 3)
            x, y, w, h = a['bbox']
            assert (k[:, 2] == 2).all() and a['num_keypoints'] == 17
            assert (k[:, 0] > x).all() and (k[:, 0] < x + w).all()
            assert (k[:, 1] > y).all() and (k[:, 1] < y + h).all()
            assert 0 <= x and x + w <= 191 and 0 <= y and y + h <= 127
            assert a['area'] == pytest.approx(w * h, rel=1e-3)
            # facing the camera: the left shoulder is on the image's right
            assert k[5, 0] > k[6, 0]
            spans.append((x, x + w))
        spans.sort()
        # people stand side by side without overlapping
        assert all(b0 >= a1 - 1e-6 for (_, a1), (b0, _) in zip(spans,
                                                                spans[1:]))


def test_joints_are_drawn_where_annotated(tmp_path):
    ann = generate_tiny_coco(str(tmp_path), num_images=4, seed=3)
    coco = _load(ann)
    colours = _joint_colours(17)
    hits = total = 0
    for img_info in coco['images']:
        img = cv2.imread(str(tmp_path / 'images' / img_info['file_name']))
        for a in coco['annotations']:
            if a['image_id'] != img_info['id']:
                continue
            k = np.array(a['keypoints']).reshape(17, 3)[:, :2]
            for j in range(17):
                others = np.delete(k, j, axis=0)
                if np.linalg.norm(others - k[j], axis=1).min() < 8:
                    continue  # a neighbouring dot may cover this one
                x, y = np.round(k[j]).astype(int)
                total += 1
                hits += np.abs(img[y, x].astype(int) - colours[j]).max() < 40
    assert total > 30 and hits / total > 0.95


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='persons_per_image'):
        generate_tiny_coco(str(tmp_path), persons_per_image=(0, 2))
    with pytest.raises(ValueError, match='too small'):
        generate_tiny_coco(str(tmp_path), image_size=(20, 20))


@pytest.mark.parametrize('mode', ['topdown', 'bottomup'])
def test_training_pipelines_run_on_it(tmp_path, mode):
    for codec in ('MSRAHeatmap', 'AssociativeEmbedding'):
        if codec not in KEYPOINT_CODECS:
            pytest.skip(f'{codec} codec not available')
    ann = generate_tiny_coco(str(tmp_path), num_images=3,
                             persons_per_image=(2, 3))
    if mode == 'topdown':
        pipeline = [
            dict(type='LoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(type='RandomFlipPose'),
            dict(type='RandomHalfBody'),
            dict(type='RandomBBoxTransform'),
            dict(type='TopdownAffine', input_size=(48, 64)),
            dict(type='GenerateTarget', encoder=dict(
                type='MSRAHeatmap', input_size=(48, 64),
                heatmap_size=(12, 16), sigma=2)),
            dict(type='PackPoseInputs')
        ]
    else:
        pipeline = [
            dict(type='LoadImage'),
            dict(type='BottomupRandomAffine', input_size=(64, 64)),
            dict(type='RandomFlipPose'),
            dict(type='GenerateTarget', encoder=dict(
                type='AssociativeEmbedding', input_size=(64, 64),
                heatmap_size=[(16, 16), (32, 32)], max_people=4)),
            dict(type='BottomupGetHeatmapMask'),
            dict(type='PackPoseInputs')
        ]
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        ds = CocoKeypointDataset(
            ann_file=ann, data_mode=mode, pipeline=pipeline,
            data_prefix=dict(img=str(tmp_path / 'images') + '/'))
    n_people = len(_load(ann)['annotations'])
    assert len(ds) == (n_people if mode == 'topdown' else 3)
    np.random.seed(0)
    out = ds[0]
    sample = out['data_samples']
    if mode == 'topdown':
        assert out['inputs'].shape == (3, 64, 48)
        assert sample.gt_fields.heatmaps.shape == (17, 16, 12)
        assert sample.gt_instance_labels.keypoint_weights.shape == (1, 17)
    else:
        assert out['inputs'].shape == (3, 64, 64)
        assert [f.heatmaps.shape[-1] for f in sample.gt_fields] == [16, 32]
        assert [f.heatmap_mask.shape[-1] for f in sample.gt_fields] == [16, 32]
        assert sample.gt_instance_labels.keypoint_indices.shape == (4, 17, 2)
        assert len(sample.gt_instances.keypoints) == len(sample.id)
