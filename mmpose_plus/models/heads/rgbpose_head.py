"""Two-stream classification head of RGBPoseConv3D (Duan et al., "Revisiting
Skeleton-based Action Recognition", CVPR 2022).

Each stream (RGB, pose) gets its own global average pool, dropout and linear
classifier; losses and predictions are reported per stream so that
mmaction2's ``AccMetric`` computes ``rgb_*``, ``pose_*`` and the fused
``RGBPose_{1:1,2:1,1:2}_*`` metrics.
"""
from numbers import Real
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.models.heads.base import BaseHead
from mmaction.utils import SampleList
from mmengine.model.weight_init import normal_init
from mmengine.structures import LabelData

from mmpose_plus.registry import MODELS

__all__ = ['RGBPoseHead']

STREAMS = ('rgb', 'pose')


def _check_dropout(dropout: Union[float, Dict[str, float]]) -> Dict[str,
                                                                    float]:
    if isinstance(dropout, Real) and not isinstance(dropout, bool):
        dropout = {name: float(dropout) for name in STREAMS}
    if not isinstance(dropout, dict):
        raise TypeError('RGBPoseHead: dropout must be a float or a dict with '
                        f'keys {STREAMS}, got {type(dropout).__name__}')
    missing = [name for name in STREAMS if name not in dropout]
    unknown = [name for name in dropout if name not in STREAMS]
    if missing or unknown:
        raise ValueError(f'RGBPoseHead: dropout dict needs exactly the keys '
                         f'{STREAMS}; missing {missing}, unknown {unknown}')
    for name, p in dropout.items():
        if not 0 <= p < 1:
            raise ValueError(
                f'RGBPoseHead: dropout[{name!r}]={p} is not in [0, 1)')
    return {name: float(dropout[name]) for name in STREAMS}


