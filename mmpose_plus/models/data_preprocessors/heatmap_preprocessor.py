"""Pseudo-heatmap volumes rendered on the model's device.

:func:`render_heatmaps_torch` is the batched torch twin of
:func:`mmpose_plus.datasets.transforms.heatmap_rendering.render_pose_heatmaps`
(same rules, maps equal within 1e-5) and runs on any device.
:class:`HeatmapDataPreprocessor` uses it so that the data pipeline ships
keypoint packets (kilobytes, made by
:class:`~mmpose_plus.datasets.transforms.PackPoseKeypoints`) instead of
heatmap volumes (megabytes per sample).

Switching a PoseC3D config to device rendering (the rendering arguments
move from the pipelines to the model)::

    train_pipeline = [
        ...,  # UniformSampleFrames ... Flip, unchanged
        dict(type='PackPoseKeypoints'),  # replaces GeneratePoseTarget,
    ]                                    # FormatShape, PackActionInputs
    test_pipeline = [
        ...,
        dict(type='PackPoseKeypoints', double=True),  # flip-averaged test
    ]
    model = dict(
        data_preprocessor=dict(type='HeatmapDataPreprocessor', sigma=0.6),
        ...)

For RGBPoseConv3D, keep ``FormatShape('NCTHW')`` (it formats the RGB
frames), end the pipeline with
``PackPoseKeypoints(collect_keys=('imgs', 'heatmap_imgs'))`` and give the
``heatmap_imgs`` modality of ``MultiModalDataPreprocessor`` the type
``HeatmapDataPreprocessor``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmaction.models.data_preprocessors import ActionDataPreprocessor
from torch import Tensor

from mmpose_plus.datasets.transforms.heatmap_rendering import (
    COCO_LEFT_KP, COCO_LEFT_LIMB, COCO_RIGHT_KP, COCO_RIGHT_LIMB,
    COCO_SKELETON, MAX_COORD, SCORE_EPS, PoseTargetOptions, heatmap_canvas)
from mmpose_plus.registry import MODELS

__all__ = ['render_heatmaps_torch', 'HeatmapDataPreprocessor']


def _joint_values(keypoints: Tensor, scores: Optional[Tensor],
                  eps: float) -> Tuple[Tensor, Tensor]:
    """Float32 coordinates and values; absent joints get value 0, xy 0."""
    coords = keypoints[..., :2].float()
    finite = torch.isfinite(coords[..., 0]) & torch.isfinite(coords[..., 1])
    if scores is None:
        values = finite.float()
    else:
        if scores.shape != coords.shape[:-1]:
            raise ValueError('scores must have shape '
                             f'{tuple(coords.shape[:-1])}, got '
                             f'{tuple(scores.shape)}')
        keep = finite & torch.isfinite(scores) & (scores >= eps)
        values = torch.where(keep, scores, torch.zeros_like(scores)).float()
    coords = torch.where(finite[..., None], coords, torch.zeros_like(coords))
    return coords.clamp(-MAX_COORD, MAX_COORD), values


def _windows(lo_c: Tensor, hi_c: Tensor, size: Tensor,
             radius: Tensor) -> Tuple[Tensor, Tensor]:
    """Pixel range ``[lo, hi)``: truncate toward zero, clip to ``[0, size]``.

    ``size`` is a float32 tensor broadcastable to the centres.
    """
    lo = torch.minimum((lo_c - radius).clamp(min=0), size).long()
    hi = torch.minimum((hi_c + radius).clamp(min=-1), size).long() + 1
    return lo, torch.minimum(hi, size.long())


def _plane_index(batch: Tensor, frame: Tensor, channel: Tensor,
                 shape: Tuple[int, int, int], channels_first: bool) -> Tensor:
    """Index of the ``(H, W)`` plane of ``(batch, frame, channel)``."""
    num_frames, num_channels, _ = shape
    if channels_first:
        return (batch * num_channels + channel) * num_frames + frame
    return (batch * num_frames + frame) * num_channels + channel


def _draw_keypoints(flat: Tensor, out_shape: Tuple[int, ...],
                    channel_offset: int, coords: Tensor, values: Tensor,
                    sizes: Tensor, sigma: float, channels_first: bool) -> None:
    """Max-draw keypoint gaussians of ``(B, M, T, V)`` joints into ``flat``."""
    num_frames, num_channels, height, width = out_shape
    _, num_person, _, num_joints = values.shape
    joint = torch.nonzero(values.reshape(-1) > 0).squeeze(1)
    if joint.numel() == 0:
        return
    b = joint // (num_person * num_frames * num_joints)
    t = (joint // num_joints) % num_frames
    v = joint % num_joints
    centre = coords.reshape(-1, 2)[joint].T  # (2, A): x row, y row
    size = sizes[b].T.float()  # per-sample (W, H), (2, A)
    radius = torch.tensor(3 * sigma, dtype=torch.float32, device=flat.device)
    lo, hi = _windows(centre, centre, size, radius)

    # Fixed kx x ky window per joint, shifted inside the canvas so that the
    # pixels of one joint are distinct; pixels outside [lo, hi) get 0.
    kx, ky = (int(k) for k in (hi - lo).amax(1).tolist())
    if kx <= 0 or ky <= 0:
        return
    canvas = torch.tensor([[width - kx], [height - ky]], device=flat.device)
    start = torch.minimum(lo, canvas)
    pos = start[:, None, :] + torch.arange(max(kx, ky),
                                           device=flat.device)[:, None]
    prof = pos.float() - centre[:, None, :]
    prof = torch.exp(prof * prof * (-0.5 / sigma**2))
    prof = prof * ((pos >= lo[:, None, :]) & (pos < hi[:, None, :]))
    xs, gx = pos[0, :kx], prof[0, :kx]
    ys, gy = pos[1, :ky], prof[1, :ky] * values.reshape(-1)[joint]
    plane = _plane_index(b, t, v + channel_offset,
                         (num_frames, num_channels, height), channels_first)
    rows = (plane * height + ys) * width  # (ky, A)
    patch = (gy[:, None, :] * gx[None, :, :]).reshape(-1)
    index = (rows[:, None, :] + xs[None, :, :]).reshape(-1)
    flat.scatter_reduce_(0, index, patch, reduce='amax', include_self=True)


def _ragged_pixels(lox: Tensor, loy: Tensor, w: Tensor,
                   h: Tensor) -> Tuple[Tensor, Tensor]:
    """``(x, y)`` of every pixel of every window, window after window."""
    num_rows = int(h.sum())
    row_y = torch.repeat_interleave(loy - (torch.cumsum(h, 0) - h),
                                    h,
                                    output_size=num_rows)
    row_y = row_y + torch.arange(num_rows, device=h.device)
    row_w = torch.repeat_interleave(w, h, output_size=num_rows)
    row_x = torch.repeat_interleave(lox, h, output_size=num_rows)
    row_x = row_x - (torch.cumsum(row_w, 0) - row_w)
    num_pixels = int(row_w.sum())
    xs = torch.repeat_interleave(row_x, row_w, output_size=num_pixels)
    xs = xs + torch.arange(num_pixels, device=h.device)
    ys = torch.repeat_interleave(row_y, row_w, output_size=num_pixels)
    return xs, ys


def _draw_limbs(flat: Tensor, out_shape: Tuple[int, ...], channel_offset: int,
                coords: Tensor, values: Tensor, sizes: Tensor,
                skeleton: Tensor, sigma: float, channels_first: bool) -> None:
    """Max-draw limb maps of ``(B, M, T)`` skeletons into ``flat``."""
    num_frames, num_channels, height, width = out_shape
    a_idx, b_idx = skeleton[:, 0], skeleton[:, 1]
    sv, ev = values[..., a_idx], values[..., b_idx]  # (B, M, T, L)
    sx, sy = coords[..., a_idx, 0], coords[..., a_idx, 1]
    ex, ey = coords[..., b_idx, 0], coords[..., b_idx, 1]
    d2ab = (sx - ex)**2 + (sy - ey)**2
    value = torch.minimum(sv, ev)
    present = value > 0
    # A limb shorter than a pixel is the start joint's gaussian with the
    # start joint's value: collapse it onto its start point.
    short = d2ab < 1
    value = torch.where(short, sv, value)
    ex, ey = torch.where(short, sx, ex), torch.where(short, sy, ey)
    d2ab = torch.where(short, torch.ones_like(d2ab), d2ab)

    limb = torch.nonzero(present.reshape(-1)).squeeze(1)
    if limb.numel() == 0:
        return
    num_limbs = skeleton.shape[0]
    num_person = values.shape[1]
    b = limb // (num_person * num_frames * num_limbs)
    t = (limb // num_limbs) % num_frames
    k = limb % num_limbs
    sx, sy, ex, ey, d2ab, value = (arr.reshape(-1)[limb]
                                   for arr in (sx, sy, ex, ey, d2ab, value))
    size = sizes[b].float()
    radius = torch.tensor(3 * sigma, dtype=torch.float32, device=flat.device)
    lox, hix = _windows(torch.minimum(sx, ex), torch.maximum(sx, ex),
                        size[:, 0], radius)
    loy, hiy = _windows(torch.minimum(sy, ey), torch.maximum(sy, ey),
                        size[:, 1], radius)
    w, h = (hix - lox).clamp(min=0), (hiy - loy).clamp(min=0)
    n = w * h
    xs, ys = _ragged_pixels(lox, loy, w, h)
    if xs.numel() == 0:
        return
    total = xs.numel()

    def per_pixel(arr):
        return torch.repeat_interleave(arr, n, output_size=total)

    lsx, lsy, lex, ley, ld2 = map(per_pixel, (sx, sy, ex, ey, d2ab))
    px, py = xs.float(), ys.float()
    d2s = (px - lsx)**2 + (py - lsy)**2
    d2e = (px - lex)**2 + (py - ley)**2
    # The reference's projection coefficient, clamped to the segment.
    coeff = ((d2s - d2e + ld2) / 2. / ld2).clamp(0, 1)
    d2 = (px - (lsx + coeff * (lex - lsx)))**2 + (py - (lsy + coeff *
                                                        (ley - lsy)))**2
    patch = torch.exp(d2 / (-2 * sigma**2)) * per_pixel(value)
    plane = _plane_index(b, t, k + channel_offset,
                         (num_frames, num_channels, height), channels_first)
    index = (per_pixel(plane) * height + ys) * width + xs
    flat.scatter_reduce_(0, index, patch, reduce='amax', include_self=True)


def _zeros(shape: Tuple[int, ...], device: torch.device) -> Tensor:
    """A zero float32 tensor; on the CPU backed by numpy memory.

    numpy asks the kernel for transparent huge pages for large arrays and
    torch's CPU allocator does not: page-faulting a fresh 160 MB batch in
    4 KB pages cost more than rendering it (90 ms against 25 ms).
    """
    if device.type == 'cpu':
        return torch.from_numpy(np.zeros(shape, np.float32))
    return torch.zeros(shape, dtype=torch.float32, device=device)


def render_heatmaps_torch(keypoints: Tensor,
                          scores: Optional[Tensor],
                          img_hw: Union[Sequence[int], Tensor],
                          sigma: float = 0.6,
                          with_kp: bool = True,
                          with_limb: bool = False,
                          skeleton: Sequence[Sequence[int]] = COCO_SKELETON,
                          eps: float = SCORE_EPS,
                          channels_first: bool = False) -> Tensor:
    """Render heatmap volumes for a batch of clips on their device.

    Follows the rules of ``render_pose_heatmaps`` in
    :mod:`mmpose_plus.datasets.transforms.heatmap_rendering` (mmaction2's
    ``GeneratePoseTarget`` maps, non-finite joints absent).

    Args:
        keypoints (Tensor): ``(B, M, T, V, 2)`` in heatmap pixels (extra
            trailing columns are ignored).
        scores (Tensor, optional): ``(B, M, T, V)`` joint values; None draws
            every joint with finite coordinates with value 1.
        img_hw (Sequence[int] | Tensor): Canvas ``(H, W)`` for all clips,
            or ``(B, 2)`` per-clip sizes: each clip is drawn on its own size
            and zero-padded at the bottom/right to the largest one.
        sigma (float): Gaussian sigma in heatmap pixels.
        with_kp (bool): Render V keypoint channels.
        with_limb (bool): Render ``len(skeleton)`` limb channels (after the
            keypoint channels when both are on).
        skeleton (Sequence): Limbs as joint index pairs.
        eps (float): Values below this are not drawn.
        channels_first (bool): Return ``(B, C, T, H, W)`` (the layout 3D
            CNNs take) instead of ``(B, T, C, H, W)``.

    Returns:
        Tensor: float32 volumes on the device of ``keypoints``.

    Example:
        >>> kp = torch.rand(4, 2, 48, 17, 2) * 56
        >>> render_heatmaps_torch(kp, None, (56, 56)).shape
        torch.Size([4, 48, 17, 56, 56])
    """
    if not (with_kp or with_limb):
        raise ValueError('at least one of with_kp and with_limb must be True')
    if keypoints.dim() != 5 or keypoints.shape[-1] < 2:
        raise ValueError('keypoints must have shape (B, M, T, V, 2), got '
                         f'{tuple(keypoints.shape)}')
    device = keypoints.device
    batch, _, num_frames, num_joints = keypoints.shape[:4]
    sizes = torch.as_tensor(img_hw, device=device).long()
    if sizes.shape == (2, ):
        sizes = sizes.expand(batch, 2)
    if sizes.shape != (batch, 2) or bool((sizes < 0).any()):
        raise ValueError('img_hw must be (H, W) or one (H, W) per clip, got '
                         f'{tuple(sizes.shape)}')
    height, width = sizes.amax(0).tolist() if batch else (0, 0)
    sizes = sizes.flip(1)  # (W, H): x first, like the coordinates
    skel = torch.as_tensor(skeleton, dtype=torch.long,
                           device=device).reshape(-1, 2)
    if with_limb and skel.numel() and not (0 <= int(skel.min())
                                           and int(skel.max()) < num_joints):
        raise ValueError(f'skeleton refers to joints outside [0, '
                         f'{num_joints}): {skeleton}')
    num_channels = (num_joints if with_kp else 0) + (skel.shape[0]
                                                     if with_limb else 0)
    shape = ((batch, num_channels, num_frames, height,
              width) if channels_first else
             (batch, num_frames, num_channels, height, width))
    out = _zeros(shape, device)
    if out.numel() == 0 or keypoints.shape[1] == 0:
        return out
    coords, values = _joint_values(keypoints, scores, eps)
    flat = out.view(-1)
    out_shape = (num_frames, num_channels, height, width)
    if with_kp:
        _draw_keypoints(flat, out_shape, 0, coords, values, sizes, sigma,
                        channels_first)
    if with_limb and skel.numel():
        _draw_limbs(flat, out_shape, num_joints if with_kp else 0, coords,
                    values, sizes, skel, sigma, channels_first)
    return out


@MODELS.register_module()
class HeatmapDataPreprocessor(PoseTargetOptions, ActionDataPreprocessor):
    """Render pose heatmap volumes from keypoint packets on the device.

    Takes the packets of :class:`~mmpose_plus.datasets.transforms.
    PackPoseKeypoints` (per sample ``(num_clips, M, T, V, 3)`` float32
    ``[x, y, score]`` in image pixels, plus ``img_shape`` in the sample's
    metainfo) and returns what ``GeneratePoseTarget`` + ``FormatShape(
    'NCTHW_Heatmap')`` + ``ActionDataPreprocessor`` would have given:
    ``(B, num_clips, C, T, H, W)``, or ``(B, 2 * num_clips, ...)`` when
    doubling (the flipped clips after the originals). Doubling happens when
    ``double`` is set here, or for batches packed by
    ``PackPoseKeypoints(double=True)`` (the test pipeline's switch, as with
    ``GeneratePoseTarget(double=True)``). Samples with fewer
    persons are padded with absent persons; samples of different sizes are
    zero-padded at the bottom/right like ``stack_batch`` does.

    Works alone (skeleton-only recognizers, ``Recognizer3D``) and as the
    ``heatmap_imgs`` member of mmaction2's ``MultiModalDataPreprocessor``.

    Args:
        sigma, use_score, with_kp, with_limb, skeletons, left_kp,
        right_kp, left_limb, right_limb, scaling: as in
            :class:`~mmpose_plus.datasets.transforms.GeneratePoseTarget`.
        double (bool): Double every batch, training included. Usually left
            False and requested by the test pipeline. Defaults to False.
        blending (dict, optional): Batch blending config, as in
            ``ActionDataPreprocessor``. Defaults to None.

    Example:
        >>> from mmaction.structures import ActionDataSample
        >>> pre = HeatmapDataPreprocessor(sigma=0.6)
        >>> packet = torch.rand(1, 2, 48, 17, 3) * 56
        >>> sample = ActionDataSample(metainfo=dict(img_shape=(56, 56)))
        >>> out = pre(dict(inputs=[packet], data_samples=[sample]))
        >>> out['inputs'].shape
        torch.Size([1, 1, 17, 48, 56, 56])
    """

    def __init__(self,
                 sigma: float = 0.6,
                 use_score: bool = True,
                 with_kp: bool = True,
                 with_limb: bool = False,
                 skeletons: Sequence[Sequence[int]] = COCO_SKELETON,
                 double: bool = False,
                 left_kp: Sequence[int] = COCO_LEFT_KP,
                 right_kp: Sequence[int] = COCO_RIGHT_KP,
                 left_limb: Sequence[int] = COCO_LEFT_LIMB,
                 right_limb: Sequence[int] = COCO_RIGHT_LIMB,
                 scaling: float = 1.,
                 blending: Optional[dict] = None) -> None:
        super().__init__(format_shape='NCTHW', blending=blending)
        self._set_target_options(sigma, use_score, with_kp, with_limb,
                                 skeletons, double, left_kp, right_kp,
                                 left_limb, right_limb, scaling)

    def _stack_packets(self, inputs: Union[Tensor, List[Tensor]]) -> Tensor:
        """``(B, num_clips, M_max, T, V, 3)``; missing persons get NaN xy."""
        packets = list(inputs)
        if not packets:
            raise ValueError('HeatmapDataPreprocessor got an empty batch')
        for i, packet in enumerate(packets):
            if packet.dim() != 5 or packet.shape[-1] != 3:
                raise ValueError(
                    f'HeatmapDataPreprocessor: sample {i} is not a keypoint '
                    'packet (num_clips, M, T, V, 3) but has shape '
                    f'{tuple(packet.shape)}; end the pipeline with '
                    'PackPoseKeypoints, or use ActionDataPreprocessor for '
                    'heatmaps rendered in the pipeline')
        layout = {(p.shape[0], p.shape[2], p.shape[3]) for p in packets}
        if len(layout) != 1:
            raise ValueError('HeatmapDataPreprocessor: samples differ in '
                             f'(num_clips, T, V): {sorted(layout)}')
        max_person = max(p.shape[1] for p in packets)
        first = packets[0]
        batch = first.new_zeros((len(packets), first.shape[0], max_person) +
                                tuple(first.shape[2:]),
                                dtype=torch.float32)
        batch[..., :2] = float('nan')
        for i, packet in enumerate(packets):
            batch[i, :, :packet.shape[1]] = packet
        return batch

    def _read_meta(self, data_samples,
                   batch_size: int) -> Tuple[List[tuple], bool]:
        """Per-sample heatmap sizes and whether the batch is doubled."""
        if data_samples is None or len(data_samples) != batch_size:
            raise ValueError('HeatmapDataPreprocessor needs one data sample '
                             'per input, with img_shape in its metainfo')
        sizes, doubles = [], set()
        for i, sample in enumerate(data_samples):
            img_shape = sample.metainfo.get('img_shape')
            if img_shape is None:
                raise ValueError(
                    f'HeatmapDataPreprocessor: sample {i} has no img_shape '
                    'in its metainfo (PackPoseKeypoints adds it)')
            sizes.append(heatmap_canvas(img_shape, self.scaling))
            doubles.add(bool(sample.metainfo.get('heatmap_double', False)))
        if len(doubles) > 1:
            raise ValueError('HeatmapDataPreprocessor: a batch mixes samples '
                             'packed with and without double=True')
        return sizes, self.double or doubles.pop()

    def render(self,
               packets: Tensor,
               canvas: Sequence[tuple],
               double: bool = False) -> Tensor:
        """Heatmaps ``(B, [2 *] num_clips, C, T, H, W)`` from packets."""
        batch, num_clips = packets.shape[:2]
        kps = packets[..., :2] * self.scaling
        scores = packets[..., 2] if self.use_score else None
        sizes = torch.tensor(canvas, device=packets.device)
        sizes = sizes.repeat_interleave(num_clips, 0)
        heat = render_heatmaps_torch(
            kps.flatten(0, 1),
            None if scores is None else scores.flatten(0, 1),
            sizes,
            sigma=self.sigma,
            with_kp=self.with_kp,
            with_limb=self.with_limb,
            skeleton=self.skeletons,
            channels_first=True)
        heat = heat.view((batch, num_clips) + heat.shape[1:])
        if double:
            flip = self.flip_channels(packets.shape[4])
            flip = torch.as_tensor(flip, device=heat.device)
            heat = torch.cat([heat, heat.flip(-1).index_select(2, flip)], 1)
        return heat

    def preprocess(self,
                   inputs: Union[Tensor, List[Tensor]],
                   data_samples: Optional[list],
                   training: bool = False) -> Tuple[Tensor, Optional[list]]:
        """Render the batch; then blending as ``ActionDataPreprocessor``."""
        packets = self._stack_packets(inputs)
        canvas, double = self._read_meta(data_samples, packets.shape[0])
        heat = self.render(packets, canvas, double)
        if training and self.blending is not None:
            heat, data_samples = self.blending(heat, data_samples)
        return heat, data_samples
