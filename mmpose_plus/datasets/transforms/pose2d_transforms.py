"""Data transforms for 2D pose estimation (top-down and bottom-up).

Geometry conventions shared by every transform here:

- images are ``(H, W, C)`` arrays, pixel ``(x, y)`` is the centre of column
  ``x`` and row ``y``;
- ``bbox`` is ``(N, 4)`` xyxy, ``bbox_center`` / ``bbox_scale`` are ``(N, 2)``
  (scale = box width and height in pixels, padding included);
- ``keypoints`` is ``(N, K, 2)`` and ``keypoints_visible`` ``(N, K)``;
- a crop / resize is the similarity transform :func:`get_warp_matrix` that
  maps ``center`` to the middle of the output and ``scale[0]`` pixels to the
  output width. ``input_center``, ``input_scale`` and ``input_size`` record
  it, so that a point ``p`` of the model input maps back to the image as
  ``p / input_size * input_scale + input_center - input_scale / 2`` (no
  rotation at test time);
- ``warp_mat`` is the cumulative 2x3 affine from the loaded image to the
  current image (flips included), used to warp ignore masks.

Pure helpers (:func:`get_warp_matrix`, :func:`bbox_xyxy2cs`, ...) are kept
apart from the transform classes so they can be tested and reused alone.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmcv.transforms.utils import cache_randomness
from mmengine.structures import BaseDataElement, InstanceData, PixelData
from scipy.stats import truncnorm

from mmpose_plus.registry import KEYPOINT_CODECS, TRANSFORMS
from mmpose_plus.structures import PoseDataSample

__all__ = [
    'get_warp_matrix', 'apply_affine', 'compose_affine', 'bbox_xyxy2cs',
    'fix_aspect_ratio', 'flip_keypoints', 'segs_to_mask', 'LoadImage',
    'GetBBoxCenterScale', 'RandomFlipPose', 'RandomHalfBody',
    'RandomBBoxTransform', 'TopdownAffine', 'BottomupRandomAffine',
    'BottomupResize', 'BottomupGetHeatmapMask', 'GenerateTarget',
    'PackPoseInputs'
]


# ----------------------------------------------------------------------
# pure geometry helpers
# ----------------------------------------------------------------------
def get_warp_matrix(center: np.ndarray, scale: np.ndarray, rot: float,
                    output_size: Tuple[int, int]) -> np.ndarray:
    """Similarity transform from an image window to an output canvas.

    ``center`` goes to ``(out_w / 2, out_h / 2)``, the window is zoomed by
    ``out_w / scale[0]`` (``scale`` must already have the output's aspect
    ratio) and rotated by ``rot`` degrees (same sense as mmpose).

    Returns:
        np.ndarray: (2, 3) float64 matrix for ``cv2.warpAffine``.

    Example:
        >>> m = get_warp_matrix(np.array([50., 40.]), np.array([100., 80.]),
        ...                     0., (50, 40))
        >>> apply_affine(np.array([[50., 40.], [0., 0.]]), m)
        array([[25., 20.],
               [ 0.,  0.]], dtype=float32)
    """
    out_w, out_h = output_size
    zoom = out_w / float(scale[0])
    theta = np.deg2rad(rot)
    cos, sin = np.cos(theta), np.sin(theta)
    rot_zoom = zoom * np.array([[cos, sin], [-sin, cos]])
    shift = np.array([out_w * 0.5, out_h * 0.5]) - rot_zoom @ np.asarray(
        center, dtype=np.float64)
    return np.concatenate([rot_zoom, shift[:, None]], axis=1)


def apply_affine(points: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to points of shape (..., 2)."""
    pts = np.asarray(points, dtype=np.float64)
    mat = np.asarray(mat, dtype=np.float64)
    return (pts @ mat[:, :2].T + mat[:, 2]).astype(np.float32)


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """(2, 3) affine equal to applying ``inner`` then ``outer``."""
    full = np.eye(3)
    full[:2] = outer
    inner3 = np.eye(3)
    inner3[:2] = inner
    return (full @ inner3)[:2]


def bbox_xyxy2cs(bbox: np.ndarray,
                 padding: float = 1.) -> Tuple[np.ndarray, np.ndarray]:
    """xyxy boxes (N, 4) to centres (N, 2) and padded sizes (N, 2)."""
    bbox = np.asarray(bbox, dtype=np.float32)
    center = (bbox[..., :2] + bbox[..., 2:]) * 0.5
    scale = (bbox[..., 2:] - bbox[..., :2]) * padding
    return center, scale


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Enlarge (N, 2) ``(w, h)`` sizes to the ratio ``w / h``, never crop."""
    scale = np.asarray(scale, dtype=np.float32)
    w, h = scale[..., 0:1], scale[..., 1:2]
    return np.where(w > h * aspect_ratio,
                    np.concatenate([w, w / aspect_ratio], axis=-1),
                    np.concatenate([h * aspect_ratio, h], axis=-1))


def flip_keypoints(
        keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray],
        img_width: int, flip_indices: Sequence[int]
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Mirror (N, K, 2) keypoints horizontally and swap left/right joints."""
    flip_indices = list(flip_indices)
    if len(flip_indices) != keypoints.shape[-2]:
        raise ValueError(f'flip_indices has {len(flip_indices)} entries but '
                         f'keypoints have {keypoints.shape[-2]} joints')
    flipped = keypoints[..., flip_indices, :].copy()
    flipped[..., 0] = img_width - 1 - flipped[..., 0]
    if keypoints_visible is not None:
        keypoints_visible = keypoints_visible[..., flip_indices].copy()
    return flipped, keypoints_visible


