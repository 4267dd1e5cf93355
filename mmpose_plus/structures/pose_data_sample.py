"""The data sample that travels with every 2D pose image or person crop."""
from typing import List, Union

from mmengine.structures import BaseDataElement, InstanceData, PixelData

__all__ = ['PoseDataSample']

FieldsType = Union[PixelData, List[PixelData]]
LabelsType = Union[BaseDataElement, List[BaseDataElement]]


class PoseDataSample(BaseDataElement):
    """Ground truth, predictions and metainfo of one pose sample.

    A sample is one person crop (top-down) or one whole image (bottom-up).

    Data fields:
        gt_instances (InstanceData): per-person annotations in the original
            image frame, numpy arrays with N rows: ``bboxes`` (N, 4) xyxy,
            ``bbox_scores`` (N,), ``bbox_centers`` / ``bbox_scales`` (N, 2),
            ``keypoints`` (N, K, 2), ``keypoints_visible`` (N, K),
            ``transformed_keypoints`` (N, K, 2) in model-input pixels,
            ``areas`` (N,).
        gt_instance_labels (InstanceData | list): training labels made by
            a codec, as tensors: ``keypoint_weights`` (N, K),
            ``keypoint_indices`` (P, K, 2) for associative embedding. It is
            an ``InstanceData`` when every label has N rows, else (labels
            padded to a fixed P rows) a plain ``BaseDataElement`` with the
            same attribute access. A list holds one entry per codec when
            several codecs encode.
        gt_fields (PixelData | list[PixelData]): dense targets as tensors:
            ``heatmaps`` (K, H, W), ``heatmap_mask`` (1, H, W); a list holds
            one entry per resolution level.
        pred_instances (InstanceData): predictions in original-image
            pixels: ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K),
            ``bbox_scores`` (N,) and optionally ``bboxes``.
        pred_fields (PixelData): optional predicted heatmaps / tags.

    Metainfo (set by ``PackPoseInputs``): ``id``, ``img_id``, ``img_path``,
    ``ori_shape``, ``img_shape``, ``input_size`` (w, h), ``input_center``,
    ``input_scale``, ``flip``, ``flip_direction``, ``flip_indices``, ...

    Example:
        >>> import numpy as np
        >>> from mmengine.structures import InstanceData
        >>> sample = PoseDataSample(metainfo=dict(img_id=1))
        >>> sample.gt_instances = InstanceData(
        ...     keypoints=np.zeros((2, 17, 2)))
        >>> len(sample.gt_instances), sample.img_id
        (2, 1)
    """

    @property
    def gt_instances(self) -> InstanceData:
        return self._gt_instances

    @gt_instances.setter
    def gt_instances(self, value: InstanceData) -> None:
        self.set_field(value, '_gt_instances', dtype=InstanceData)

    @gt_instances.deleter
    def gt_instances(self) -> None:
        del self._gt_instances

    @property
    def gt_instance_labels(self) -> LabelsType:
        return self._gt_instance_labels

    @gt_instance_labels.setter
    def gt_instance_labels(self, value: LabelsType) -> None:
        self.set_field(
            value, '_gt_instance_labels', dtype=(BaseDataElement, list))

    @gt_instance_labels.deleter
    def gt_instance_labels(self) -> None:
        del self._gt_instance_labels

    @property
    def pred_instances(self) -> InstanceData:
        return self._pred_instances

    @pred_instances.setter
    def pred_instances(self, value: InstanceData) -> None:
        self.set_field(value, '_pred_instances', dtype=InstanceData)

    @pred_instances.deleter
    def pred_instances(self) -> None:
        del self._pred_instances

    @property
    def gt_fields(self) -> FieldsType:
        return self._gt_fields

    @gt_fields.setter
    def gt_fields(self, value: FieldsType) -> None:
        self.set_field(value, '_gt_fields', dtype=(PixelData, list))

    @gt_fields.deleter
    def gt_fields(self) -> None:
        del self._gt_fields

    @property
    def pred_fields(self) -> PixelData:
        return self._pred_fields

    @pred_fields.setter
    def pred_fields(self, value: PixelData) -> None:
        self.set_field(value, '_pred_fields', dtype=PixelData)

    @pred_fields.deleter
    def pred_fields(self) -> None:
        del self._pred_fields
