"""Shared base of the top-down and bottom-up pose estimators.

A pose estimator is ``backbone -> (neck) -> head`` plus a keypoint codec that
turns the head output back into coordinates. The base class owns what both
paradigms need: building the parts from configs, the ``mode`` dispatch of
mmengine's :class:`~mmengine.model.BaseModel`, the dataset meta (flip
indices for flip test) and an optional official-checkpoint load.
"""
import copy
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmpose_plus.models.utils import load_pose_checkpoint
from mmpose_plus.registry import KEYPOINT_CODECS, MODELS

__all__ = ['BasePoseEstimator', 'sample_name']

SampleList = List[BaseDataElement]
ForwardResults = Union[Dict[str, Tensor], SampleList, Tensor, Tuple[Tensor],
                       List[Tensor]]


def sample_name(sample: BaseDataElement,
                index: int,
                keys: Sequence[str] = ('img_id', 'id', 'img_path')) -> str:
    """Name a data sample in an error message: its batch index and those
    of ``keys`` that its metainfo has.

    Example:
        >>> sample_name(BaseDataElement(metainfo=dict(img_id=7)), 1)
        '#1 img_id=7'
    """
    meta = sample.metainfo
    parts = [f'#{index}']
    parts += [f'{key}={meta[key]}' for key in keys if key in meta]
    return ' '.join(parts)


