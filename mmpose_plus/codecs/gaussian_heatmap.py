"""Gaussian keypoint heatmaps of SimpleBaseline / HRNet ("MSRA" heatmaps).

Coordinate convention: heatmap pixel ``(u, v)`` sits at input-image point
``(u * sx, v * sy)`` with ``(sx, sy) = input_size / heatmap_size``. A
keypoint is drawn as an unnormalised Gaussian (peak 1) centred on the nearest
heatmap pixel and cut to a square window of radius ``int(3 * sigma)``.

Decoding takes the arg-max of each map and refines it either by a quarter
pixel towards the higher neighbour (SimpleBaseline) or by DARK (Zhang et al.,
"Distribution-Aware Coordinate Representation for Human Pose Estimation",
CVPR 2020): blur the map with a Gaussian, take its log and move to the
maximum of the second-order Taylor expansion around the arg-max.

All functions are plain numpy (torch tensors are accepted as input) so that
the data pipeline, the heads and the benchmarks can share them.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from scipy.ndimage import convolve1d

from mmpose_plus.registry import KEYPOINT_CODECS

__all__ = [
    'encode_gaussian_heatmaps', 'decode_heatmaps', 'flip_heatmaps',
    'dark_kernel_size', 'MSRAHeatmap'
]

ArrayLike = Union[np.ndarray, torch.Tensor]
REFINE_MODES = ('quarter', 'dark', None)


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def _check_keypoints(
        keypoints: np.ndarray,
        visible: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Validate ``(N, K, >=2)`` keypoints and ``(N, K)`` visibility."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[-1] < 2:
        raise ValueError('keypoints must have shape (N, K, 2), got '
                         f'{keypoints.shape}')
    keypoints = keypoints[..., :2]
    if visible is None:
        visible = np.ones(keypoints.shape[:2], dtype=np.float32)
    visible = np.asarray(visible, dtype=np.float32)
    if visible.shape != keypoints.shape[:2]:
        raise ValueError(f'visible has shape {visible.shape} but keypoints '
                         f'have (N, K) = {keypoints.shape[:2]}')
    if not np.isfinite(keypoints[visible > 0.5]).all():
        raise ValueError('visible keypoints contain NaN or inf coordinates')
    return keypoints, visible


def _check_size(size: Sequence[int], name: str) -> Tuple[int, int]:
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f'{name} must be a positive (W, H) pair, got {size}')
    return int(size[0]), int(size[1])


def encode_gaussian_heatmaps(
        keypoints: np.ndarray,
        visible: Optional[np.ndarray],
        heatmap_size: Tuple[int, int],
        sigma: float = 2.0) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one Gaussian heatmap per keypoint type.

    Overlapping instances are merged with an element-wise maximum, so a
    multi-person image keeps a peak of 1 at every visible joint.

    Args:
        keypoints (np.ndarray): ``(N, K, 2)`` coordinates in heatmap pixels.
        visible (np.ndarray, optional): ``(N, K)`` visibility; joints with
            ``visible <= 0.5`` are not drawn. ``None`` means all visible.
        heatmap_size (tuple): ``(W, H)``.
        sigma (float): Gaussian standard deviation in heatmap pixels.

    Returns:
        tuple: ``heatmaps`` ``(K, H, W)`` float32 and ``target_weight``
        ``(N, K)`` float32, 1 for a drawn joint and 0 for an invisible one or
        one whose whole window falls outside the heatmap.

    Example:
        >>> hm, w = encode_gaussian_heatmaps(np.array([[[10., 5.]]]), None,
        ...                                  (48, 64), sigma=2)
        >>> hm.shape, w.shape, float(hm[0, 5, 10])
        ((1, 64, 48), (1, 1), 1.0)
    """
    keypoints, visible = _check_keypoints(keypoints, visible)
    W, H = _check_size(heatmap_size, 'heatmap_size')
    if sigma <= 0:
        raise ValueError(f'sigma must be positive, got {sigma}')
    N, K = keypoints.shape[:2]
    heatmaps = np.zeros((K, H, W), dtype=np.float32)
    weights = np.zeros((N, K), dtype=np.float32)

    radius = int(3 * sigma)
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    g1d = np.exp(-offsets**2 / (2 * sigma**2))
    patch = g1d[:, None] * g1d[None, :]
    patch /= patch[radius, radius]  # exact peak of 1

    centres = np.floor(np.nan_to_num(keypoints) + 0.5).astype(np.int64)
    for n, k in zip(*np.nonzero(visible > 0.5)):
        cx, cy = centres[n, k]
        x0, x1 = cx - radius, cx + radius + 1  # window, end exclusive
        y0, y1 = cy - radius, cy + radius + 1
        # Weight 0 only when nothing of the window lands on the map (the
        # reference tests ``br < 0``, which keeps weight 1 for a window that
        # ends exactly at column -1, i.e. an empty target).
        if x0 >= W or y0 >= H or x1 <= 0 or y1 <= 0:
            continue
        weights[n, k] = 1.
        hx0, hx1 = max(x0, 0), min(x1, W)
        hy0, hy1 = max(y0, 0), min(y1, H)
        region = heatmaps[k, hy0:hy1, hx0:hx1]
        np.maximum(region,
                   patch[hy0 - y0:hy1 - y0, hx0 - x0:hx1 - x0],
                   out=region)
    return heatmaps, weights