def _hflip_matrix(img_width: int) -> np.ndarray:
    return np.array([[-1., 0., img_width - 1.], [0., 1., 0.]])


def _truncnorm(size=None, low: float = -1., high: float = 1.) -> np.ndarray:
    return truncnorm.rvs(low, high, size=size).astype(np.float32)


def _sample_name(results: dict) -> str:
    return str(results.get('img_path', results.get('img_id', '<sample>')))


def _require(results: dict, keys: Sequence[str], who: str) -> None:
    missing = [k for k in keys if k not in results]
    if missing:
        raise KeyError(f'{who}: sample {_sample_name(results)} lacks '
                       f'{missing}; check the pipeline order')


# ----------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------
@TRANSFORMS.register_module()
class LoadImage(LoadImageFromFile):
    """Load the image of a sample, or take an array already in ``img``.

    Keys read: ``img_path`` (or ``img`` as an ``np.ndarray``).
    Keys written: ``img`` (H, W, 3) uint8 BGR, ``img_shape``, ``ori_shape``
    (both ``(h, w)``).

    Args: as :class:`mmcv.transforms.LoadImageFromFile` (``to_float32``,
        ``color_type``, ``imdecode_backend``, ``backend_args``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for
    one that cannot be decoded, both naming the file.

    Example:
        >>> out = LoadImage()(dict(img=np.zeros((4, 6, 3), np.uint8)))
        >>> out['img_shape'], out['ori_shape']
        ((4, 6), (4, 6))
    """

    def transform(self, results: dict) -> Optional[dict]:
        if isinstance(results.get('img'), np.ndarray):
            img = results['img']
            if self.to_float32:
                results['img'] = img.astype(np.float32)
        else:
            if 'img_path' not in results:
                raise KeyError('LoadImage: the sample has neither "img" nor '
                               '"img_path"')
            path = results['img_path']
            try:
                results = super().transform(results)
            except FileNotFoundError as e:
                raise FileNotFoundError(f'image file not found: {path}') from e
            except AssertionError as e:
                raise ValueError(f'cannot decode image file: {path}') from e
            if results is None:  # ignore_empty=True and the read failed
                return None
            img = results['img']
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


# ----------------------------------------------------------------------
# top-down
# ----------------------------------------------------------------------
@TRANSFORMS.register_module()
class GetBBoxCenterScale(BaseTransform):
    """Turn xyxy boxes into centres and padded sizes.

    Keys read: ``bbox`` (N, 4).
    Keys written: ``bbox_center`` (N, 2), ``bbox_scale`` (N, 2).

    Args:
        padding (float): factor on the box size. Defaults to 1.25.
        aspect_ratio (float, optional): if given, the size is enlarged to
            this ``w / h`` here; otherwise ``TopdownAffine`` does it.

    Example:
        >>> out = GetBBoxCenterScale()(dict(bbox=np.array([[0, 0, 40, 80.]])))
        >>> out['bbox_center'].tolist(), out['bbox_scale'].tolist()
        ([[20.0, 40.0]], [[50.0, 100.0]])
    """

    def __init__(self,
                 padding: float = 1.25,
                 aspect_ratio: Optional[float] = None) -> None:
        self.padding = padding
        self.aspect_ratio = aspect_ratio

    def transform(self, results: dict) -> dict:
        _require(results, ['bbox'], type(self).__name__)
        center, scale = bbox_xyxy2cs(results['bbox'], self.padding)
        if self.aspect_ratio is not None:
            scale = fix_aspect_ratio(scale, self.aspect_ratio)
        results['bbox_center'] = center
        results['bbox_scale'] = scale
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(padding={self.padding}, '
                f'aspect_ratio={self.aspect_ratio})')


