"""Bottom-up pose estimator: whole images in, every person out.

HigherHRNet (Cheng et al., CVPR 2020) with associative embedding (Newell et
al., NeurIPS 2017): the head predicts joint heatmaps at 1/4 and 1/2 of the
input plus one tag map per joint at 1/4; people are formed by grouping joint
candidates whose tags agree
(:class:`~mmpose_plus.codecs.AssociativeEmbedding`).

Heatmap geometry
----------------
Everything at test time - averaging the two resolutions, undoing the flip,
merging test scales and mapping keypoints back to the image - is one affine
resampling per axis, derived from a single convention: heatmap pixel ``u``
of stride ``s`` stands for input-canvas point ``s * (u + pixel_offset)``.

* ``pixel_offset=0`` is what our codec trains (a Gaussian on the *nearest*
  heatmap pixel): pixel ``u`` at 1/4 is input point ``4u``. Maps of two
  resolutions are then aligned by scaling indices (not by ``align_corners``
  in either of its torch meanings), and a horizontal flip ``x -> W - 1 - x``
  lands ``(s - 1) / s`` of a heatmap pixel away from the mirrored array,
  which the resampling corrects exactly.
* ``pixel_offset=0.5`` is the convention of the official HigherHRNet code
  and of mmpose 0.x, whose targets sit on the *floored* heatmap pixel: maps
  are resized with ``align_corners=False``, flipped as arrays and decoded
  keypoints get half a pixel added. Use it for converted official / mmpose
  checkpoints; it reproduces their inference.
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmpose_plus.registry import MODELS
from .base import BasePoseEstimator, SampleList, sample_name

__all__ = ['BottomupPoseEstimator', 'resample_maps']

# Per-axis affine from output pixel index ``v`` to source pixel index
# ``u = a * v + b``.
AxisMap = Tuple[float, float]


def _sample_name(sample, index: int) -> str:
    # A whole image: its annotations' ids would not name it.
    return sample_name(sample, index, keys=('img_id', 'img_path'))


def resample_maps(maps: Tensor, size: Tuple[int, int], map_x: AxisMap,
                  map_y: AxisMap) -> Tensor:
    """Bilinearly resample ``(B, C, h, w)`` maps onto a ``(W, H)`` grid.

    Output pixel ``(vx, vy)`` takes the value of ``maps`` at the (fractional)
    source pixel ``(ax * vx + bx, ay * vy + by)``. Within the area of the
    source pixels (``-0.5 <= u <= n - 0.5``) values beyond the outermost
    pixel centres repeat the edge, as ``F.interpolate`` does; farther out
    (a test scale whose canvas covers less of the image) they are 0, so that
    no response is invented there. Identity and exact mirror maps are
    returned without interpolation.

    Args:
        maps (Tensor): ``(B, C, h, w)``.
        size (tuple): Output ``(W, H)``.
        map_x (tuple): ``(ax, bx)``.
        map_y (tuple): ``(ay, by)``.

    Returns:
        Tensor: ``(B, C, H, W)``.

    Example:
        >>> x = torch.rand(1, 2, 4, 6)
        >>> y = resample_maps(x, (12, 8), (0.5, -0.25), (0.5, -0.25))
        >>> torch.allclose(y, F.interpolate(x, (8, 12), mode='bilinear'))
        True
    """
    W, H = int(size[0]), int(size[1])
    h, w = maps.shape[-2:]
    (ax, bx), (ay, by) = map_x, map_y
    if (W, H) == (w, h) and (ay, by) == (1, 0):
        if (ax, bx) == (1, 0):
            return maps
        if (ax, bx) == (-1, w - 1):
            return maps.flip(-1)

    def positions(a: float, b: float, n_out: int,
                  n_in: int) -> Tuple[Tensor, Tensor]:
        u = torch.arange(n_out, dtype=torch.float64) * a + b
        inside = (u >= -0.5 - 1e-6) & (u <= n_in - 0.5 + 1e-6)
        if n_in == 1:
            return torch.zeros_like(u), inside
        return u * (2. / (n_in - 1)) - 1., inside

    gx, in_x = positions(ax, bx, W, w)
    gy, in_y = positions(ay, by, H, h)
    grid = torch.stack(torch.broadcast_tensors(gx[None, :], gy[:, None]),
                       dim=-1).to(device=maps.device, dtype=maps.dtype)
    out = F.grid_sample(
        maps,
        grid.expand(maps.shape[0], H, W, 2),
        mode='bilinear',
        padding_mode='border',
        align_corners=True)
    if not (in_x.all() and in_y.all()):
        inside = (in_y[:, None] & in_x[None, :]).to(out.device, out.dtype)
        out = out * inside
    return out


@MODELS.register_module()
class BottomupPoseEstimator(BasePoseEstimator):
    """Bottom-up (associative embedding) estimator, e.g. HigherHRNet.

    Training: :meth:`loss` reads the targets that ``GenerateTarget`` (with
    an ``AssociativeEmbedding`` codec) and ``BottomupGetHeatmapMask`` put in
    each data sample - ``gt_fields`` (one ``PixelData`` per resolution with
    ``heatmaps`` ``(K, H_i, W_i)`` and ``heatmap_mask`` ``(1, H_i, W_i)``) and
    ``gt_instance_labels.keypoint_indices`` ``(M, K, 2)`` - and returns the
    head's ``loss_heatmap`` (masked MSE summed over resolutions),
    ``loss_pull`` and ``loss_push`` (tags of the 1/4 output).

    Inference (:meth:`predict`), per image:

    1. per test scale (``BottomupResize(aug_scales=...)`` gives one batch per
       scale, scale 1 first) and per pass (the image and, with flip test,
       its mirror): heatmaps of all resolutions resampled to the largest and
       averaged; tags of the tagged outputs resampled likewise;
    2. all of them resampled onto one decoding grid (the scale-1 input
       canvas with ``project2image``, else its largest heatmap), mirrored
       passes flipped back with ``flip_indices``; heatmaps averaged over
       scales and passes, tags of scale 1 stacked (one tag component per
       pass) - see :func:`~mmpose_plus.codecs.aggregate_flip` /
       :func:`~mmpose_plus.codecs.aggregate_multiscale` for the same
       aggregation without the geometry;
    3. the codec's ``batch_decode`` (NMS, top-k, grouping, adjustment,
       refinement);
    4. grid pixels to canvas pixels ``d * (u + pixel_offset)`` and to the
       image with the sample's ``input_size`` / ``input_scale`` /
       ``input_center``: ``p_img = p / input_size * input_scale +
       input_center - input_scale / 2``.

    Args:
        backbone (dict): Backbone config, e.g. ``dict(type='HRNet',
            arch='w32')``.
        head (dict): Head config, e.g. ``dict(type='AEHigherResolutionHead',
            in_channels=32, num_joints=17)``.
        codec (dict): ``dict(type='AssociativeEmbedding', input_size=(512,
            512), heatmap_size=[(128, 128), (256, 256)], ...)``. Only its
            decoding parameters matter at test time.
        train_cfg (dict, optional): Unused. Defaults to None.
        test_cfg (dict, optional): Options (defaults in
            :attr:`default_test_cfg`):

            - ``flip_test`` (bool, True): average with the mirrored image;
            - ``multiscale_test`` (bool, True): use every scale the pipeline
              provides (False: scale 1 only);
            - ``project2image`` (bool, True): decode on the input canvas
              (HigherHRNet's recipe) instead of the largest heatmap;
            - ``pixel_offset`` (float, 0.0): the heatmap convention above;
              0.5 for official / mmpose 0.x checkpoints;
            - ``output_heatmaps`` (bool, False): also return the aggregated
              ``heatmaps`` and ``tags`` in ``pred_fields``.

    ``neck``, ``data_preprocessor``, ``init_cfg``, ``metainfo`` and
    ``load_official``: as in :class:`BasePoseEstimator`.

    Example:
        >>> model = BottomupPoseEstimator(
        ...     backbone=dict(type='HRNet', arch='w32'),
        ...     head=dict(type='AEHigherResolutionHead', in_channels=32,
        ...               num_joints=17),
        ...     codec=dict(type='AssociativeEmbedding',
        ...                input_size=(512, 512),
        ...                heatmap_size=[(128, 128), (256, 256)])).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 512, 512))]
        [(1, 34, 128, 128), (1, 17, 256, 256)]
        >>> sample = PoseDataSample(metainfo=dict(
        ...     input_size=(512, 512), input_center=np.array([320., 240.]),
        ...     input_scale=np.array([640., 640.]),
        ...     flip_indices=COCO_FLIP_INDICES))
        >>> pred = model.predict(torch.rand(1, 3, 512, 512), [sample])
        >>> pred[0].pred_instances.keypoints.shape[1:]  # (N, K, 2)
        (17, 2)
    """

    default_test_cfg = dict(
        flip_test=True,
        multiscale_test=True,
        project2image=True,
        pixel_offset=0.0,
        output_heatmaps=False)

    required_parts = dict(
        head="dict(type='AEHigherResolutionHead', ...)",
        codec="dict(type='AssociativeEmbedding', ...), to group heatmaps "
        'and tags into people')

    def _validate(self) -> None:
        unknown = sorted(set(self.test_cfg) - set(self.default_test_cfg))
        if unknown:
            raise ValueError(
                f'BottomupPoseEstimator: unknown test_cfg keys {unknown}; '
                f'expected some of {sorted(self.default_test_cfg)}')
        if not hasattr(self.head, 'split_outputs'):
            raise TypeError(
                f'BottomupPoseEstimator: the head {type(self.head).__name__} '
                'must separate heatmaps from tags (split_outputs), as '
                'AEHigherResolutionHead does')

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    @staticmethod
    def _as_levels(value) -> list:
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def _gather_targets(
        self, data_samples: SampleList, num_levels: int,
        device: torch.device
    ) -> Tuple[List[Tensor], List[Optional[Tensor]], Tensor]:
        """Stack per-level heatmaps ``(N, K, H_i, W_i)``, masks ``(N, H_i,
        W_i)`` (None when no sample has one) and ``(N, M, K, 2)``
        keypoint indices."""
        if not data_samples:
            raise ValueError('BottomupPoseEstimator.loss needs one data '
                             'sample per input image')
        heatmaps = [[] for _ in range(num_levels)]
        masks = [[] for _ in range(num_levels)]
        indices = []
        hint = ('add GenerateTarget(encoder=codec) and '
                'BottomupGetHeatmapMask() before PackPoseInputs in the '
                'training pipeline')
        for i, sample in enumerate(data_samples):
            fields = sample.get('gt_fields')
            labels = sample.get('gt_instance_labels')
            if fields is None or labels is None:
                raise KeyError(f'BottomupPoseEstimator.loss: data sample '
                               f'{_sample_name(sample, i)} has no targets; '
                               f'{hint}')
            fields = self._as_levels(fields)
            if len(fields) != num_levels:
                raise ValueError(
                    f'BottomupPoseEstimator.loss: data sample '
                    f'{_sample_name(sample, i)} has target heatmaps at '
                    f'{len(fields)} resolutions but the head has '
                    f'{num_levels} outputs; give the codec one heatmap_size '
                    'per head output')
            for lvl, field in enumerate(fields):
                if 'heatmaps' not in field:
                    raise KeyError(f'BottomupPoseEstimator.loss: data sample '
                                   f'{_sample_name(sample, i)} lacks target '
                                   f'heatmaps at level {lvl}; {hint}')
                heatmaps[lvl].append(torch.as_tensor(field.heatmaps))
                mask = field.get('heatmap_mask')
                masks[lvl].append(None if mask is None else torch.as_tensor(
                    mask).reshape(field.heatmaps.shape[-2:]))
            found = [
                lab.keypoint_indices for lab in self._as_levels(labels)
                if 'keypoint_indices' in lab
            ]
            if not found:
                raise KeyError(f'BottomupPoseEstimator.loss: data sample '
                               f'{_sample_name(sample, i)} lacks '
                               f'keypoint_indices (AE targets); {hint}')
            indices.append(torch.as_tensor(found[0]))

        def stack(items: List[Tensor]) -> Tensor:
            return torch.stack(items).to(device=device, dtype=torch.float32)

        out_masks = []
        for lvl in range(num_levels):
            level = masks[lvl]
            if all(m is None for m in level):
                out_masks.append(None)
                continue
            shape = heatmaps[lvl][0].shape[-2:]
            out_masks.append(
                stack([
                    torch.ones(shape) if m is None else m.float()
                    for m in level
                ]))
        out_heatmaps = [stack(level) for level in heatmaps]
        num_people = max(t.shape[0] for t in indices)
        kpt_indices = torch.zeros((len(indices), num_people) +
                                  tuple(indices[0].shape[1:]),
                                  dtype=torch.long)
        for i, t in enumerate(indices):
            kpt_indices[i, :t.shape[0]] = t.long()
        return out_heatmaps, out_masks, kpt_indices.to(device)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """``loss_heatmap``, ``loss_pull`` and ``loss_push`` of a batch."""
        if not isinstance(inputs, Tensor):
            raise TypeError('BottomupPoseEstimator.loss takes one (N, C, H, '
                            'W) batch; multi-scale inputs are for testing')
        outputs = self.head.forward(self.extract_feat(inputs))
        heatmaps, masks, kpt_indices = self._gather_targets(
            data_samples, len(outputs), inputs.device)
        k = self.head.num_joints
        for lvl, (out, target) in enumerate(zip(outputs, heatmaps)):
            if out.shape[-2:] != target.shape[-2:] or target.shape[1] != k:
                raise ValueError(
                    f'BottomupPoseEstimator: head output {lvl} has {k} '
                    f'heatmaps of {tuple(out.shape[-2:])} but the targets '
                    f'are {tuple(target.shape[1:])}; the codec heatmap_size '
                    'must be the input size divided by each output stride')
        return self.head.loss_by_feat(outputs, heatmaps, masks, kpt_indices)

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def _scale_batches(self, inputs: Union[Tensor, Sequence[Tensor]],
                       data_samples: SampleList
                       ) -> Tuple[List[Tensor], List[float]]:
        """One batch per test scale, scale 1 first, and the scales."""
        if isinstance(inputs, Tensor):
            return [inputs], [1.]
        batches = list(inputs)
        if not self.test_cfg['multiscale_test']:
            return batches[:1], [1.]
        aug_scales = data_samples[0].metainfo.get('aug_scales') or []
        if len(aug_scales) != len(batches) - 1:
            raise ValueError(
                f'BottomupPoseEstimator: got images at {len(batches)} scales '
                f'but the data samples list aug_scales={aug_scales}; '
                'multi-scale inputs come from BottomupResize(aug_scales=...) '
                'with "aug_scales" kept in PackPoseInputs meta_keys')
        if len(batches) > 1:
            shapes = {
                tuple(s.metainfo.get('ori_shape', ())) for s in data_samples
            }
            if len(shapes) > 1:
                raise ValueError(
                    'BottomupPoseEstimator: multi-scale test needs images of '
                    f'one size per batch (got {sorted(shapes)}); use '
                    'batch_size=1 in the test dataloader')
        return batches, [1.] + [float(s) for s in aug_scales]

    def _merge_levels(self, outputs: Sequence[Tensor], canvas: Tuple[int, int]
                      ) -> Tuple[Tensor, Optional[Tensor], Tuple[float,
                                                                 float]]:
        """Heatmaps of all outputs averaged on the largest output's grid,
        tags of the tagged outputs on that grid, and that grid's stride."""
        heatmaps, tags = self.head.split_outputs(outputs)
        target = max(range(len(heatmaps)),
                     key=lambda i: heatmaps[i].shape[-1] *
                     heatmaps[i].shape[-2])
        th, tw = heatmaps[target].shape[-2:]
        cw, ch = canvas
        o = float(self.test_cfg['pixel_offset'])

        def to_target(maps: Tensor) -> Tensor:
            h, w = maps.shape[-2:]
            # target pixel v -> canvas (cw / tw) * (v + o) -> this map
            ax, ay = (cw / tw) / (cw / w), (ch / th) / (ch / h)
            return resample_maps(maps, (tw, th), (ax, o * ax - o),
                                 (ay, o * ay - o))

        merged = sum(to_target(h) for h in heatmaps) / len(heatmaps)
        tag_maps = [to_target(t) for t in tags if t is not None]
        return (merged, torch.cat(tag_maps, dim=1) if tag_maps else None,
                (cw / tw, ch / th))

    def _axis_to_grid(self, grid_stride: float, map_stride: float,
                      zoom: float, base_centre: float, scale_centre: float,
                      mirror_width: Optional[int]) -> AxisMap:
        """Affine from a decoding-grid pixel to a pixel of one scale's map.

        grid pixel v -> base canvas x = d (v + o) -> this scale's canvas
        zoom (x - C_base) + C_scale -> (mirrored: W - 1 + 2o - x) -> map
        pixel x / s - o.
        """
        o = float(self.test_cfg['pixel_offset'])
        d, s = grid_stride, map_stride
        a = d * zoom
        b = zoom * (d * o - base_centre) + scale_centre
        if mirror_width is not None:
            # the mirror axis of a flip x -> W - 1 - x in this convention
            a, b = -a, (mirror_width - 1 + 2 * o) - b
        return a / s, b / s - o

    def predict_maps(self, inputs: Union[Tensor, Sequence[Tensor]],
                     data_samples: SampleList
                     ) -> Tuple[Tensor, Tensor, Tuple[float, float]]:
        """Aggregated heatmaps ``(N, K, H, W)`` and tags ``(N, L * K, H, W)``
        on the decoding grid, and the grid's stride ``(dx, dy)`` in input
        pixels (1 with ``project2image``)."""
        batches, scales = self._scale_batches(inputs, data_samples)
        flip = self.test_cfg['flip_test']
        flip_indices = (
            torch.as_tensor(self.get_flip_indices(data_samples),
                            device=batches[0].device) if flip else None)
        base = batches[0]
        bh, bw = base.shape[-2:]
        # centre of the scale-1 canvas (what BottomupResize maps the image
        # centre to); the same for all samples when several scales are used
        meta = data_samples[0].metainfo if data_samples else {}
        in_w, in_h = meta.get('input_size', (bw, bh))
        base_centre = (in_w / 2., in_h / 2.)

        heat_sum, tag_list = 0., []
        grid_size, grid_stride = None, None
        num_terms = 0
        for scale_idx, (scale, x) in enumerate(zip(scales, batches)):
            n = x.shape[0]
            both = torch.cat([x, x.flip(-1)]) if flip else x
            outputs = self._forward(both)
            if not isinstance(outputs, (list, tuple)):
                outputs = [outputs]
            canvas = (x.shape[-1], x.shape[-2])
            heat, tags, stride = self._merge_levels(outputs, canvas)
            if grid_size is None:
                if self.test_cfg['project2image']:
                    grid_size, grid_stride = (bw, bh), (1., 1.)
                else:
                    grid_size = (heat.shape[-1], heat.shape[-2])
                    grid_stride = stride
            if scale == 1.:
                zoom, scale_centre = 1., base_centre
            else:
                # BottomupResize zooms scale s exactly s times scale 1 when
                # s * input_size is a multiple of its size_factor (true for
                # the published 2 and 0.5 of 512 / 640 with factor 64); each
                # canvas is centred on the image centre

                zoom, scale_centre = scale, (canvas[0] / 2., canvas[1] / 2.)
            for p, mirrored in enumerate([False, True] if flip else [False]):
                part = slice(p * n, (p + 1) * n)
                h_p = heat[part]
                t_p = tags[part] if tags is not None else None
                if mirrored:
                    h_p = h_p[:, flip_indices]
                    if t_p is not None and t_p.shape[1] % len(
                            flip_indices) == 0 and self.head.tag_per_joint:
                        k = len(flip_indices)
                        perm = torch.cat([
                            flip_indices + k * j
                            for j in range(t_p.shape[1] // k)
                        ])
                        t_p = t_p[:, perm]
                axes = [
                    self._axis_to_grid(grid_stride[i], stride[i], zoom,
                                       base_centre[i], scale_centre[i],
                                       canvas[0] if mirrored and i == 0 else
                                       None) for i in (0, 1)
                ]
                heat_sum = heat_sum + resample_maps(h_p, grid_size, *axes)
                num_terms += 1
                # tags of scale 1 only (the HigherHRNet recipe)
                if scale_idx == 0 and t_p is not None:
                    tag_list.append(resample_maps(t_p, grid_size, *axes))
        if not tag_list:
            raise ValueError('BottomupPoseEstimator: the head produced no '
                             'tag maps (with_ae_loss is False everywhere)')
        return heat_sum / num_terms, torch.cat(tag_list, dim=1), grid_stride

    @staticmethod
    def _image_geometry(sample, index: int,
                        default_size: Tuple[int, int]) -> Tuple[np.ndarray,
                                                                ...]:
        meta = sample.metainfo
        missing = [k for k in ('input_center', 'input_scale') if k not in meta]
        if missing:
            raise KeyError(
                f'BottomupPoseEstimator.predict: data sample '
                f'{_sample_name(sample, index)} lacks {missing}, needed to '
                'map keypoints back to the image (run BottomupResize in the '
                'test pipeline and keep its keys in PackPoseInputs)')
        size = np.asarray(meta.get('input_size', default_size),
                          np.float64).reshape(2)
        return (size, np.asarray(meta['input_center'],
                                 np.float64).reshape(2),
                np.asarray(meta['input_scale'], np.float64).reshape(2))

    def predict(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: SampleList) -> SampleList:
        """People in image pixels for each image.

        Args:
            inputs (Tensor | list[Tensor]): ``(N, C, H, W)`` or one such
                batch per test scale (scale 1 first).
            data_samples (list[PoseDataSample]): With ``input_size``,
                ``input_center``, ``input_scale`` (and ``flip_indices`` for
                flip test, ``aug_scales`` for multi-scale test) in metainfo.

        Returns:
            list[PoseDataSample]: the samples with ``pred_instances``:
            ``keypoints`` ``(P, K, 2)``, ``keypoint_scores`` ``(P, K)`` and
            ``bbox_scores`` ``(P, )`` (the person score: mean score of the
            grouped joints); with ``test_cfg.output_heatmaps`` also
            ``pred_fields`` with ``heatmaps`` and ``tags`` on the decoding
            grid.
        """
        first = inputs if isinstance(inputs, Tensor) else inputs[0]
        if not data_samples or len(data_samples) != len(first):
            raise ValueError(
                'BottomupPoseEstimator.predict needs one data sample per '
                f'image, got {len(data_samples or [])} for {len(first)}')
        heatmaps, tags, (dx, dy) = self.predict_maps(inputs, data_samples)
        kpts, kpt_scores, inst_scores = self.codec.batch_decode(heatmaps,
                                                                tags)
        grid_h, grid_w = heatmaps.shape[-2:]
        # batch_decode scales grid pixels by codec.input_size / grid size;
        # undo it: the canvas here is the test image's, not the codec's
        to_grid = np.array([grid_w, grid_h], np.float64) / np.asarray(
            self.codec.input_size, np.float64)
        offset = float(self.test_cfg['pixel_offset'])
        stride = np.array([dx, dy], np.float64)
        default_size = (first.shape[-1], first.shape[-2])
        for i, sample in enumerate(data_samples):
            size, center, scale = self._image_geometry(sample, i, default_size)
            canvas = (kpts[i].astype(np.float64) * to_grid + offset) * stride
            image = canvas / size * scale + center - scale * 0.5
            pred = InstanceData()
            pred.keypoints = image.astype(np.float32)
            pred.keypoint_scores = kpt_scores[i].astype(np.float32)
            pred.bbox_scores = inst_scores[i].astype(np.float32).reshape(-1)
            sample.pred_instances = pred
            if self.test_cfg['output_heatmaps']:
                sample.pred_fields = PixelData(
                    heatmaps=heatmaps[i].detach(), tags=tags[i].detach())
        return data_samples

    def switch_to_deploy(self) -> 'BottomupPoseEstimator':
        """Copy of the model with one forward pass per image (no flip, one
        scale), e.g. for a graph export."""
        model = copy.deepcopy(self)
        model.test_cfg['flip_test'] = False
        model.test_cfg['multiscale_test'] = False
        return model