def _quarter_offsets(maps: np.ndarray, map_idx: np.ndarray, x: np.ndarray,
                     y: np.ndarray) -> np.ndarray:
    """Quarter-pixel shift towards the higher neighbour, per axis.

    Args:
        maps (np.ndarray): ``(M, H, W)`` heatmaps.
        map_idx, x, y (np.ndarray): ``(P,)`` map index and integer location
            of each point.

    Returns:
        np.ndarray: ``(P, 2)`` offsets in {-0.25, 0, 0.25}; 0 on the border
        (one neighbour missing) and on ties.
    """
    H, W = maps.shape[-2:]
    xl, xr = np.clip(x - 1, 0, W - 1), np.clip(x + 1, 0, W - 1)
    yu, yd = np.clip(y - 1, 0, H - 1), np.clip(y + 1, 0, H - 1)
    dx = maps[map_idx, y, xr] - maps[map_idx, y, xl]
    dy = maps[map_idx, yd, x] - maps[map_idx, yu, x]
    dx = np.where((x > 0) & (x < W - 1), dx, 0)
    dy = np.where((y > 0) & (y < H - 1), dy, 0)
    return 0.25 * np.sign(np.stack([dx, dy], axis=-1)).astype(np.float32)


def dark_kernel_size(sigma: float) -> int:
    """Odd blur kernel size whose OpenCV-rule sigma
    (``0.3 * ((ks - 1) / 2 - 1) + 0.8``) matches ``sigma``: 11 for sigma 2,
    17 for sigma 3."""
    half = max(int(round((sigma - 0.8) / 0.3 + 1)), 1)
    return 2 * half + 1


def _blur_for_dark(maps: np.ndarray, kernel_size: int) -> np.ndarray:
    """Gaussian-blur ``(M, H, W)`` maps (zero outside the map), rescale each
    to its original maximum and return the log (DARK's modulation)."""
    if kernel_size % 2 != 1 or kernel_size < 3:
        raise ValueError('blur_kernel_size must be an odd integer >= 3, got '
                         f'{kernel_size}')
    sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    half = kernel_size // 2
    k1d = np.exp(-np.arange(-half, half + 1)**2 / (2 * sigma**2))
    k1d /= k1d.sum()
    maps = maps.astype(np.float64)
    blurred = convolve1d(maps, k1d, axis=-1, mode='constant')
    blurred = convolve1d(blurred, k1d, axis=-2, mode='constant')
    old_max = maps.reshape(len(maps), -1).max(axis=1)
    new_max = blurred.reshape(len(maps), -1).max(axis=1)
    ratio = np.where(new_max > 0, old_max / np.where(new_max > 0, new_max, 1),
                     1.)
    blurred *= ratio[:, None, None]
    return np.log(np.maximum(blurred, 1e-10))