@TRANSFORMS.register_module()
class RandomFlipPose(BaseTransform):
    """Random horizontal flip of the image and all its people.

    Left/right joints are swapped with ``flip_indices`` so a flipped left
    wrist is labelled as a right wrist. x maps to ``w - 1 - x``.

    Keys read: ``img``, ``img_shape``, ``flip_indices`` (unless given
    here), optional ``keypoints``, ``keypoints_visible``, ``bbox``,
    ``bbox_center``, ``warp_mat``.
    Keys written: ``img``, the optional keys above, ``flip``,
    ``flip_direction`` (``'horizontal'`` or ``None``), ``warp_mat``.

    Args:
        prob (float): flip probability. Defaults to 0.5.
        flip_indices (list[int], optional): overrides ``results``'.

    Example:
        >>> t = RandomFlipPose(prob=1., flip_indices=[1, 0])
        >>> out = t(dict(img=np.zeros((4, 10, 3), np.uint8), img_shape=(4, 10),
        ...              keypoints=np.array([[[1., 2.], [7., 2.]]])))
        >>> out['keypoints'].tolist()
        [[[2.0, 2.0], [8.0, 2.0]]]
    """

    def __init__(self,
                 prob: float = 0.5,
                 flip_indices: Optional[Sequence[int]] = None) -> None:
        if not 0. <= prob <= 1.:
            raise ValueError(f'RandomFlipPose: prob must be in [0, 1], got '
                             f'{prob}')
        self.prob = prob
        self.flip_indices = None if flip_indices is None else list(
            flip_indices)

    @cache_randomness
    def _do_flip(self) -> bool:
        return bool(np.random.rand() < self.prob)

    def transform(self, results: dict) -> dict:
        if not self._do_flip():
            results['flip'] = False
            results['flip_direction'] = None
            return results
        _require(results, ['img'], type(self).__name__)
        img = results['img']
        w = img.shape[1]
        results['img'] = np.ascontiguousarray(img[:, ::-1])
        if results.get('keypoints') is not None:
            flip_indices = self.flip_indices or results.get('flip_indices')
            if flip_indices is None:
                raise KeyError(f'RandomFlipPose: sample '
                               f'{_sample_name(results)} has no '
                               '"flip_indices" (set it in the dataset '
                               'metainfo or pass flip_indices=)')
            results['keypoints'], visible = flip_keypoints(
                results['keypoints'], results.get('keypoints_visible'), w,
                flip_indices)
            if visible is not None:
                results['keypoints_visible'] = visible
        if results.get('bbox') is not None:
            bbox = np.asarray(results['bbox'], dtype=np.float32).copy()
            bbox[..., [0, 2]] = w - 1 - bbox[..., [2, 0]]
            results['bbox'] = bbox
        if results.get('bbox_center') is not None:
            center = np.asarray(results['bbox_center'],
                                dtype=np.float32).copy()
            center[..., 0] = w - 1 - center[..., 0]
            results['bbox_center'] = center
        flip_mat = _hflip_matrix(w)
        results['warp_mat'] = (
            compose_affine(flip_mat, results['warp_mat'])
            if 'warp_mat' in results else flip_mat)
        results['flip'] = True
        results['flip_direction'] = 'horizontal'
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class RandomHalfBody(BaseTransform):
    """Randomly shrink the box to the upper or the lower body.

    Applied to a person with at least ``min_total_keypoints`` labelled
    joints, with probability ``prob``; the upper body is preferred with
    probability ``upper_prioritized_prob`` when both halves have enough
    labelled joints. The new box is the extent of the half's labelled joints
    times ``padding``, centred on their mean.

    Keys read: ``keypoints``, ``keypoints_visible``, ``upper_body_ids``,
    ``lower_body_ids``, ``bbox_center``, ``bbox_scale``.
    Keys written: ``bbox_center``, ``bbox_scale``.

    Example:
        >>> t = RandomHalfBody(prob=1., upper_prioritized_prob=1.)
        >>> kpts = np.stack([np.arange(17.)] * 2, -1)[None]
        >>> out = t(dict(keypoints=kpts, keypoints_visible=np.ones((1, 17)),
        ...              upper_body_ids=list(range(11)),
        ...              lower_body_ids=list(range(11, 17)),
        ...              bbox_center=np.zeros((1, 2)),
        ...              bbox_scale=np.ones((1, 2))))
        >>> out['bbox_center'].tolist(), out['bbox_scale'].tolist()
        ([[5.0, 5.0]], [[15.0, 15.0]])
    """

    def __init__(self,
                 min_total_keypoints: int = 9,
                 min_upper_keypoints: int = 2,
                 min_lower_keypoints: int = 3,
                 padding: float = 1.5,
                 prob: float = 0.3,
                 upper_prioritized_prob: float = 0.7) -> None:
        self.min_total_keypoints = min_total_keypoints
        self.min_upper_keypoints = min_upper_keypoints
        self.min_lower_keypoints = min_lower_keypoints
        self.padding = padding
        self.prob = prob
        self.upper_prioritized_prob = upper_prioritized_prob

    @cache_randomness
    def _choose_halves(self, visible: np.ndarray, upper_ids: Sequence[int],
                       lower_ids: Sequence[int]) -> List[Optional[list]]:
        chosen = []
        for vis in visible:
            apply = np.random.rand() < self.prob
            prefer_upper = np.random.rand() < self.upper_prioritized_prob
            if vis.sum() < self.min_total_keypoints or not apply:
                chosen.append(None)
                continue
            upper = [i for i in upper_ids if vis[i] > 0]
            lower = [i for i in lower_ids if vis[i] > 0]
            upper_ok = len(upper) >= self.min_upper_keypoints
            lower_ok = len(lower) >= self.min_lower_keypoints
            if upper_ok and lower_ok:
                chosen.append(upper if prefer_upper else lower)
            elif upper_ok or lower_ok:
                chosen.append(upper if upper_ok else lower)
            else:
                chosen.append(None)
        return chosen

    def transform(self, results: dict) -> dict:
        _require(results, [
            'keypoints', 'keypoints_visible', 'upper_body_ids',
            'lower_body_ids', 'bbox_center', 'bbox_scale'
        ], type(self).__name__)
        halves = self._choose_halves(results['keypoints_visible'],
                                     results['upper_body_ids'],
                                     results['lower_body_ids'])
        center = np.array(results['bbox_center'], dtype=np.float32)
        scale = np.array(results['bbox_scale'], dtype=np.float32)
        for i, ids in enumerate(halves):
            if ids is None:
                continue
            pts = results['keypoints'][i][ids]
            extent = pts.max(axis=0) - pts.min(axis=0)
            if extent.max() < 1:  # all joints on one pixel: no usable box
                continue
            center[i] = pts.mean(axis=0)
            scale[i] = extent * self.padding
        results['bbox_center'] = center
        results['bbox_scale'] = scale
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(min_total_keypoints='
                f'{self.min_total_keypoints}, padding={self.padding}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class RandomBBoxTransform(BaseTransform):
    """Randomly shift, rescale and rotate person boxes.

    Each factor is a truncated normal in [-1, 1] times the factor: shift by
    up to ``shift_factor * bbox_scale`` pixels, scale by a factor in
    ``scale_factor`` (min, max), rotate by up to ``rotate_factor`` degrees,
    each applied with its probability. Defaults are mmpose 1.x's
    (roughly the HRNet recipe: scale 0.65-1.35 sd, rotation sd ~40 degrees).

    Keys read: ``bbox_center``, ``bbox_scale`` (N, 2).
    Keys written: ``bbox_center``, ``bbox_scale``, ``bbox_rotation`` (N,).

    Example:
        >>> t = RandomBBoxTransform()
        >>> out = t(dict(bbox_center=np.zeros((2, 2)),
        ...              bbox_scale=np.ones((2, 2))))
        >>> out['bbox_rotation'].shape
        (2,)
    """

    def __init__(self,
                 shift_factor: float = 0.16,
                 shift_prob: float = 0.3,
                 scale_factor: Tuple[float, float] = (0.5, 1.5),
                 scale_prob: float = 1.0,
                 rotate_factor: float = 80.0,
                 rotate_prob: float = 0.6) -> None:
        if len(scale_factor) != 2 or not 0 < scale_factor[0] <= scale_factor[
                1]:
            raise ValueError('RandomBBoxTransform: scale_factor must be '
                             f'(min, max) with 0 < min <= max, got '
                             f'{scale_factor}')
        self.shift_factor = shift_factor
        self.shift_prob = shift_prob
        self.scale_factor = tuple(scale_factor)
        self.scale_prob = scale_prob
        self.rotate_factor = rotate_factor
        self.rotate_prob = rotate_prob

    @cache_randomness
    def _sample(self, n: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        shift = _truncnorm((n, 2)) * self.shift_factor
        shift *= (np.random.rand(n, 1) < self.shift_prob)
        low, high = self.scale_factor
        scale = _truncnorm((n, 1)) * (high - low) / 2 + (high + low) / 2
        scale = np.where(np.random.rand(n, 1) < self.scale_prob, scale, 1.)
        rot = _truncnorm((n, )) * self.rotate_factor
        rot = np.where(np.random.rand(n) < self.rotate_prob, rot, 0.)
        return shift, scale.astype(np.float32), rot.astype(np.float32)

    def transform(self, results: dict) -> dict:
        _require(results, ['bbox_center', 'bbox_scale'], type(self).__name__)
        scale = np.asarray(results['bbox_scale'], dtype=np.float32)
        shift, zoom, rot = self._sample(scale.shape[0])
        results['bbox_center'] = np.asarray(
            results['bbox_center'], dtype=np.float32) + shift * scale
        results['bbox_scale'] = scale * zoom
        results['bbox_rotation'] = rot
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(shift_factor={self.shift_factor}, '
                f'scale_factor={self.scale_factor}, '
                f'rotate_factor={self.rotate_factor})')


@TRANSFORMS.register_module()
class TopdownAffine(BaseTransform):
    """Crop, rotate and resize one person box to the model input.

    The box is first enlarged to the input aspect ratio.

    Keys read: ``img``, ``bbox_center``, ``bbox_scale`` (1, 2),
    ``bbox_rotation`` (optional), ``keypoints`` (optional), ``warp_mat``
    (optional).
    Keys written: ``img`` (h, w, C), ``bbox_scale`` (aspect-fixed),
    ``transformed_keypoints`` (1, K, 2) in input pixels, ``input_size``
    (w, h), ``input_center`` (2,), ``input_scale`` (2,), ``warp_mat``.

    Args:
        input_size (tuple[int, int]): model input ``(w, h)``, e.g. (192, 256).

    Example:
        >>> t = TopdownAffine(input_size=(48, 64))
        >>> out = t(dict(img=np.zeros((100, 100, 3), np.uint8),
        ...              bbox_center=np.array([[50., 50.]]),
        ...              bbox_scale=np.array([[30., 40.]]),
        ...              keypoints=np.array([[[50., 50.]]])))
        >>> out['img'].shape, out['transformed_keypoints'].tolist()
        ((64, 48, 3), [[[24.0, 32.0]]])
    """

    def __init__(self, input_size: Tuple[int, int]) -> None:
        if len(input_size) != 2:
            raise ValueError(f'TopdownAffine: input_size must be (w, h), '
                             f'got {input_size}')
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def transform(self, results: dict) -> dict:
        _require(results, ['img', 'bbox_center', 'bbox_scale'],
                 type(self).__name__)
        w, h = self.input_size
        if len(results['bbox_center']) != 1:
            raise ValueError(
                f'TopdownAffine: sample {_sample_name(results)} has '
                f'{len(results["bbox_center"])} boxes; top-down samples hold '
                'exactly one person')
        scale = fix_aspect_ratio(results['bbox_scale'], w / h)
        if np.any(scale <= 0):
            raise ValueError(f'TopdownAffine: sample {_sample_name(results)} '
                             f'has an empty box (scale {scale.tolist()})')
        center = np.asarray(results['bbox_center'][0], dtype=np.float32)
        rot = float(results['bbox_rotation'][0]) if results.get(
            'bbox_rotation') is not None else 0.
        mat = get_warp_matrix(center, scale[0], rot, (w, h))
        results['img'] = cv2.warpAffine(
            results['img'], mat, (w, h), flags=cv2.INTER_LINEAR)
        if results.get('keypoints') is not None:
            results['transformed_keypoints'] = apply_affine(
                results['keypoints'], mat)
        results['bbox_scale'] = scale
        results['input_size'] = (w, h)
        results['input_center'] = center
        results['input_scale'] = scale[0]
        results['warp_mat'] = (
            compose_affine(mat, results['warp_mat'])
            if 'warp_mat' in results else mat)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(input_size={self.input_size})'


# ----------------------------------------------------------------------
# bottom-up
# ----------------------------------------------------------------------
def _window_for(img_w: float, img_h: float, aspect_ratio: float,
                mode: str) -> np.ndarray:
    """Image-sized window enlarged ('short') or shrunk ('long') to a ratio.

    'short' keeps the image's short side filling the output (the long side
    is cropped); 'long' fits the whole image in (padding the short side).
    """
    w, h = img_w, img_h
    wider = w > h * aspect_ratio
    if mode == 'short':
        return np.array([h * aspect_ratio, h] if wider else
                        [w, w / aspect_ratio], dtype=np.float32)
    if mode == 'long':
        return np.array([w, w / aspect_ratio] if wider else
                        [h * aspect_ratio, h], dtype=np.float32)
    raise ValueError(f'scale_type must be "short" or "long", got {mode!r}')


@TRANSFORMS.register_module()
class BottomupRandomAffine(BaseTransform):
    """Random scale / rotation / shift of a whole image to the input size.

    Sampling follows the HigherHRNet recipe (uniform): scale in
    ``scale_factor`` (a factor > 1 zooms out), rotation in
    ``[-rotate_factor, rotate_factor]`` degrees, shift of the window centre
    by up to ``shift_factor`` of the image size. Every person is kept;
    joints that leave the canvas are left for the codec to weight out.

    Keys read: ``img``, ``img_shape``, ``keypoints`` (N, K, 2), optional
    ``bbox`` (N, 4), ``warp_mat``.
    Keys written: ``img`` (h, w, C), ``img_shape``, ``keypoints``, ``bbox``
    (enclosing xyxy of the warped corners), ``input_size``, ``input_center``,
    ``input_scale``, ``warp_mat`` (cumulative).

    Args:
        input_size (tuple[int, int]): ``(w, h)``, e.g. (512, 512).
        shift_factor, shift_prob, scale_factor, scale_prob, rotate_factor,
        rotate_prob: the random ranges and their probabilities.
        scale_type (str): ``'short'`` (image short side fills the input)
            or ``'long'``.

    Example:
        >>> t = BottomupRandomAffine(input_size=(64, 64))
        >>> out = t(dict(img=np.zeros((90, 120, 3), np.uint8),
        ...              img_shape=(90, 120), keypoints=np.zeros((3, 17, 2))))
        >>> out['img'].shape, out['keypoints'].shape
        ((64, 64, 3), (3, 17, 2))
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 shift_factor: float = 0.2,
                 shift_prob: float = 1.,
                 scale_factor: Tuple[float, float] = (0.75, 1.5),
                 scale_prob: float = 1.,
                 scale_type: str = 'short',
                 rotate_factor: float = 30.,
                 rotate_prob: float = 1.) -> None:
        if scale_type not in ('short', 'long'):
            raise ValueError('BottomupRandomAffine: scale_type must be '
                             f'"short" or "long", got {scale_type!r}')
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.shift_factor = shift_factor
        self.shift_prob = shift_prob
        self.scale_factor = tuple(scale_factor)
        self.scale_prob = scale_prob
        self.scale_type = scale_type
        self.rotate_factor = rotate_factor
        self.rotate_prob = rotate_prob

    @cache_randomness
    def _sample(self) -> Tuple[np.ndarray, float, float]:
        shift = np.random.uniform(-1, 1, size=2) * self.shift_factor
        if np.random.rand() >= self.shift_prob:
            shift[:] = 0
        low, high = self.scale_factor
        zoom = np.random.uniform(low, high)
        if np.random.rand() >= self.scale_prob:
            zoom = 1.
        rot = np.random.uniform(-1, 1) * self.rotate_factor
        if np.random.rand() >= self.rotate_prob:
            rot = 0.
        return shift, float(zoom), float(rot)

    def transform(self, results: dict) -> dict:
        _require(results, ['img'], type(self).__name__)
        img_h, img_w = results['img'].shape[:2]
        w, h = self.input_size
        shift, zoom, rot = self._sample()
        center = (np.array([img_w / 2, img_h / 2]) +
                  shift * np.array([img_w, img_h])).astype(np.float32)
        scale = _window_for(img_w, img_h, w / h, self.scale_type) * zoom
        mat = get_warp_matrix(center, scale, rot, (w, h))
        results['img'] = cv2.warpAffine(
            results['img'], mat, (w, h), flags=cv2.INTER_LINEAR)
        results['img_shape'] = (h, w)
        if results.get('keypoints') is not None:
            results['keypoints'] = apply_affine(results['keypoints'], mat)
        if results.get('bbox') is not None and len(results['bbox']):
            bbox = np.asarray(results['bbox'], dtype=np.float32)
            corners = bbox[:, [0, 1, 2, 1, 0, 3, 2, 3]].reshape(-1, 4, 2)
            corners = apply_affine(corners, mat)
            results['bbox'] = np.concatenate(
                [corners.min(axis=1), corners.max(axis=1)], axis=1)
        results['input_size'] = (w, h)
        results['input_center'] = center
        results['input_scale'] = scale
        results['warp_mat'] = (
            compose_affine(mat, results['warp_mat'])
            if 'warp_mat' in results else mat)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'scale_factor={self.scale_factor}, '
                f'rotate_factor={self.rotate_factor})')


@TRANSFORMS.register_module()
class BottomupResize(BaseTransform):
    """Test-time resize keeping the aspect ratio, padded to a multiple.

    ``resize_mode='fit'``: the whole image fits into ``input_size`` (which
    must be a multiple of ``size_factor``); ``'expand'``: the short side
    matches ``input_size`` and the long side grows, then is padded up to a
    multiple of ``size_factor`` (the HigherHRNet test recipe, factor 64).
    The image centre goes to the canvas centre, so padding is split evenly
    between both sides.

    Keys read: ``img``, ``ori_shape`` (or ``img_shape``).
    Keys written: ``img`` (a list of arrays when ``aug_scales`` is given,
    the first at scale 1), ``img_shape``, ``input_size`` (padded w, h),
    ``input_center``, ``input_scale``, ``warp_mat``, ``aug_scales``.

    Args:
        input_size (tuple[int, int]): ``(w, h)``.
        aug_scales (list[float], optional): extra scales for multi-scale
            testing (e.g. [2, 0.5]).
        size_factor (int): pad to a multiple of it. Defaults to 32.
        resize_mode (str): ``'fit'`` or ``'expand'``.

    Example:
        >>> t = BottomupResize((64, 64), size_factor=32, resize_mode='expand')
        >>> out = t(dict(img=np.zeros((50, 100, 3), np.uint8)))
        >>> out['img'].shape, out['input_size']
        ((64, 128, 3), (128, 64))
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 aug_scales: Optional[Sequence[float]] = None,
                 size_factor: int = 32,
                 resize_mode: str = 'fit') -> None:
        if resize_mode not in ('fit', 'expand'):
            raise ValueError('BottomupResize: resize_mode must be "fit" or '
                             f'"expand", got {resize_mode!r}')
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.aug_scales = list(aug_scales) if aug_scales else None
        self.size_factor = size_factor
        self.resize_mode = resize_mode

    def _ceil(self, size: Sequence[float]) -> Tuple[int, int]:
        f = self.size_factor
        return tuple(int(np.ceil(s / f - 1e-6) * f) for s in size)

    def _sizes(self, img_w: int, img_h: int,
               target: Tuple[int, int]) -> Tuple[tuple, tuple]:
        """(resized image size, padded canvas size), both (w, h)."""
        ratio = img_w / img_h
        if self.resize_mode == 'fit':
            padded = self._ceil(target)
            if padded != tuple(target):
                raise ValueError(
                    f'BottomupResize: with resize_mode="fit" the input size '
                    f'{target} must be a multiple of size_factor '
                    f'{self.size_factor} at every scale')
            resized = (min(padded[0], padded[1] * ratio),
                       min(padded[1], padded[0] / ratio))
        else:
            base = self._ceil(target)
            resized = (max(base[0], base[1] * ratio),
                       max(base[1], base[0] / ratio))
            padded = self._ceil(resized)
        return resized, padded

    def transform(self, results: dict) -> dict:
        _require(results, ['img'], type(self).__name__)
        img = results['img']
        img_h, img_w = results.get('ori_shape', img.shape[:2])
        w, h = self.input_size
        targets = [(w, h)] + [(int(w * s), int(h * s))
                              for s in (self.aug_scales or [])]
        imgs = []
        for i, target in enumerate(targets):
            resized, padded = self._sizes(img_w, img_h, target)
            center = np.round(np.array([img_w / 2, img_h / 2],
                                       dtype=np.float32))
            # Window covering the padded canvas, in image pixels.
            scale = np.array([
                img_w * padded[0] / resized[0],
                img_h * padded[1] / resized[1]
            ], dtype=np.float32)
            mat = get_warp_matrix(center, scale, 0., padded)
            imgs.append(
                cv2.warpAffine(img, mat, padded, flags=cv2.INTER_LINEAR))
            if i == 0:
                results['img_shape'] = (padded[1], padded[0])
                results['input_size'] = padded
                results['input_center'] = center
                results['input_scale'] = scale
                results['warp_mat'] = mat
        results['img'] = imgs if self.aug_scales else imgs[0]
        results['aug_scales'] = self.aug_scales
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'aug_scales={self.aug_scales}, size_factor='
                f'{self.size_factor}, resize_mode={self.resize_mode!r})')


