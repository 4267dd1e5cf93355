"""COCO keypoint AP (OKS) through pycocotools."""
import contextlib
import io
import json
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmpose_plus.datasets.coco_meta import COCO_SIGMAS
from mmpose_plus.registry import METRICS

__all__ = ['CocoKeypointMetric', 'oks_iou', 'oks_nms']

# pycocotools' COCOeval.stats order for iouType='keypoints'.
STAT_NAMES = ('AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm',
              'ARl')


def oks_iou(ref: np.ndarray, others: np.ndarray, ref_area: float,
            other_areas: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """OKS between one pose (K, 2) and M poses (M, K, 2), as in COCO.

    ``exp(-d^2 / (2 * s^2 * (2 sigma)^2))`` averaged over joints, with the
    object scale ``s^2`` the mean of the two areas.
    """
    variances = (2 * np.asarray(sigmas, dtype=np.float64))**2
    d2 = ((others - ref[None])**2).sum(axis=-1)
    mean_area = (ref_area + np.asarray(other_areas)) / 2 + np.spacing(1)
    e = d2 / variances[None] / mean_area[:, None] / 2
    return np.exp(-e).mean(axis=1)


def oks_nms(keypoints: np.ndarray, scores: np.ndarray, areas: np.ndarray,
            sigmas: np.ndarray, thr: float) -> List[int]:
    """Greedy NMS on poses: drop any pose whose OKS with a better one > thr.

    Args:
        keypoints (np.ndarray): (M, K, 2).
        scores (np.ndarray): (M,) pose scores.
        areas (np.ndarray): (M,) object areas for the OKS scale.
        sigmas (np.ndarray): (K,) OKS sigmas.
        thr (float): OKS threshold.

    Returns:
        list[int]: kept indices, best first.

    Example:
        >>> kpts = np.zeros((3, 17, 2)); kpts[2] += 50
        >>> oks_nms(kpts, np.array([.5, .9, .7]), np.full(3, 100.),
        ...         np.full(17, .05), 0.9)
        [1, 2]
    """
    order = np.argsort(-np.asarray(scores), kind='stable')
    keep = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        if rest.size == 0:
            break
        oks = oks_iou(keypoints[best], keypoints[rest], areas[best],
                      areas[rest], sigmas)
        order = rest[oks <= thr]
    return keep


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _get(container, key, default=None):
    """``get`` on a dict or a data element (both have one), None-safe."""
    return default if container is None else container.get(key, default)


@METRICS.register_module()
class CocoKeypointMetric(BaseMetric):
    """COCO keypoint detection AP / AR with the OKS similarity.

    Each processed sample must carry ``img_id`` and ``pred_instances`` with
    ``keypoints`` (N, K, 2) in original-image pixels and
    ``keypoint_scores`` (N, K); ``bbox_scores`` (N,) and ``areas`` (N,) are
    optional. Without ``areas`` the area of an instance is the product of
    the sample's ``gt_instances.bbox_scales`` (top-down: the padded box, as
    in HRNet) or else the extent of its predicted keypoints.

    Scoring and NMS, per image, before evaluation:

    - ``score_mode='bbox_keypoint'`` (top-down default, HRNet/SimpleBaseline
      rescoring): box score times the mean of the keypoint scores above
      ``keypoint_score_thr`` (0 when none is);
    - ``'bbox'``: the box score; ``'keypoint'``: the mean keypoint score
      (HigherHRNet's person score);
    - ``nms_mode='oks_nms'`` drops poses with OKS > ``nms_thr`` (0.9) to a
      better-scored pose of the same image (duplicates from overlapping
      detections); use ``'none'`` for bottom-up results.

    Samples seen twice (same ``img_id`` and ``id``, e.g. distributed
    padding) count once. Evaluation is pycocotools' ``COCOeval`` with
    ``iouType='keypoints'`` and the dataset's ``sigmas`` (COCO's by default).

    Args:
        ann_file (str, optional): COCO keypoint ground truth; required
            unless ``format_only``.
        score_mode (str): ``'bbox_keypoint'``, ``'bbox'`` or ``'keypoint'``.
        keypoint_score_thr (float): see ``'bbox_keypoint'``. Defaults to 0.2.
        nms_mode (str): ``'oks_nms'`` or ``'none'``.
        nms_thr (float): OKS threshold of the NMS. Defaults to 0.9.
        format_only (bool): only write the results json (test-dev).
        outfile_prefix (str, optional): write results to
            ``{outfile_prefix}.keypoints.json`` (a temp file otherwise).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.

    Returns from ``evaluate``: ``coco/AP``, ``coco/AP50``, ``coco/AP75``,
    ``coco/APm``, ``coco/APl``, ``coco/AR``, ``coco/AR50``, ``coco/AR75``,
    ``coco/ARm``, ``coco/ARl``.

    Example:
        >>> metric = CocoKeypointMetric(ann_file='person_keypoints.json')
        >>> metric.process([], [dict(img_id=1, pred_instances=dict(
        ...     keypoints=kpts, keypoint_scores=scores))])
        >>> metric.compute_metrics(metric.results)['AP']  # doctest: +SKIP
        1.0
    """
    default_prefix: Optional[str] = 'coco'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 score_mode: str = 'bbox_keypoint',
                 keypoint_score_thr: float = 0.2,
                 nms_mode: str = 'oks_nms',
                 nms_thr: float = 0.9,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if score_mode not in ('bbox_keypoint', 'bbox', 'keypoint'):
            raise ValueError('CocoKeypointMetric: score_mode must be '
                             '"bbox_keypoint", "bbox" or "keypoint", got '
                             f'{score_mode!r}')
        if nms_mode not in ('oks_nms', 'none'):
            raise ValueError('CocoKeypointMetric: nms_mode must be "oks_nms" '
                             f'or "none", got {nms_mode!r}')
        if format_only and outfile_prefix is None:
            raise ValueError('CocoKeypointMetric: format_only=True needs '
                             'outfile_prefix, or the results are lost')
        if not format_only and ann_file is None:
            raise ValueError('CocoKeypointMetric: ann_file (the ground '
                             'truth) is required unless format_only=True')
        self.ann_file = ann_file
        self.score_mode = score_mode
        self.keypoint_score_thr = keypoint_score_thr
        self.nms_mode = nms_mode
        self.nms_thr = nms_thr
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.coco = self._load_gt(ann_file) if ann_file else None

    @staticmethod
    def _load_gt(ann_file: str):
        from pycocotools.coco import COCO
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'COCO annotation file not found: '
                                    f'{ann_file}')
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(ann_file)
        missing = [k for k in ('images', 'annotations', 'categories')
                   if k not in coco.dataset]
        if missing:
            raise KeyError(f'{ann_file}: COCO evaluation needs {missing}')
        for ann in coco.dataset['annotations']:
            # COCOeval reads all three for every annotation, crowds included
            lacking = [
                k for k in ('area', 'num_keypoints', 'keypoints')
                if k not in ann
            ]
            if lacking:
                raise KeyError(f'{ann_file}: annotation id={ann.get("id")} '
                               f'(image id={ann.get("image_id")}) lacks '
                               f'{lacking}, needed by the OKS evaluation')
        return coco

    # ------------------------------------------------------------------
    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store the predicted poses of each sample."""
        for sample in data_samples:
            pred = _get(sample, 'pred_instances')
            img_id = _get(sample, 'img_id')
            if pred is None or img_id is None:
                raise KeyError('CocoKeypointMetric: every data sample needs '
                               '"img_id" and "pred_instances"; got keys '
                               f'{sorted(sample.keys())}')
            kpts = _to_numpy(_get(pred, 'keypoints')).astype(np.float64)
            scores = _to_numpy(_get(pred, 'keypoint_scores')).astype(
                np.float64)
            if kpts.ndim != 3 or scores.shape != kpts.shape[:2]:
                raise ValueError(
                    f'CocoKeypointMetric: image id={img_id}: expected '
                    'keypoints (N, K, 2) and keypoint_scores (N, K), got '
                    f'{kpts.shape} and {scores.shape}')
            n = kpts.shape[0]
            bbox_scores = _get(pred, 'bbox_scores')
            bbox_scores = (
                np.ones(n) if bbox_scores is None else _to_numpy(
                    bbox_scores).astype(np.float64).reshape(n))
            areas = _get(pred, 'areas')
            if areas is None:
                gt_scales = _get(_get(sample, 'gt_instances'), 'bbox_scales')
                if gt_scales is not None and len(gt_scales) == n:
                    areas = np.prod(_to_numpy(gt_scales), axis=1)
            sample_id = _get(sample, 'id')
            self.results.append(
                dict(
                    img_id=int(img_id),
                    # no id, no deduplication
                    key=None if sample_id is None else
                    (int(img_id), repr(sample_id)),
                    keypoints=kpts,
                    keypoint_scores=scores,
                    bbox_scores=bbox_scores,
                    areas=None if areas is None else _to_numpy(areas).astype(
                        np.float64).reshape(n)))

    def _sigmas(self, num_keypoints: int) -> np.ndarray:
        meta = self.dataset_meta or {}
        sigmas = np.asarray(meta.get('sigmas', COCO_SIGMAS), dtype=np.float64)
        if len(sigmas) != num_keypoints:
            raise ValueError(f'CocoKeypointMetric: predictions have '
                             f'{num_keypoints} keypoints but there are '
                             f'{len(sigmas)} OKS sigmas')
        return sigmas

    def _score(self, kpt_scores: np.ndarray, bbox_score: float) -> float:
        if self.score_mode == 'bbox':
            return float(bbox_score)
        if self.score_mode == 'keypoint':
            return float(kpt_scores.mean())
        confident = kpt_scores[kpt_scores > self.keypoint_score_thr]
        mean = confident.mean() if confident.size else 0.
        return float(bbox_score * mean)

    def results_to_coco(self, results: list) -> List[dict]:
        """Deduplicate, rescore and NMS the stored predictions into COCO's
        result format (``image_id``, ``category_id``, ``keypoints`` as a
        flat x, y, score list, ``score``)."""
        seen, per_image = set(), OrderedDict()
        for res in results:
            if res['key'] is not None:
                if res['key'] in seen:
                    continue
                seen.add(res['key'])
            per_image.setdefault(res['img_id'], []).append(res)

        coco_results = []
        for img_id, items in per_image.items():
            kpts = np.concatenate([r['keypoints'] for r in items])
            if len(kpts) == 0:
                continue
            kpt_scores = np.concatenate([r['keypoint_scores'] for r in items])
            bbox_scores = np.concatenate([r['bbox_scores'] for r in items])
            areas = np.concatenate([
                r['areas'] if r['areas'] is not None else
                np.prod(r['keypoints'].max(1) - r['keypoints'].min(1), axis=1)
                for r in items
            ])
            scores = np.array([
                self._score(s, b) for s, b in zip(kpt_scores, bbox_scores)
            ])
            keep = (
                oks_nms(kpts, scores, areas, self._sigmas(kpts.shape[1]),
                        self.nms_thr)
                if self.nms_mode == 'oks_nms' else range(len(kpts)))
            for i in keep:
                flat = np.concatenate([kpts[i], kpt_scores[i][:, None]],
                                      axis=1).reshape(-1)
                coco_results.append(
                    dict(
                        image_id=img_id,
                        category_id=1,
                        keypoints=[float(v) for v in flat],
                        score=float(scores[i])))
        return coco_results

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Write the results json and run ``COCOeval``."""
        logger = MMLogger.get_current_instance()
        coco_results = self.results_to_coco(results)

        tmp_dir = None
        prefix = self.outfile_prefix
        if prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            prefix = osp.join(tmp_dir.name, 'results')
        elif osp.dirname(prefix):
            os.makedirs(osp.dirname(prefix), exist_ok=True)
        res_file = f'{prefix}.keypoints.json'
        with open(res_file, 'w') as f:
            json.dump(coco_results, f)
        try:
            if self.format_only:
                print_log(f'keypoint results written to {res_file}', logger)
                return {}
            return self._evaluate(coco_results, logger)
        finally:
            if tmp_dir is not None:
                tmp_dir.cleanup()

    def _evaluate(self, coco_results: List[dict], logger) -> Dict[str, float]:
        from pycocotools.cocoeval import COCOeval
        if not coco_results:
            print_log('CocoKeypointMetric: no predicted pose; all metrics '
                      'are 0', logger, level=30)
            return {name: 0. for name in STAT_NAMES}
        unknown = sorted({r['image_id']
                          for r in coco_results} - set(self.coco.getImgIds()))
        if unknown:
            raise ValueError(f'CocoKeypointMetric: predictions for image ids '
                             f'{unknown[:10]} that are not in {self.ann_file}')
        num_kpts = len(coco_results[0]['keypoints']) // 3
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            coco_dt = self.coco.loadRes(coco_results)
            coco_eval = COCOeval(self.coco, coco_dt, 'keypoints')
            coco_eval.params.kpt_oks_sigmas = self._sigmas(num_kpts)
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
        print_log('\n' + out.getvalue(), logger)
        return OrderedDict(
            (name, float(value))
            for name, value in zip(STAT_NAMES, coco_eval.stats))
