"""Top-down pose estimator: one person crop in, one heatmap per joint out.

SimpleBaseline (Xiao et al., ECCV 2018) and HRNet (Sun et al., CVPR 2019)
are both this model with a different backbone and head; the differences
live in the configs under ``configs/pose/``.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmpose_plus.codecs.gaussian_heatmap import flip_heatmaps
from mmpose_plus.registry import MODELS
from .base import BasePoseEstimator, SampleList, sample_name

__all__ = ['TopdownPoseEstimator', 'heatmap_accuracy']

FLIP_MODES = ('heatmap', )


def heatmap_accuracy(pred: Tensor, target: Tensor, weights: Tensor,
                     thr: float = 0.5) -> Tensor:
    """Share of labelled joints whose predicted arg-max is close to the
    target's (a training-time PCK on heatmaps).

    Distances are measured in units of a tenth of the heatmap width /
    height per axis; a joint counts as correct below ``thr`` (0.5, i.e.
    within 5% of the heatmap size). Joints whose target is empty are not
    counted.

    Args:
        pred, target (Tensor): ``(N, K, H, W)`` heatmaps.
        weights (Tensor): ``(N, K)`` target weights (> 0 = labelled).
        thr (float): Normalised distance threshold. Defaults to 0.5.

    Returns:
        Tensor: scalar in [0, 1] (0 when no joint is labelled).

    Example:
        >>> hm = torch.zeros(1, 2, 8, 8); hm[0, :, 3, 4] = 1
        >>> float(heatmap_accuracy(hm, hm, torch.ones(1, 2)))
        1.0
    """
    N, K, H, W = pred.shape

    def argmax_xy(maps: Tensor) -> Tensor:
        idx = maps.reshape(N, K, H * W).argmax(-1)
        return torch.stack([idx % W, idx // W], dim=-1).float()

    norm = pred.new_tensor([W / 10., H / 10.])
    dist = ((argmax_xy(pred) - argmax_xy(target)) / norm).norm(dim=-1)
    valid = (weights.reshape(N, K) > 0) & (target.flatten(2).amax(-1) > 0)
    if not valid.any():
        return pred.new_zeros(())
    return (dist[valid] <= thr).float().mean()


@MODELS.register_module()
class TopdownPoseEstimator(BasePoseEstimator):
    """Backbone + heatmap head + heatmap codec on person crops.

    Training: ``loss`` compares the head's heatmaps with the targets that
    ``GenerateTarget`` put in each data sample (``gt_fields.heatmaps``
    ``(K, H, W)`` and ``gt_instance_labels.keypoint_weights`` ``(1, K)``).

    Inference: ``predict`` runs all person crops of the batch at once (with
    flip test, the flipped crops join the same forward pass), decodes the
    heatmaps with the codec and maps the keypoints from crop pixels back to
    the image with each sample's ``input_center`` / ``input_scale`` /
    ``input_size`` (written by ``TopdownAffine``):
    ``p_img = p_in / input_size * input_scale + input_center -
    input_scale / 2``.

    Official checkpoints: the SimpleBaseline and HRNet releases (bare
    ``conv1.*`` / ``deconv_layers.*`` / ``final_layer.*`` keys) and the
    mmpose 0.x (``keypoint_head.*``) and 1.x (``head.*``) model zoos load
    with strict key matching through
    :func:`mmpose_plus.models.utils.load_pose_checkpoint`, either here
    (``load_official='pose_resnet_50_256x192.pth'``, which also stops
    ``init_weights`` from overwriting them) or once, offline, with
    ``tools/convert/convert_pose_checkpoint.py`` followed by the usual
    ``load_from`` / ``tools/test.py CONFIG CKPT``.

    Args:
        backbone (dict): Backbone config, e.g. ``dict(type='ResNet',
            depth=50)`` or ``dict(type='HRNet', arch='w32')``.
        head (dict): Head config, e.g. ``dict(type='HeatmapHead',
            in_channels=2048, out_channels=17)``.
        codec (dict): Codec config, e.g. ``dict(type='MSRAHeatmap',
            input_size=(192, 256), heatmap_size=(48, 64), sigma=2)``.
            Its ``input_size`` must be the crop size.
        train_cfg (dict, optional): ``compute_acc`` (bool, default True):
            log ``acc_pose`` (:func:`heatmap_accuracy`) with the losses.
        test_cfg (dict, optional): ``flip_test`` (default True), ``flip_mode``
            (``'heatmap'``: average the heatmaps of the crop and its mirror
            image), ``shift_heatmap`` (default True: shift the mirrored
            heatmaps one pixel right, see
            :func:`~mmpose_plus.codecs.flip_heatmaps`),
            ``output_heatmaps`` (default False: also return the heatmaps in
            ``pred_fields``).

    ``neck``, ``data_preprocessor``, ``init_cfg``, ``metainfo`` and
    ``load_official``: as in :class:`BasePoseEstimator`.

    Example:
        >>> model = TopdownPoseEstimator(
        ...     backbone=dict(type='ResNet', depth=18),
        ...     head=dict(type='HeatmapHead', in_channels=512,
        ...               out_channels=17),
        ...     codec=dict(type='MSRAHeatmap', input_size=(192, 256),
        ...                heatmap_size=(48, 64), sigma=2)).eval()
        >>> tuple(model(torch.rand(2, 3, 256, 192)).shape)  # mode='tensor'
        (2, 17, 64, 48)
        >>> sample = PoseDataSample(metainfo=dict(
        ...     input_size=(192, 256), input_center=np.array([100., 120.]),
        ...     input_scale=np.array([150., 200.]),
        ...     flip_indices=COCO_FLIP_INDICES))
        >>> out = model.predict(torch.rand(1, 3, 256, 192), [sample])
        >>> out[0].pred_instances.keypoints.shape
        (1, 17, 2)
    """

    default_test_cfg = dict(
        flip_test=True,
        flip_mode='heatmap',
        shift_heatmap=True,
        output_heatmaps=False)

    required_parts = dict(
        head="dict(type='HeatmapHead', ...)",
        codec="dict(type='MSRAHeatmap', ...), to decode heatmaps into "
        'keypoints')

    def _validate(self) -> None:
        if self.test_cfg['flip_mode'] not in FLIP_MODES:
            raise ValueError(
                f'TopdownPoseEstimator: test_cfg.flip_mode must be one of '
                f'{FLIP_MODES}, got {self.test_cfg["flip_mode"]!r}')

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    @staticmethod
    def _gather_targets(data_samples: SampleList,
                        device: torch.device) -> Tuple[Tensor, Tensor]:
        """Stack ``(N, K, H, W)`` target heatmaps and ``(N, K)`` weights."""
        if not data_samples:
            raise ValueError('TopdownPoseEstimator.loss needs one data '
                             'sample per input')
        heatmaps, weights = [], []
        for i, sample in enumerate(data_samples):
            fields = sample.get('gt_fields')
            labels = sample.get('gt_instance_labels')
            if fields is None or 'heatmaps' not in fields or \
                    labels is None or 'keypoint_weights' not in labels:
                raise KeyError(
                    f'TopdownPoseEstimator.loss: data sample '
                    f'{sample_name(sample, i)} has no target heatmaps / '
                    'keypoint_weights; add GenerateTarget(encoder=codec) '
                    'before PackPoseInputs in the training pipeline')
            heatmaps.append(torch.as_tensor(fields.heatmaps))
            weights.append(torch.as_tensor(labels.keypoint_weights))
        target = torch.stack(heatmaps).to(device=device, dtype=torch.float32)
        weight = torch.cat([w.reshape(1, -1) for w in weights]).to(
            device=device, dtype=torch.float32)
        return target, weight

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Keypoint loss (``loss_kpt``) and, unless
        ``train_cfg.compute_acc=False``, ``acc_pose``."""
        feats = self.extract_feat(inputs)
        target, weight = self._gather_targets(data_samples, inputs.device)
        heatmaps = self.head.forward(feats)
        if heatmaps.shape != target.shape:
            raise ValueError(
                f'TopdownPoseEstimator: the head outputs heatmaps of shape '
                f'{tuple(heatmaps.shape)} but the targets are '
                f'{tuple(target.shape)}; the codec heatmap_size must be the '
                'input size divided by the network stride')
        losses = self.head.loss_by_feat(heatmaps, target, weight)
        if self.train_cfg.get('compute_acc', True):
            with torch.no_grad():
                losses['acc_pose'] = heatmap_accuracy(heatmaps.detach(),
                                                      target, weight)
        return losses

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict_heatmaps(self,
                         inputs: Tensor,
                         data_samples: Optional[SampleList] = None) -> Tensor:
        """``(N, K, H, W)`` heatmaps, averaged with the flipped pass when
        ``test_cfg.flip_test``."""
        if not self.test_cfg['flip_test']:
            return self._forward(inputs)
        flip_indices = self.get_flip_indices(data_samples)
        # Both passes in one batch (BN is in eval mode, so the samples do
        # not interact): one forward call instead of two.
        both = self._forward(torch.cat([inputs, inputs.flip(-1)]))
        heatmaps, flipped = both.chunk(2)
        flipped = flip_heatmaps(flipped, flip_indices,
                                self.test_cfg['shift_heatmap'])
        return (heatmaps + flipped) * 0.5

    def _check_input_size(self, inputs: Tensor) -> None:
        w, h = self.codec.input_size
        if tuple(inputs.shape[-2:]) != (h, w):
            raise ValueError(
                f'TopdownPoseEstimator: inputs are {tuple(inputs.shape[-2:])} '
                f'(h, w) but the codec expects input_size (w, h) = {(w, h)}; '
                'make TopdownAffine(input_size=...) match the codec')

    @staticmethod
    def _crop_geometry(data_samples: SampleList,
                       default_size: Tuple[int, int]) -> Tuple[np.ndarray,
                                                               ...]:
        """``(N, 2)`` input sizes, centres and scales of the crops."""
        sizes, centers, scales = [], [], []
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            missing = [
                k for k in ('input_center', 'input_scale') if k not in meta
            ]
            if missing:
                raise KeyError(
                    f'TopdownPoseEstimator.predict: data sample '
                    f'{sample_name(sample, i)} lacks {missing}, needed to '
                    'map keypoints back to the image (run TopdownAffine in '
                    'the test pipeline and keep its keys in PackPoseInputs)')
            sizes.append(np.asarray(meta.get('input_size', default_size),
                                    np.float64).reshape(2))
            centers.append(
                np.asarray(meta['input_center'], np.float64).reshape(2))
            scales.append(
                np.asarray(meta['input_scale'], np.float64).reshape(2))
        return np.stack(sizes), np.stack(centers), np.stack(scales)

    def predict(self, inputs: Tensor,
                data_samples: SampleList) -> SampleList:
        """Keypoints in image pixels for each person crop.

        Returns:
            list[PoseDataSample]: the input samples with ``pred_instances``:
            ``keypoints`` ``(1, K, 2)``, ``keypoint_scores`` ``(1, K)``,
            ``bbox_scores`` ``(1, )`` (from ``gt_instances``, else 1) and
            ``bboxes`` ``(1, 4)`` when the sample has one; plus
            ``pred_fields.heatmaps`` ``(K, H, W)`` with
            ``test_cfg.output_heatmaps``.
        """
        if not data_samples or len(data_samples) != len(inputs):
            raise ValueError(
                'TopdownPoseEstimator.predict needs one data sample per '
                f'input crop, got {len(data_samples or [])} for '
                f'{len(inputs)} crops')
        self._check_input_size(inputs)
        heatmaps = self.predict_heatmaps(inputs, data_samples)
        keypoints, scores = self.codec.decode(heatmaps)  # crop pixels
        sizes, centers, scales = self._crop_geometry(data_samples,
                                                     self.codec.input_size)
        keypoints = (keypoints / sizes[:, None] * scales[:, None] +
                     centers[:, None] - scales[:, None] * 0.5)

        for i, sample in enumerate(data_samples):
            gt = sample.get('gt_instances')
            bbox_scores = gt.get('bbox_scores') if gt is not None else None
            pred = InstanceData()
            pred.keypoints = keypoints[i:i + 1].astype(np.float32)
            pred.keypoint_scores = scores[i:i + 1].astype(np.float32)
            pred.bbox_scores = (
                np.ones(1, np.float32) if bbox_scores is None else
                self._to_numpy(bbox_scores).astype(np.float32).reshape(-1)[:1])
            if gt is not None and gt.get('bboxes') is not None:
                pred.bboxes = self._to_numpy(gt.bboxes).astype(
                    np.float32).reshape(-1, 4)[:1]
            sample.pred_instances = pred
            if self.test_cfg.get('output_heatmaps', False):
                sample.pred_fields = PixelData(heatmaps=heatmaps[i].detach())
        return data_samples