def segs_to_mask(segs: list, img_h: int, img_w: int) -> np.ndarray:
    """Union of COCO segmentations (polygons or RLE) as an (H, W) uint8."""
    if not segs:
        return np.zeros((img_h, img_w), dtype=np.uint8)
    try:
        from pycocotools import mask as cocomask
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError('BottomupGetHeatmapMask needs pycocotools '
                          '(pip install pycocotools)') from e
    rles = []
    for seg in segs:
        rle = cocomask.frPyObjects(seg, img_h, img_w)
        rles.extend(rle if isinstance(rle, list) else [rle])
    return cocomask.decode(cocomask.merge(rles)).astype(np.uint8)


@TRANSFORMS.register_module()
class BottomupGetHeatmapMask(BaseTransform):
    """Loss mask that ignores crowds and unlabelled people (bottom-up).

    The regions of ``invalid_segs`` (crowd annotations and people without
    labelled joints) and everything outside the warped image are 0, the
    rest 1. The mask is warped from the loaded image with the cumulative
    ``warp_mat`` (so it follows flips and affines in any order) directly to
    each heatmap resolution. Place it after ``GenerateTarget``.

    Keys read: ``ori_shape`` (or ``img_shape``), ``invalid_segs``
    (optional), ``warp_mat`` (optional), ``input_size``, ``heatmaps``
    (optional; array or list per level).
    Keys written: ``heatmap_mask``: (H, W) float32 in {0, 1} at the heatmap
    size (a list per level when ``heatmaps`` is a list).

    Example:
        >>> t = BottomupGetHeatmapMask()
        >>> out = t(dict(ori_shape=(8, 8), input_size=(8, 8),
        ...              heatmaps=np.zeros((17, 4, 4)),
        ...              invalid_segs=[[[0, 0, 4, 0, 4, 8, 0, 8]]]))
        >>> out['heatmap_mask'].shape, out['heatmap_mask'][:, 3].tolist()
        ((4, 4), [1.0, 1.0, 1.0, 1.0])
    """

    def transform(self, results: dict) -> dict:
        shape = results.get('ori_shape', results.get('img_shape'))
        if shape is None:
            raise KeyError('BottomupGetHeatmapMask: sample '
                           f'{_sample_name(results)} lacks "ori_shape"')
        img_h, img_w = shape[:2]
        ignore = segs_to_mask(results.get('invalid_segs', []), img_h, img_w)
        if ignore.shape != (img_h, img_w):
            raise ValueError(
                f'BottomupGetHeatmapMask: sample {_sample_name(results)}: '
                f'a segmentation of size {ignore.shape} does not match the '
                f'image size {(img_h, img_w)}')
        valid = 1. - ignore.astype(np.float32)
        mat = np.asarray(results.get('warp_mat', np.eye(2, 3)), np.float64)
        in_w, in_h = results.get('input_size', (img_w, img_h))
        heatmaps = results.get('heatmaps')
        if heatmaps is None:
            sizes = [(in_w, in_h)]
        elif isinstance(heatmaps, (list, tuple)):
            sizes = [(hm.shape[-1], hm.shape[-2]) for hm in heatmaps]
        else:
            sizes = [(heatmaps.shape[-1], heatmaps.shape[-2])]
        masks = []
        for hm_w, hm_h in sizes:
            to_hm = np.diag([hm_w / in_w, hm_h / in_h]).astype(np.float64)
            m = np.concatenate([to_hm @ mat[:, :2], (to_hm @ mat[:, 2])[:,
                                                                       None]],
                               axis=1)
            warped = cv2.warpAffine(
                valid, m, (int(hm_w), int(hm_h)), flags=cv2.INTER_LINEAR)
            masks.append((warped > 0.5).astype(np.float32))
        results['heatmap_mask'] = masks if isinstance(
            heatmaps, (list, tuple)) else masks[0]
        return results


