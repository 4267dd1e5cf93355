import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmpose_plus.datasets.coco_meta import COCO_METAINFO
from mmpose_plus.datasets.tiny_coco import generate_tiny_coco
from mmpose_plus.evaluation.metrics.coco_metric import (CocoKeypointMetric,
                                                        oks_iou, oks_nms)
from mmpose_plus.structures import PoseDataSample

SHARED_COCO = (Path(__file__).resolve().parents[2] / '..' / 'shared' /
               'data' / 'coco')
KEYS = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR')


@pytest.fixture(scope='module')
def tiny_ann(tmp_path_factory):
    return generate_tiny_coco(
        str(tmp_path_factory.mktemp('tiny_coco')),
        num_images=6,
        persons_per_image=(1, 3),
        image_size=(160, 160))


def _gt_people(ann_file):
    """(image id, annotation id, keypoints (K, 2), visibility (K,)) of every
    annotated, non-crowd person."""
    coco = json.loads(Path(ann_file).read_text())
    people = []
    for ann in coco['annotations']:
        if ann.get('iscrowd') or ann['num_keypoints'] == 0:
            continue
        k = np.array(ann['keypoints'], np.float64).reshape(-1, 3)
        people.append((ann['image_id'], ann['id'], k[:, :2], k[:, 2]))
    return people


def _bottomup_samples(people, noise=0., seed=0):
    """One sample per image, all its people as predictions."""
    rng = np.random.default_rng(seed)
    per_image = {}
    for img_id, _, kpts, _ in people:
        per_image.setdefault(img_id, []).append(kpts)
    return [
        dict(img_id=img_id,
             pred_instances=dict(
                 keypoints=np.stack(k) + rng.normal(0, noise, np.shape(
                     np.stack(k))) if noise else np.stack(k),
                 keypoint_scores=np.ones((len(k), len(k[0])))))
        for img_id, k in per_image.items()
    ]


def _evaluate(metric, samples):
    metric.results.clear()
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_ground_truth_as_predictions_scores_one(tiny_ann):
    metric = CocoKeypointMetric(ann_file=tiny_ann, nms_mode='none')
    result = _evaluate(metric, _bottomup_samples(_gt_people(tiny_ann)))
    for key in KEYS:
        assert result[key] == pytest.approx(1.0), key


def test_topdown_samples_with_tensors_and_rescoring(tiny_ann):
    """One sample per person (tensor predictions, ids, box scores)."""
    samples = [
        dict(id=ann_id, img_id=img_id,
             pred_instances=dict(
                 keypoints=torch.from_numpy(kpts[None]),
                 keypoint_scores=torch.full((1, len(kpts)), 0.9),
                 bbox_scores=torch.ones(1)),
             gt_instances=dict(bbox_scales=np.array([[60., 80.]])))
        for img_id, ann_id, kpts, _ in _gt_people(tiny_ann)
    ]
    result = _evaluate(CocoKeypointMetric(ann_file=tiny_ann), samples)
    assert result['AP'] == pytest.approx(1.0)


def test_noisier_predictions_score_lower(tiny_ann):
    metric = CocoKeypointMetric(ann_file=tiny_ann, nms_mode='none')
    people = _gt_people(tiny_ann)
    ap = [
        _evaluate(metric, _bottomup_samples(people, noise))['AP']
        for noise in (1., 3., 8.)
    ]
    assert 1. > ap[0] > ap[1] > ap[2]


def test_duplicated_samples_count_once(tiny_ann):
    metric = CocoKeypointMetric(ann_file=tiny_ann, nms_mode='none')
    samples = [
        dict(s, id=[i]) for i, s in enumerate(
            _bottomup_samples(_gt_people(tiny_ann), noise=2.))
    ]
    once = _evaluate(metric, samples)['AP']
    twice = _evaluate(metric, samples + samples[:3])['AP']
    assert twice == pytest.approx(once)
    # without ids there is nothing to deduplicate by: extra false positives
    no_ids = [{k: v for k, v in s.items() if k != 'id'} for s in samples]
    assert _evaluate(metric, no_ids + no_ids[:3])['AP'] < once


def test_oks_nms_removes_a_lower_scored_duplicate(tiny_ann):
    samples = _bottomup_samples(_gt_people(tiny_ann))
    for s in samples:
        # every person scores 0.9; a near-copy of the first scores 0.95,
        # so without NMS the original becomes a false positive ranked
        # among the true positives of the other images
        pred = s['pred_instances']
        dup = pred['keypoints'][:1] + 0.01
        pred['keypoints'] = np.concatenate([pred['keypoints'], dup])
        pred['keypoint_scores'] = np.concatenate(
            [pred['keypoint_scores'] * 0.9,
             np.full((1, 17), 0.95)])
    with_nms = _evaluate(
        CocoKeypointMetric(ann_file=tiny_ann, score_mode='keypoint'),
        samples)
    without = _evaluate(
        CocoKeypointMetric(ann_file=tiny_ann, score_mode='keypoint',
                           nms_mode='none'), samples)
    assert with_nms['AP'] == pytest.approx(1.0)
    assert without['AP'] < 1.0


