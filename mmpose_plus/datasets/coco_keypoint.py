"""COCO person-keypoint dataset for top-down and bottom-up 2D pose models."""
import copy
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init

from mmpose_plus.registry import DATASETS
from .coco_meta import coco_metainfo

__all__ = ['CocoKeypointDataset']

# Metainfo entries copied into every sample before the pipeline runs, so
# that transforms (flip, half-body, target weights) need no dataset handle.
PIPELINE_META_KEYS = ('flip_indices', 'flip_pairs', 'upper_body_ids',
                      'lower_body_ids', 'dataset_keypoint_weights')


def _read_json(path: str, what: str) -> Union[dict, list]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{what} {path} is not valid JSON: {e}') from e


@DATASETS.register_module()
class CocoKeypointDataset(BaseDataset):
    """COCO-format person keypoints, one sample per person or per image.

    Conventions (those of the COCO evaluation and of mmpose / HigherHRNet):

    - crowd annotations (``iscrowd=1``) never become training instances; in
      bottom-up mode their segmentation (and that of people with no labelled
      joint) goes to ``invalid_segs`` so ``BottomupGetHeatmapMask`` can mask
      those regions out of the loss;
    - people with ``num_keypoints == 0`` are skipped;
    - boxes are clipped to the image and skipped when ``w`` or ``h`` <= 0;
    - anything else malformed (a missing key, a keypoint list whose length is
      not ``3 * K``, an annotation or detection that names an image the file
      does not have, duplicated ids) raises ``ValueError``/``KeyError`` naming
      the file and the image / annotation id.

    Keypoints with visibility 1 (labelled, occluded) and 2 (visible) both get
    ``keypoints_visible = 1``.

    Args:
        ann_file (str): COCO keypoint json (``images``, ``annotations``).
        bbox_file (str, optional): person detections (COCO result format:
            ``image_id``, ``bbox`` xywh, ``score``, ``category_id``). Top-down
            test mode only: one sample per detection instead of per GT box.
        data_mode (str): ``'topdown'`` (one sample per person) or
            ``'bottomup'`` (one sample per image with all its people). In
            bottom-up training, images without a valid person are skipped; in
            test mode every image is kept, as COCO evaluates all of them.
        bbox_score_thr (float): detections scoring below it are dropped.
            Defaults to 0.0 (keep all).
        person_category_id (int): category of persons; annotations and
            detections of other categories are ignored. Defaults to 1.
        metainfo (dict, optional): overrides of the COCO-17 metainfo from
            :mod:`mmpose_plus.datasets.coco_meta`.
        data_root, data_prefix, filter_cfg, indices, serialize_data, pipeline,
        test_mode, lazy_init, max_refetch: as in
            :class:`mmengine.dataset.BaseDataset`; ``data_prefix['img']`` is
            the image folder.

    Sample keys (before the pipeline): ``id`` (annotation id; a list of ids
    in bottom-up mode; a running detection index with ``bbox_file``),
    ``img_id``, ``img_path``, ``category_id``, ``bbox`` (N, 4) xyxy float32,
    ``bbox_score`` (N,), ``keypoints`` (N, K, 2), ``keypoints_visible``
    (N, K), ``num_keypoints`` (N,), ``area`` (N,); bottom-up adds
    ``invalid_segs`` (list of COCO segmentations). ``prepare_data`` adds
    ``flip_indices``, ``flip_pairs``, ``upper_body_ids``, ``lower_body_ids``
    and ``dataset_keypoint_weights`` from the metainfo.

    Example:
        >>> ds = CocoKeypointDataset(ann_file='person_keypoints.json',
        ...                          data_prefix=dict(img='images/'))
        >>> info = ds.get_data_info(0)
        >>> info['keypoints'].shape, info['bbox'].shape
        ((1, 17, 2), (1, 4))
    """

    METAINFO: dict = coco_metainfo()

    def __init__(self,
                 ann_file: str = '',
                 bbox_file: Optional[str] = None,
                 data_mode: str = 'topdown',
                 bbox_score_thr: float = 0.0,
                 person_category_id: int = 1,
                 metainfo: Optional[dict] = None,
                 data_root: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        if data_mode not in ('topdown', 'bottomup'):
            raise ValueError(f'{type(self).__name__}: data_mode must be '
                             f'"topdown" or "bottomup", got {data_mode!r}')
        if bbox_file and data_mode != 'topdown':
            raise ValueError(f'{type(self).__name__}: bbox_file is only '
                             'supported with data_mode="topdown"')
        if bbox_file and not test_mode:
            raise ValueError(f'{type(self).__name__}: bbox_file (detected '
                             'boxes) is only supported with test_mode=True')
        if bbox_file and data_root and not osp.isabs(bbox_file):
            bbox_file = osp.join(data_root, bbox_file)
        self.data_mode = data_mode
        self.bbox_file = bbox_file
        self.bbox_score_thr = bbox_score_thr
        self.person_category_id = person_category_id
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img='') if data_prefix is None else data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    @property
    def num_keypoints(self) -> int:
        return int(self._metainfo['num_keypoints'])

    def _check_metainfo(self) -> None:
        k = self.num_keypoints
        for key in ('flip_indices', 'sigmas', 'dataset_keypoint_weights'):
            if key in self._metainfo and len(self._metainfo[key]) != k:
                raise ValueError(
                    f'{type(self).__name__}: metainfo[{key!r}] has '
                    f'{len(self._metainfo[key])} entries but num_keypoints '
                    f'is {k}')

    def load_data_list(self) -> List[dict]:
        """Read ``ann_file`` (and ``bbox_file``) into sample dicts."""
        self._check_metainfo()
        coco = _read_json(self.ann_file, 'COCO annotation file')
        if not isinstance(coco, dict) or 'images' not in coco:
            raise KeyError(f'{self.ann_file}: a COCO annotation file needs '
                           'an "images" list')
        images = self._index_images(coco['images'])
        if self.bbox_file:
            return self._load_detections(images)
        if 'annotations' not in coco:
            raise KeyError(f'{self.ann_file}: no "annotations" list (a file '
                           'with image infos only needs bbox_file)')
        anns_per_image = self._group_annotations(coco['annotations'], images)

        data_list = []
        for img_id, img in images.items():
            valid, invalid_segs = [], []
            for ann in anns_per_image.get(img_id, []):
                inst, reason = self._parse_annotation(ann, img)
                if inst is not None:
                    valid.append(inst)
                elif reason in ('crowd', 'no_keypoints'):
                    seg = self._segmentation_of(ann)
                    if seg is not None:
                        invalid_segs.append(seg)
            if self.data_mode == 'topdown':
                data_list.extend(self._topdown_info(inst, img)
                                 for inst in valid)
            elif valid or self.test_mode:
                data_list.append(
                    self._bottomup_info(valid, img, invalid_segs))
        return data_list

    def _index_images(self, images: list) -> Dict[int, dict]:
        index = {}
        for i, img in enumerate(images):
            missing = [
                k for k in ('id', 'file_name', 'width', 'height')
                if k not in img
            ]
            if missing:
                raise KeyError(f'{self.ann_file}: image entry #{i} '
                               f'(id={img.get("id")}) lacks {missing}')
            if img['id'] in index:
                raise ValueError(f'{self.ann_file}: image id={img["id"]} '
                                 'appears more than once')
            index[img['id']] = img
        return index

    def _group_annotations(self, anns: list,
                           images: Dict[int, dict]) -> Dict[int, list]:
        grouped: Dict[int, list] = {}
        seen_ids = set()
        for i, ann in enumerate(anns):
            missing = [k for k in ('id', 'image_id') if k not in ann]
            if missing:
                raise KeyError(f'{self.ann_file}: annotation #{i} '
                               f'(id={ann.get("id")}) lacks {missing}')
            if ann['id'] in seen_ids:
                raise ValueError(f'{self.ann_file}: annotation id='
                                 f'{ann["id"]} appears more than once')
            seen_ids.add(ann['id'])
            if ann['image_id'] not in images:
                raise ValueError(
                    f'{self.ann_file}: annotation id={ann["id"]} refers to '
                    f'image id={ann["image_id"]}, which is not in "images"')
            if ann.get('category_id',
                       self.person_category_id) != self.person_category_id:
                continue
            grouped.setdefault(ann['image_id'], []).append(ann)
        return grouped

    def _where(self, ann: dict) -> str:
        return (f'{self.ann_file}: annotation id={ann["id"]} '
                f'(image id={ann["image_id"]})')

    def _parse_keypoints(self, ann: dict):
        k = self.num_keypoints
        raw = ann['keypoints']
        if not isinstance(raw, (list, tuple)) or len(raw) != 3 * k:
            got = len(raw) if isinstance(raw, (list, tuple)) else type(raw)
            raise ValueError(f'{self._where(ann)} has {got} keypoint values, '
                             f'expected 3 * {k} = {3 * k}')
        kpts = np.asarray(raw, dtype=np.float32).reshape(k, 3)
        return kpts[:, :2], np.minimum(1., kpts[:, 2])

    def _parse_annotation(self, ann: dict, img: dict):
        """Return ``(instance, None)`` or ``(None, reason_for_skipping)``."""
        if ann.get('iscrowd', 0):
            if 'keypoints' in ann:  # still validate its shape
                self._parse_keypoints(ann)
            return None, 'crowd'
        missing = [k for k in ('bbox', 'keypoints') if k not in ann]
        if missing:
            raise KeyError(f'{self._where(ann)} lacks {missing}')
        keypoints, visible = self._parse_keypoints(ann)
        num_kpts = int(ann.get('num_keypoints', np.count_nonzero(visible)))
        if num_kpts == 0:
            return None, 'no_keypoints'

        bbox = ann['bbox']
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise ValueError(f'{self._where(ann)} has bbox {bbox!r}, '
                             'expected [x, y, w, h]')
        x, y, w, h = (float(v) for v in bbox)
        img_w, img_h = img['width'], img['height']
        x1, y1 = np.clip(x, 0, img_w - 1), np.clip(y, 0, img_h - 1)
        x2, y2 = np.clip(x + w, 0, img_w - 1), np.clip(y + h, 0, img_h - 1)
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            return None, 'degenerate_bbox'
        return dict(
            id=ann['id'],
            bbox=np.array([x1, y1, x2, y2], dtype=np.float32),
            keypoints=keypoints,
            keypoints_visible=visible,
            num_keypoints=num_kpts,
            area=float(ann.get('area', w * h)),
        ), None

    @staticmethod
    def _segmentation_of(ann: dict):
        seg = ann.get('segmentation')
        if seg:
            return seg
        if 'bbox' in ann and len(ann['bbox']) == 4:
            # Without a segmentation the box is the best region to ignore.
            x, y, w, h = ann['bbox']
            return [[x, y, x + w, y, x + w, y + h, x, y + h]]
        return None

    def _img_path(self, img: dict) -> str:
        return osp.join(self.data_prefix.get('img', ''), img['file_name'])

    def _topdown_info(self, inst: dict, img: dict) -> dict:
        return dict(
            id=inst['id'],
            img_id=img['id'],
            img_path=self._img_path(img),
            category_id=self.person_category_id,
            bbox=inst['bbox'][None],
            bbox_score=np.ones(1, dtype=np.float32),
            keypoints=inst['keypoints'][None],
            keypoints_visible=inst['keypoints_visible'][None],
            num_keypoints=np.array([inst['num_keypoints']]),
            area=np.array([inst['area']], dtype=np.float32))

    def _bottomup_info(self, valid: List[dict], img: dict,
                       invalid_segs: list) -> dict:
        k = self.num_keypoints
        n = len(valid)

        def stack(key, shape, dtype=np.float32):
            if n == 0:
                return np.zeros((0, ) + shape, dtype=dtype)
            return np.stack([np.asarray(v[key], dtype=dtype) for v in valid])

        return dict(
            id=[v['id'] for v in valid],
            img_id=img['id'],
            img_path=self._img_path(img),
            category_id=self.person_category_id,
            bbox=stack('bbox', (4, )),
            bbox_score=np.ones(n, dtype=np.float32),
            keypoints=stack('keypoints', (k, 2)),
            keypoints_visible=stack('keypoints_visible', (k, )),
            num_keypoints=stack('num_keypoints', (), np.int64),
            area=stack('area', ()),
            invalid_segs=invalid_segs)

    def _load_detections(self, images: Dict[int, dict]) -> List[dict]:
        dets = _read_json(self.bbox_file, 'detection result file')
        if not isinstance(dets, list):
            raise ValueError(f'{self.bbox_file}: expected a list of '
                             'detections in COCO result format')
        k = self.num_keypoints
        data_list = []
        for i, det in enumerate(dets):
            missing = [
                key for key in ('image_id', 'bbox', 'score') if key not in det
            ]
            if missing:
                raise KeyError(f'{self.bbox_file}: detection #{i} lacks '
                               f'{missing}')
            if det.get('category_id',
                       self.person_category_id) != self.person_category_id:
                continue
            if det['image_id'] not in images:
                raise ValueError(
                    f'{self.bbox_file}: detection #{i} refers to image id='
                    f'{det["image_id"]}, which is not in {self.ann_file}')
            if len(det['bbox']) < 4:
                raise ValueError(f'{self.bbox_file}: detection #{i} (image '
                                 f'id={det["image_id"]}) has bbox '
                                 f'{det["bbox"]!r}, expected [x, y, w, h]')
            score = float(det['score'])
            x, y, w, h = (float(v) for v in det['bbox'][:4])
            if score < self.bbox_score_thr or w <= 0 or h <= 0:
                continue
            img = images[det['image_id']]
            data_list.append(
                dict(
                    id=i,
                    img_id=img['id'],
                    img_path=self._img_path(img),
                    category_id=self.person_category_id,
                    bbox=np.array([[x, y, x + w, y + h]], dtype=np.float32),
                    bbox_score=np.array([score], dtype=np.float32),
                    # no ground truth for detected people
                    keypoints=np.zeros((1, k, 2), dtype=np.float32),
                    keypoints_visible=np.zeros((1, k), dtype=np.float32),
                    num_keypoints=np.zeros(1, dtype=np.int64),
                    area=np.array([w * h], dtype=np.float32)))
        return data_list

    # ------------------------------------------------------------------
    # sampling
    # ------------------------------------------------------------------
    @force_full_init
    def prepare_data(self, idx: int):
        """Add the per-keypoint metainfo to the sample, run the pipeline."""
        data_info = self.get_data_info(idx)
        for key in PIPELINE_META_KEYS:
            if key in self._metainfo:
                data_info[key] = copy.deepcopy(self._metainfo[key])
        return self.pipeline(data_info)