# ----------------------------------------------------------------------
# targets and packing
# ----------------------------------------------------------------------
@TRANSFORMS.register_module()
class GenerateTarget(BaseTransform):
    """Encode keypoints into training targets with a keypoint codec.

    Top-down samples are encoded from ``transformed_keypoints`` (input
    pixels), bottom-up samples from ``keypoints`` (already warped to the
    input by ``BottomupRandomAffine``). The codec's ``encode(keypoints,
    keypoints_visible)`` returns a dict (e.g. ``heatmaps``,
    ``keypoint_weights``, ``keypoint_indices``) that is merged into the
    sample. With a list of codecs every returned key holds a list, one
    entry per codec, in order. (A single codec may itself return one
    heatmap per resolution, as ``AssociativeEmbedding`` does for
    HigherHRNet; ``BottomupGetHeatmapMask`` and ``PackPoseInputs`` handle
    both forms.)

    Keys read: ``transformed_keypoints`` or ``keypoints``,
    ``keypoints_visible``, ``dataset_keypoint_weights`` (if
    ``use_dataset_keypoint_weights``).
    Keys written: the codec outputs.

    Args:
        encoder (dict | list[dict]): codec config(s), built through
            ``KEYPOINT_CODECS`` (``mmpose_plus.registry``).
        use_dataset_keypoint_weights (bool): multiply ``keypoint_weights``
            by the dataset's per-joint weights. Defaults to False.

    Example:
        >>> t = GenerateTarget(encoder=dict(type='MSRAHeatmap',
        ...     input_size=(192, 256), heatmap_size=(48, 64), sigma=2))
        >>> out = t(dict(transformed_keypoints=np.full((1, 17, 2), 96.),
        ...              keypoints_visible=np.ones((1, 17))))
        >>> out['heatmaps'].shape, out['keypoint_weights'].shape
        ((17, 64, 48), (1, 17))
    """

    def __init__(self,
                 encoder: Union[dict, List[dict]],
                 use_dataset_keypoint_weights: bool = False) -> None:
        self.encoder_cfg = encoder
        self.multilevel = isinstance(encoder, (list, tuple))
        cfgs = list(encoder) if self.multilevel else [encoder]
        self.encoders = [
            KEYPOINT_CODECS.build(dict(cfg)) if isinstance(cfg, dict) else cfg
            for cfg in cfgs
        ]
        self.use_dataset_keypoint_weights = use_dataset_keypoint_weights

    def transform(self, results: dict) -> dict:
        key = 'transformed_keypoints' if results.get(
            'transformed_keypoints') is not None else 'keypoints'
        _require(results, [key, 'keypoints_visible'], type(self).__name__)
        keypoints = results[key]
        visible = results['keypoints_visible']
        encoded = [
            enc.encode(keypoints=keypoints, keypoints_visible=visible)
            for enc in self.encoders
        ]
        if self.use_dataset_keypoint_weights:
            _require(results, ['dataset_keypoint_weights'],
                     type(self).__name__)
            joint_w = np.asarray(
                results['dataset_keypoint_weights'], dtype=np.float32)
            for enc in encoded:
                if 'keypoint_weights' in enc:
                    enc['keypoint_weights'] = enc['keypoint_weights'] * joint_w
        if self.multilevel:
            keys = set(encoded[0])
            if any(set(e) != keys for e in encoded):
                raise ValueError('GenerateTarget: the codecs of a multilevel '
                                 'encoder must return the same keys, got '
                                 f'{[sorted(e) for e in encoded]}')
            results.update({k: [e[k] for e in encoded] for k in encoded[0]})
        else:
            results.update(encoded[0])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(encoder={self.encoder_cfg}, '
                'use_dataset_keypoint_weights='
                f'{self.use_dataset_keypoint_weights})')