class BasePoseEstimator(BaseModel, metaclass=ABCMeta):
    """Backbone, optional neck and head, with a keypoint codec.

    Subclasses implement :meth:`loss` and :meth:`predict`; everything else
    (building, ``forward`` dispatch, feature extraction, metainfo) is here.
    They name the parts they cannot work without in :attr:`required_parts`
    and check the built model in :meth:`_validate`.

    Args:
        backbone (dict): Backbone config (``MODELS``).
        neck (dict, optional): Neck config. Defaults to None.
        head (dict, optional): Head config. Defaults to None.
        codec (dict, optional): Codec config (``KEYPOINT_CODECS``), e.g.
            ``dict(type='MSRAHeatmap', input_size=(192, 256),
            heatmap_size=(48, 64), sigma=2)``. Defaults to None.
        train_cfg (dict, optional): Training options, kept as
            ``self.train_cfg``. Defaults to None (an empty dict).
        test_cfg (dict, optional): Test options, kept as ``self.test_cfg``
            (merged over :attr:`default_test_cfg`). Defaults to None.
        data_preprocessor (dict | nn.Module, optional): Data preprocessor
            (config). Defaults to ``dict(type='PoseDataPreprocessor')`` (no
            normalisation; the configs set ImageNet mean/std and
            ``bgr_to_rgb=True``).
        init_cfg (dict | list[dict], optional): Initialisation config.
        metainfo (dict, optional): Dataset meta (``flip_indices`` ...) for
            inputs whose data samples carry none (e.g. a demo without a
            dataset). Data-sample metainfo wins. Defaults to None.
        load_official (str, optional): Path of an official SimpleBaseline /
            HRNet / HigherHRNet / mmpose checkpoint, loaded strictly through
            :func:`mmpose_plus.models.utils.load_pose_checkpoint` after the
            parts are built. Defaults to None.

    Attributes:
        default_test_cfg (dict): Class-level defaults of ``test_cfg``.
        required_parts (dict): ``head`` / ``codec`` configs that a subclass
            needs, each with the example that the error message shows when
            it is missing.

    Example:
        >>> class Sketch(BasePoseEstimator):
        ...     def loss(self, inputs, data_samples):
        ...         return dict(loss=self._forward(inputs).mean())
        ...     def predict(self, inputs, data_samples):
        ...         return data_samples
        >>> model = Sketch(backbone=dict(type='ResNet', depth=18),
        ...                head=dict(type='HeatmapHead', in_channels=512,
        ...                          out_channels=17))
        >>> tuple(model(torch.rand(1, 3, 64, 64)).shape)  # mode='tensor'
        (1, 17, 16, 16)
    """

    default_test_cfg: dict = {}
    required_parts: Dict[str, str] = {}

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 codec: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 metainfo: Optional[dict] = None,
                 load_official: Optional[str] = None) -> None:
        given = dict(head=head, codec=codec)
        for part, example in self.required_parts.items():
            if given[part] is None:
                raise ValueError(f'{type(self).__name__} needs a {part} '
                                 f'config, e.g. {example}')
        if data_preprocessor is None:
            data_preprocessor = dict(type='PoseDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # Built here through our registry: mmengine's BaseModel would
            # look it up in its root registry, which only finds our types
            # when the default scope happens to be set.
            data_preprocessor = MODELS.build(copy.deepcopy(data_preprocessor))
        super().__init__(
            data_preprocessor=data_preprocessor,
            init_cfg=copy.deepcopy(init_cfg))
        self.backbone = MODELS.build(copy.deepcopy(backbone))
        self.neck = MODELS.build(copy.deepcopy(neck)) if neck else None
        self.head = MODELS.build(copy.deepcopy(head)) if head else None
        self.codec = KEYPOINT_CODECS.build(copy.deepcopy(codec)) \
            if codec else None
        self.train_cfg = copy.deepcopy(train_cfg) if train_cfg else {}
        self.test_cfg = copy.deepcopy(self.default_test_cfg)
        self.test_cfg.update(copy.deepcopy(test_cfg) if test_cfg else {})
        self.metainfo = copy.deepcopy(metainfo) if metainfo else None
        self._validate()
        self.load_official = load_official
        if load_official:
            self.load_official_checkpoint(load_official)

    def _validate(self) -> None:
        """Check the built parts and ``test_cfg`` (before any checkpoint is
        loaded); subclasses raise on what they cannot run with."""

    @property
    def with_neck(self) -> bool:
        return self.neck is not None

    @property
    def with_head(self) -> bool:
        return self.head is not None

    def load_official_checkpoint(self, path: str) -> None:
        """Load an official / mmpose checkpoint with strict key matching."""
        load_pose_checkpoint(self, path, strict=True)

    def init_weights(self) -> None:
        """Run ``init_cfg`` unless official weights were loaded (which the
        random initialisation would overwrite)."""
        if self.load_official:
            self._is_init = True
            return
        super().init_weights()

    def extract_feat(self, inputs: Tensor) -> Union[Tensor, Tuple[Tensor]]:
        """Backbone (and neck) features of a ``(N, C, H, W)`` batch."""
        feats = self.backbone(inputs)
        if self.with_neck:
            feats = self.neck(feats)
        return feats

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> ForwardResults:
        """Dispatch on ``mode``.

        Args:
            inputs (Tensor): ``(N, C, H, W)`` preprocessed images (a
                subclass may accept other forms, e.g. one batch per scale).
            data_samples (list, optional): One data sample per input.
            mode (str): ``'tensor'`` (raw head output, :meth:`_forward`),
                ``'loss'`` (dict of losses) or ``'predict'`` (data samples
                with ``pred_instances``).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f"Invalid mode {mode!r}: expected 'tensor', 'loss' "
                         "or 'predict'")

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[SampleList] = None
                 ) -> Union[Tensor, Tuple[Tensor], List[Tensor]]:
        """Raw network output (heatmaps etc.), no decoding: the graph that
        is exported to ONNX."""
        feats = self.extract_feat(inputs)
        return self.head.forward(feats) if self.with_head else feats

    @abstractmethod
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of a batch."""

    @abstractmethod
    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Data samples with ``pred_instances`` in input-image coordinates.
        """

    def get_flip_indices(self, data_samples: Optional[SampleList] = None
                         ) -> List[int]:
        """Flip indices of the data samples' metainfo (set by the dataset),
        else of the constructor's ``metainfo``.

        Raises:
            KeyError: Neither source has ``flip_indices`` (needed for flip
                test).
        """
        for sample in data_samples or ():
            if 'flip_indices' in sample.metainfo:
                return list(sample.metainfo['flip_indices'])
        if self.metainfo and 'flip_indices' in self.metainfo:
            return list(self.metainfo['flip_indices'])
        raise KeyError(
            f'{type(self).__name__}: flip test needs `flip_indices`; none in '
            'the model metainfo nor in the data samples (the dataset meta is '
            'missing, or pass metainfo=dict(flip_indices=[...])).')

    @staticmethod
    def _to_numpy(x: Union[Tensor, np.ndarray, Sequence]) -> np.ndarray:
        if isinstance(x, Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)