@MODELS.register_module()
class RGBPoseHead(BaseHead):
    """Classification head for the two outputs of ``RGBPoseConv3D``.

    State-dict keys: ``fc_rgb.{weight,bias}`` and ``fc_pose.{weight,bias}``
    (same as mmaction2's ``RGBPoseHead``).

    Losses are named ``{stream}_loss_cls`` (scaled by that stream's weight)
    plus ``{stream}_top{k}_acc`` for hard labels. Predictions always cover
    both streams: ``data_sample.pred_scores`` / ``pred_labels`` are
    ``LabelData(rgb=..., pose=...)``, the layout mmaction2's ``AccMetric``
    turns into per-stream and fused metrics. A stream left out of
    ``loss_components`` is still predicted (its classifier is then
    untrained, which its metrics will show) rather than breaking the metric.

    Args:
        num_classes (int): Number of classes.
        in_channels (Sequence[int]): Channels of ``(x_rgb, x_pose)``.
            Defaults to ``(2048, 512)``.
        loss_cls (dict): Loss config. Defaults to
            ``dict(type='CrossEntropyLoss')``.
        loss_components (Sequence[str]): Streams that contribute a loss, a
            non-empty subset of ``('rgb', 'pose')``.
            Defaults to ``('rgb', 'pose')``.
        loss_weights (float | Sequence[float]): One weight for all
            components, or one per component. Defaults to 1.
        dropout (float | dict): Dropout probability, shared or per stream as
            ``dict(rgb=p1, pose=p2)``. Defaults to 0.5.
        init_std (float): Std of the normal init of both classifiers.
            Defaults to 0.01.
        **kwargs: ``BaseHead`` arguments: ``multi_class``,
            ``label_smooth_eps``, ``topk``, ``average_clips``
            (``'prob'``, ``'score'`` or None), ``init_cfg``.

    Example:
        >>> import torch
        >>> head = RGBPoseHead(num_classes=60)
        >>> scores = head((torch.rand(2, 2048, 8, 7, 7),
        ...                torch.rand(2, 512, 32, 7, 7)))
        >>> {k: tuple(v.shape) for k, v in scores.items()}
        {'rgb': (2, 60), 'pose': (2, 60)}
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int] = (2048, 512),
                 loss_cls: Dict = dict(type='CrossEntropyLoss'),
                 loss_components: Sequence[str] = STREAMS,
                 loss_weights: Union[float, Sequence[float]] = 1.,
                 dropout: Union[float, Dict[str, float]] = 0.5,
                 init_std: float = 0.01,
                 **kwargs) -> None:
        if len(in_channels) != 2:
            raise ValueError('RGBPoseHead: in_channels must be (rgb, pose) '
                             f'channels, got {in_channels}')
        average_clips = kwargs.get('average_clips')
        if average_clips not in ('score', 'prob', None):
            raise ValueError(f'RGBPoseHead: average_clips={average_clips!r} '
                             "is not one of 'score', 'prob', None")
        # BaseHead builds the loss from the config; give it a copy so the
        # default dict is never touched.
        super().__init__(num_classes, tuple(in_channels), dict(loss_cls),
                         **kwargs)

        components = list(loss_components or ())
        bad = [name for name in components if name not in STREAMS]
        if not components or bad or len(set(components)) != len(components):
            raise ValueError(
                'RGBPoseHead: loss_components must be a non-empty subset of '
                f'{STREAMS} without repeats, got {loss_components}')
        if isinstance(loss_weights, Real):
            weights = [float(loss_weights)] * len(components)
        else:
            weights = [float(w) for w in loss_weights]
        if len(weights) != len(components):
            raise ValueError(
                f'RGBPoseHead: {len(weights)} loss_weights for '
                f'{len(components)} loss_components {components}')
        self.loss_components = components
        self.loss_weights = weights
        self.dropout = _check_dropout(dropout)
        self.init_std = init_std

        self.dropout_rgb = nn.Dropout(p=self.dropout['rgb'])
        self.dropout_pose = nn.Dropout(p=self.dropout['pose'])
        self.fc_rgb = nn.Linear(self.in_channels[0], num_classes)
        self.fc_pose = nn.Linear(self.in_channels[1], num_classes)

    def init_weights(self) -> None:
        """Normal(0, init_std) weights, zero bias, for both classifiers."""
        normal_init(self.fc_rgb, std=self.init_std)
        normal_init(self.fc_pose, std=self.init_std)

    @staticmethod
    def _pool(x: torch.Tensor) -> torch.Tensor:
        # Global average over every axis after channels: (N, C, ...) -> (N, C)
        return x.flatten(2).mean(dim=2) if x.dim() > 2 else x

    def forward(self, x: Tuple[torch.Tensor, torch.Tensor],
                **kwargs) -> Dict[str, torch.Tensor]:
        """Class scores of both streams.

        Args:
            x (tuple[Tensor]): ``(x_rgb, x_pose)``, each ``(N, C, T, H, W)``
                (or already pooled ``(N, C)``).

        Returns:
            dict[str, Tensor]: ``{'rgb': (N, num_classes),
            'pose': (N, num_classes)}``.
        """
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError('RGBPoseHead expects the (x_rgb, x_pose) pair of '
                             f'RGBPoseConv3D, got {type(x).__name__}')
        x_rgb = self.dropout_rgb(self._pool(x[0]))
        x_pose = self.dropout_pose(self._pool(x[1]))
        return dict(rgb=self.fc_rgb(x_rgb), pose=self.fc_pose(x_pose))

    def loss_by_feat(self, cls_scores: Dict[str, torch.Tensor],
                     data_samples: SampleList) -> Dict:
        """Per-stream losses (``{stream}_loss_cls``, weighted) and top-k
        accuracies (``{stream}_top{k}_acc``)."""
        losses = dict()
        for name, weight in zip(self.loss_components, self.loss_weights):
            # BaseHead handles label stacking, soft labels, label smoothing
            # and top-k accuracy for one score tensor.
            stream = BaseHead.loss_by_feat(self, cls_scores[name],
                                           data_samples)
            for key, value in stream.items():
                losses[f'{name}_{key}'] = value
            losses[f'{name}_loss_cls'] = losses[f'{name}_loss_cls'] * weight
        return losses

    def predict_by_feat(self, cls_scores: Dict[str, torch.Tensor],
                        data_samples: SampleList) -> SampleList:
        """Attach per-stream clip-averaged scores and argmax labels to
        ``data_samples`` as ``LabelData(rgb=..., pose=...)``."""
        num_segs = cls_scores['rgb'].shape[0] // len(data_samples)
        scores, labels = dict(), dict()
        for name in STREAMS:
            averaged = self.average_clip(cls_scores[name], num_segs=num_segs)
            scores[name] = averaged
            labels[name] = averaged.argmax(dim=-1, keepdim=True).detach()
        for i, data_sample in enumerate(data_samples):
            data_sample.pred_scores = LabelData(
                **{name: scores[name][i]
                   for name in STREAMS})
            data_sample.pred_labels = LabelData(
                **{name: labels[name][i]
                   for name in STREAMS})
        return data_samples