def test_oks_helpers():
    sigmas = np.array(COCO_METAINFO['sigmas'])
    ref = np.random.default_rng(0).uniform(0, 100, (17, 2))
    others = np.stack([ref, ref + 2, ref + 50])
    oks = oks_iou(ref, others, 1e4, np.full(3, 1e4), sigmas)
    assert oks[0] == pytest.approx(1.0)
    assert oks[0] > oks[1] > 0.9 > 0.01 > oks[2]
    # a bigger object tolerates the same offset better
    assert oks_iou(ref, others[1:2], 4e4, np.full(1, 4e4), sigmas) > oks[1]
    keep = oks_nms(others, np.array([0.5, 0.9, 0.8]), np.full(3, 1e4),
                   sigmas, thr=0.9)
    assert keep == [1, 2]  # 0 is a near-copy of the better-scored 1


def test_score_modes():
    kpt_scores = np.array([0.1, 0.5, 0.9])
    metric = CocoKeypointMetric(format_only=True, outfile_prefix='unused')
    assert metric._score(kpt_scores, 0.8) == pytest.approx(0.8 * 0.7)
    metric.score_mode = 'bbox'
    assert metric._score(kpt_scores, 0.8) == pytest.approx(0.8)
    metric.score_mode = 'keypoint'
    assert metric._score(kpt_scores, 0.8) == pytest.approx(0.5)


def test_outfile_and_format_only(tiny_ann, tmp_path):
    prefix = str(tmp_path / 'out' / 'res')
    metric = CocoKeypointMetric(format_only=True, outfile_prefix=prefix)
    assert _evaluate(metric, _bottomup_samples(_gt_people(tiny_ann))) == {}
    dumped = json.loads(Path(prefix + '.keypoints.json').read_text())
    assert len(dumped) == len(_gt_people(tiny_ann))
    assert set(dumped[0]) == {'image_id', 'category_id', 'keypoints', 'score'}
    assert len(dumped[0]['keypoints']) == 17 * 3


def test_through_mmengine_evaluator_with_data_samples(tiny_ann):
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        evaluator = Evaluator(
            dict(type='CocoKeypointMetric', ann_file=tiny_ann,
                 nms_mode='none'))
    evaluator.dataset_meta = dict(COCO_METAINFO)
    samples = []
    for s in _bottomup_samples(_gt_people(tiny_ann)):
        sample = PoseDataSample(metainfo=dict(img_id=s['img_id']))
        sample.pred_instances = InstanceData(**s['pred_instances'])
        samples.append(sample)
    evaluator.process(samples[:2])
    evaluator.process(samples[2:])
    result = evaluator.evaluate(len(samples))
    assert result['coco/AP'] == pytest.approx(1.0)
    assert set(f'coco/{k}' for k in KEYS) <= set(result)


def test_errors(tiny_ann):
    with pytest.raises(ValueError, match='ann_file'):
        CocoKeypointMetric()
    with pytest.raises(FileNotFoundError, match='nope.json'):
        CocoKeypointMetric(ann_file='nope.json')
    with pytest.raises(ValueError, match='score_mode'):
        CocoKeypointMetric(ann_file=tiny_ann, score_mode='max')
    coco = json.loads(Path(tiny_ann).read_text())
    del coco['annotations'][2]['area']
    broken = Path(tiny_ann).with_name('no_area.json')
    broken.write_text(json.dumps(coco))
    with pytest.raises(KeyError, match=r'annotation id=3 .*area'):
        CocoKeypointMetric(ann_file=str(broken))
    metric = CocoKeypointMetric(ann_file=tiny_ann)
    with pytest.raises(ValueError, match='image id=1'):
        metric.process([], [
            dict(img_id=1, pred_instances=dict(
                keypoints=np.zeros((2, 17, 2)),
                keypoint_scores=np.zeros((2, 16))))
        ])
    with pytest.raises(ValueError, match=r'image ids \[999\]'):
        _evaluate(metric, [
            dict(img_id=999, pred_instances=dict(
                keypoints=np.zeros((1, 17, 2)),
                keypoint_scores=np.ones((1, 17))))
        ])
    assert _evaluate(metric, [])['AP'] == 0.


@pytest.mark.shared_data
def test_real_coco_ground_truth_scores_one_and_noise_lowers_it():
    ann = SHARED_COCO / 'test_coco.json'
    if not ann.is_file():
        pytest.skip('shared COCO sample data is absent')
    people = _gt_people(str(ann))
    assert len(people) == 12 and len({p[0] for p in people}) == 4
    metric = CocoKeypointMetric(ann_file=str(ann), nms_mode='none')
    perfect = _evaluate(metric, _bottomup_samples(people))
    for key in KEYS:
        assert perfect[key] == pytest.approx(1.0), key
    noisy = _evaluate(metric, _bottomup_samples(people, noise=6.))
    assert noisy['AP'] < 0.9