def _dark_offsets(maps: np.ndarray, map_idx: np.ndarray, x: np.ndarray,
                  y: np.ndarray, kernel_size: int) -> np.ndarray:
    """DARK sub-pixel offsets ``(P, 2)`` at integer arg-max locations.

    Points within 2 px of the border, or where the log-map is not locally
    concave (the Taylor step would head to a saddle or minimum), get 0.
    """
    H, W = maps.shape[-2:]
    out = np.zeros((len(x), 2), dtype=np.float32)
    inner = (x >= 2) & (x <= W - 3) & (y >= 2) & (y <= H - 3)
    if not inner.any():
        return out
    used = np.unique(map_idx[inner])
    logm = np.empty((maps.shape[0], H, W))
    logm[used] = _blur_for_dark(maps[used], kernel_size)
    m, xi, yi = map_idx[inner], x[inner], y[inner]

    def at(dx: int, dy: int) -> np.ndarray:
        return logm[m, yi + dy, xi + dx]

    gx = 0.5 * (at(1, 0) - at(-1, 0))
    gy = 0.5 * (at(0, 1) - at(0, -1))
    hxx = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    hyy = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = hxx * hyy - hxy**2
    ok = (hxx < 0) & (det > 0)
    safe = np.where(ok, det, 1.)
    # offset = -H^-1 g with the closed-form 2x2 inverse
    ox = -(hyy * gx - hxy * gy) / safe
    oy = -(hxx * gy - hxy * gx) / safe
    out[inner] = np.where(ok[:, None], np.stack([ox, oy], -1), 0.)
    return out


def decode_heatmaps(
        heatmaps: ArrayLike,
        refine: Optional[str] = 'quarter',
        blur_kernel_size: int = 11) -> Tuple[np.ndarray, np.ndarray]:
    """Arg-max decoding with sub-pixel refinement, in heatmap pixels.

    Args:
        heatmaps (np.ndarray | torch.Tensor): ``(B, K, H, W)``, or
            ``(K, H, W)`` which is treated as ``B = 1``.
        refine (str, optional): ``'quarter'`` (0.25 px towards the higher
            neighbour), ``'dark'`` (DARK Taylor refinement) or ``None``.
        blur_kernel_size (int): DARK blur kernel, see
            :func:`dark_kernel_size` (11 matches sigma 2).

    Returns:
        tuple: ``keypoints`` ``(B, K, 2)`` float32 (x, y) and ``scores``
        ``(B, K)`` float32 (the maximum value). Maps whose maximum is not
        positive keep the integer arg-max and are not refined.

    Example:
        >>> hm, _ = encode_gaussian_heatmaps(np.array([[[10., 5.]]]), None,
        ...                                  (48, 64))
        >>> kpts, scores = decode_heatmaps(hm[None])
        >>> kpts.shape, kpts[0, 0].tolist(), scores.shape
        ((1, 1, 2), [10.0, 5.0], (1, 1))
    """
    maps = _to_numpy(heatmaps)
    if maps.ndim == 3:
        maps = maps[None]
    if maps.ndim != 4:
        raise ValueError('heatmaps must have shape (B, K, H, W) or (K, H, W), '
                         f'got {maps.shape}')
    if refine not in REFINE_MODES:
        raise ValueError(f'refine must be one of {REFINE_MODES}, got '
                         f'{refine!r}')
    B, K, H, W = maps.shape
    flat = maps.reshape(B * K, H * W)
    idx = flat.argmax(axis=1)
    scores = flat[np.arange(B * K), idx].astype(np.float32)
    x, y = idx % W, idx // W
    keypoints = np.stack([x, y], axis=-1).astype(np.float32)
    if refine is not None:
        pos = np.flatnonzero(scores > 0)
        maps3 = maps.reshape(B * K, H, W)
        if refine == 'quarter':
            off = _quarter_offsets(maps3, pos, x[pos], y[pos])
        else:
            off = _dark_offsets(maps3, pos, x[pos], y[pos], blur_kernel_size)
        keypoints[pos] += off
    return keypoints.reshape(B, K, 2), scores.reshape(B, K)


def _check_flip_indices(flip_indices: Sequence[int], num: int) -> np.ndarray:
    idx = np.asarray(flip_indices, dtype=np.int64)
    if idx.shape != (num, ) or sorted(idx.tolist()) != list(range(num)):
        raise ValueError(f'flip_indices must be a permutation of range({num})'
                         f' (one entry per keypoint), got {list(idx)}')
    return idx