def _to_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.from_numpy(np.ascontiguousarray(value))


def _image_to_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackPoseInputs(BaseTransform):
    """Pack the image tensor and a :class:`PoseDataSample`.

    Output: ``dict(inputs=Tensor (C, H, W) (a list for multi-scale
    images), data_samples=PoseDataSample)`` with

    - ``gt_instances`` (numpy): ``bbox``->``bboxes``, ``bbox_score``->
      ``bbox_scores``, ``bbox_center``->``bbox_centers``, ``bbox_scale``->
      ``bbox_scales``, ``keypoints``, ``keypoints_visible``,
      ``transformed_keypoints``, ``area``->``areas``;
    - ``gt_instance_labels`` (tensors): ``keypoint_weights``,
      ``keypoint_indices``, ``keypoint_labels`` (an ``InstanceData``, or a
      ``BaseDataElement`` when the labels have different row counts, as
      with ``keypoint_indices`` padded to ``max_people``);
    - ``gt_fields`` (tensors): ``heatmaps`` (K, H, W), ``heatmap_mask``
      (1, H, W);
    - metainfo: the ``meta_keys`` present in the sample.

    List values (one per codec level) become a list of ``InstanceData`` /
    ``PixelData``. Extend the ``*_mapping_table`` class attributes in a
    subclass to pack more keys.

    Example:
        >>> out = PackPoseInputs()(dict(img=np.zeros((8, 6, 3), np.uint8),
        ...     img_id=3, keypoints=np.zeros((2, 17, 2)),
        ...     heatmaps=np.zeros((17, 2, 2), np.float32)))
        >>> out['inputs'].shape, out['data_samples'].img_id
        (torch.Size([3, 8, 6]), 3)
    """

    instance_mapping_table = dict(
        bbox='bboxes',
        bbox_score='bbox_scores',
        bbox_center='bbox_centers',
        bbox_scale='bbox_scales',
        keypoints='keypoints',
        keypoints_visible='keypoints_visible',
        transformed_keypoints='transformed_keypoints',
        area='areas')
    label_mapping_table = dict(
        keypoint_weights='keypoint_weights',
        keypoint_indices='keypoint_indices',
        keypoint_labels='keypoint_labels')
    field_mapping_table = dict(
        heatmaps='heatmaps', heatmap_mask='heatmap_mask')

    DEFAULT_META_KEYS = ('id', 'img_id', 'img_path', 'category_id',
                         'ori_shape', 'img_shape', 'input_size',
                         'input_center', 'input_scale', 'flip',
                         'flip_direction', 'flip_indices', 'warp_mat',
                         'aug_scales')

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        _require(results, ['img'], type(self).__name__)
        img = results['img']
        inputs = ([_image_to_tensor(i) for i in img] if isinstance(
            img, (list, tuple)) else _image_to_tensor(img))

        sample = PoseDataSample()
        sample.gt_instances = InstanceData(
            **{
                dst: np.asarray(results[src])
                for src, dst in self.instance_mapping_table.items()
                if results.get(src) is not None
            })
        labels = self._pack_levels(results, self.label_mapping_table,
                                   InstanceData)
        if labels is not None:
            sample.gt_instance_labels = labels
        fields = self._pack_levels(results, self.field_mapping_table,
                                   PixelData)
        if fields is not None:
            sample.gt_fields = fields
        sample.set_metainfo({
            k: results[k]
            for k in self.meta_keys if k in results
        })
        return dict(inputs=inputs, data_samples=sample)

    @staticmethod
    def _pack_levels(results: dict, table: Dict[str, str], cls):
        present = {
            dst: results[src]
            for src, dst in table.items() if results.get(src) is not None
        }
        if not present:
            return None

        def as_tensor(value):
            t = _to_tensor(np.asarray(value) if not isinstance(
                value, torch.Tensor) else value)
            return t[None] if cls is PixelData and t.ndim == 2 else t

        def build(items: dict):
            if cls is InstanceData and len({len(v)
                                            for v in items.values()}) > 1:
                # e.g. keypoint_indices padded to max_people rows next to
                # per-person keypoint_weights: not one row per instance
                return BaseDataElement(**items)
            return cls(**items)

        if any(isinstance(v, (list, tuple)) for v in present.values()):
            levels = max(
                len(v) for v in present.values()
                if isinstance(v, (list, tuple)))
            return [
                build({
                    k: as_tensor(v[lvl] if isinstance(v, (list,
                                                          tuple)) else v)
                    for k, v in present.items()
                }) for lvl in range(levels)
            ]
        return build({k: as_tensor(v) for k, v in present.items()})

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