def flip_heatmaps(heatmaps: ArrayLike,
                  flip_indices: Sequence[int],
                  shift_heatmap: bool = True) -> ArrayLike:
    """Map the output of a horizontally flipped input back to the original.

    Mirrors the width axis, swaps left/right channels and (optionally) shifts
    one pixel to the right: an image flip maps ``x -> w - 1 - x`` in input
    pixels, which lands about one heatmap pixel left of the mirrored heatmap
    location at stride 4 (the top-down convention of SimpleBaseline/HRNet).

    Args:
        heatmaps (np.ndarray | torch.Tensor): ``(..., K, H, W)``.
        flip_indices (Sequence[int]): ``flip_indices[k]`` is the keypoint
            that ``k`` becomes after a flip (a permutation of ``range(K)``).
        shift_heatmap (bool): Shift by one pixel to the right. Defaults to
            True (top-down); bottom-up test time uses False.

    Returns:
        Same type and shape as ``heatmaps``.

    Example:
        >>> flip_heatmaps(torch.rand(2, 17, 64, 48), list(range(17))).shape
        torch.Size([2, 17, 64, 48])
    """
    if heatmaps.ndim < 3:
        raise ValueError('heatmaps must have shape (..., K, H, W), got '
                         f'{tuple(heatmaps.shape)}')
    idx = _check_flip_indices(flip_indices, heatmaps.shape[-3])
    if isinstance(heatmaps, torch.Tensor):
        out = heatmaps.flip(-1)[..., torch.as_tensor(idx), :, :]
        if shift_heatmap:
            out = torch.cat([out[..., :1], out[..., :-1]], dim=-1)
        return out
    out = np.flip(np.asarray(heatmaps), axis=-1)[..., idx, :, :]
    if shift_heatmap:
        out = np.concatenate([out[..., :1], out[..., :-1]], axis=-1)
    return np.ascontiguousarray(out)


@KEYPOINT_CODECS.register_module()
class MSRAHeatmap:
    """Top-down Gaussian heatmap codec between input-image and heatmap space.

    Args:
        input_size (tuple): Input image size ``(w, h)``, e.g. ``(192, 256)``.
        heatmap_size (tuple): Heatmap size ``(W, H)``, e.g. ``(48, 64)``.
        sigma (float): Gaussian sigma in heatmap pixels. Defaults to 2.
        refine (str, optional): ``'quarter'``, ``'dark'`` or ``None``; see
            :func:`decode_heatmaps`. Defaults to ``'quarter'``.
        blur_kernel_size (int, optional): DARK blur kernel; ``None`` derives
            it from ``sigma`` (:func:`dark_kernel_size`).

    Example:
        >>> codec = MSRAHeatmap((192, 256), (48, 64), sigma=2)
        >>> enc = codec.encode(np.array([[[96., 128.], [40., 60.]]]))
        >>> enc['heatmaps'].shape, enc['keypoint_weights'].shape
        ((2, 64, 48), (1, 2))
        >>> kpts, scores = codec.decode(enc['heatmaps'])
        >>> kpts.shape, scores.shape
        ((1, 2, 2), (1, 2))
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float = 2.0,
                 refine: Optional[str] = 'quarter',
                 blur_kernel_size: Optional[int] = None) -> None:
        self.input_size = _check_size(input_size, 'input_size')
        self.heatmap_size = _check_size(heatmap_size, 'heatmap_size')
        if refine not in REFINE_MODES:
            raise ValueError(f'refine must be one of {REFINE_MODES}, got '
                             f'{refine!r}')
        self.sigma = float(sigma)
        self.refine = refine
        self.blur_kernel_size = (dark_kernel_size(sigma) if blur_kernel_size
                                 is None else int(blur_kernel_size))
        self.scale_factor = (np.array(self.input_size, dtype=np.float32) /
                             np.array(self.heatmap_size, dtype=np.float32))

    def encode(
        self,
        keypoints: np.ndarray,
        keypoints_visible: Optional[np.ndarray] = None
    ) -> Dict[str, np.ndarray]:
        """Encode ``(N, K, 2)`` input-image keypoints.

        Returns:
            dict: ``heatmaps`` ``(K, H, W)`` and ``keypoint_weights``
            ``(N, K)`` (the target weights of the keypoint MSE loss).
        """
        keypoints, visible = _check_keypoints(keypoints, keypoints_visible)
        heatmaps, weights = encode_gaussian_heatmaps(
            keypoints / self.scale_factor, visible, self.heatmap_size,
            self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def decode(self, heatmaps: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
        """Decode ``(K, H, W)`` or ``(B, K, H, W)`` heatmaps into input-image
        keypoints ``(B, K, 2)`` and scores ``(B, K)``."""
        shape = tuple(heatmaps.shape)
        if len(shape) < 3 or shape[-2:] != self.heatmap_size[::-1]:
            raise ValueError(f'heatmaps of shape {shape} do not match the '
                             'codec heatmap_size (W, H) = '
                             f'{self.heatmap_size}')
        keypoints, scores = decode_heatmaps(heatmaps, self.refine,
                                            self.blur_kernel_size)
        return keypoints * self.scale_factor, scores
