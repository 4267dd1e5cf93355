"""Skeleton transforms: frame sampling, keypoint slicing, compact cropping and
keypoint-aware flipping.

These transforms are drop-in replacements for mmaction2's transforms of the
same registered names, with three differences that matter in practice:

* they run on numpy 2 (no ``np.Inf``);
* bad input (``T`` different from ``total_frames``, an empty clip) raises a
  ``ValueError`` naming the sample instead of an ``AssertionError`` or a deep
  numpy traceback;
* the compact crop box of :class:`PoseCompact` / :class:`MMCompact` is computed
  from keypoints clipped to the image, so one stray detection far outside the
  frame can no longer blow the crop up to an enormous (and, for
  :class:`MMCompact`, memory-hungry padded) box. Keypoints inside the image
  give results identical to mmaction2's; ``clip_box_to_image=False`` restores
  mmaction2's behaviour for keypoints outside it.

For the same inputs and the same numpy random state every transform returns
the same frame indices / coordinates as mmaction2 1.1.0 (tested with
mmaction2 as the oracle).

The "missing joint" convention of the reference is kept: a coordinate equal to
0 means "not detected" and is neither shifted by the compact crop nor mirrored
by the flip.
"""
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.image import iminvert
from mmcv.transforms import BaseTransform

from mmpose_plus.registry import TRANSFORMS

__all__ = [
    'UniformSampleFrames', 'MMUniformSampleFrames', 'PoseDecode',
    'PoseCompact', 'MMCompact', 'Flip', 'sample_uniform_clips',
    'compact_box'
]


def _sample_name(results: Dict) -> str:
    """A short human-readable identifier of the sample for error messages."""
    for key in ('frame_dir', 'filename'):
        if key in results:
            return f'{key}={results[key]!r}'
    return 'sample without frame_dir'


# ---------------------------------------------------------------------------
# Frame sampling
# ---------------------------------------------------------------------------
def _segment_clip(num_frames: int, clip_len: int,
                  rng: np.random.RandomState) -> np.ndarray:
    """Pick ``clip_len`` increasing frame indices from ``num_frames`` frames
    (``num_frames >= clip_len``), one per segment.

    The random calls (their kind, order and arguments) follow mmaction2 so the
    indices agree for the same random state.
    """
    if num_frames < 2 * clip_len:
        # Too few frames for real segments: start from 0..clip_len-1 and push
        # a random subset of the positions one frame further each.
        bumped = rng.choice(
            clip_len + 1, num_frames - clip_len, replace=False)
        step = np.zeros(clip_len + 1, dtype=np.int64)
        step[bumped] = 1
        return np.arange(clip_len) + np.cumsum(step)[:-1]
    edges = np.arange(clip_len + 1, dtype=np.int64) * num_frames // clip_len
    return edges[:-1] + rng.randint(np.diff(edges))


def sample_uniform_clips(num_frames: int,
                         clip_len: int,
                         num_clips: int = 1,
                         test_mode: bool = False,
                         rng: Optional[np.random.RandomState] = None
                         ) -> np.ndarray:
    """Frame indices of ``num_clips`` uniformly sampled clips.

    Indices are *not* wrapped: a clip longer than the video runs past
    ``num_frames`` and the caller takes them modulo ``num_frames``.

    Args:
        num_frames (int): Frames in the video (>= 1).
        clip_len (int): Frames per clip.
        num_clips (int): Number of clips. Defaults to 1.
        test_mode (bool): Deterministic start frames for short videos (spread
            over the clips) instead of random ones. Defaults to False.
        rng (np.random.RandomState, optional): Source of randomness; the
            global numpy random state (``np.random``) when None.

    Returns:
        np.ndarray: int64 indices of shape ``(num_clips * clip_len, )``.

    Example:
        >>> sample_uniform_clips(100, 8, 2, True,
        ...                      np.random.RandomState(0)).shape
        (16,)
    """
    # The numpy.random module exposes the global RandomState's methods.
    rng = np.random if rng is None else rng
    clips = []
    for clip_idx in range(num_clips):
        if num_frames < clip_len:
            if not test_mode:
                start = rng.randint(0, num_frames)
            elif num_frames < num_clips:
                start = clip_idx
            else:
                start = clip_idx * num_frames // num_clips
            clips.append(np.arange(start, start + clip_len))
        else:
            clips.append(_segment_clip(num_frames, clip_len, rng))
    return np.concatenate(clips)


@TRANSFORMS.register_module()
class UniformSampleFrames(BaseTransform):
    """Sample ``num_clips`` clips of ``clip_len`` frames spread uniformly over
    the video (one frame per equal-length segment).

    Training draws from the global numpy random state (so DataLoader worker
    seeding applies). Test mode is reproducible: it draws from a private
    ``RandomState(seed)`` and gives the indices mmaction2 gives after
    ``np.random.seed(seed)``, without reseeding the global state as mmaction2
    does. Videos shorter than ``clip_len`` are looped.

    Required Keys:

        - total_frames
        - start_index (optional, default 0)
        - keypoint (optional; only checked: its T must equal total_frames)

    Added Keys:

        - frame_inds (int32, ``(num_clips * clip_len, )``)
        - clip_len
        - frame_interval (None)
        - num_clips

    Args:
        clip_len (int): Frames per clip.
        num_clips (int): Clips to sample. Defaults to 1.
        test_mode (bool): Deterministic, seeded sampling. Defaults to False.
        seed (int): Seed of test mode. Defaults to 255.

    Example:
        >>> t = UniformSampleFrames(clip_len=48, num_clips=10, test_mode=True)
        >>> t(dict(total_frames=103))['frame_inds'].shape
        (480,)
    """

    def __init__(self,
                 clip_len: int,
                 num_clips: int = 1,
                 test_mode: bool = False,
                 seed: int = 255) -> None:
        self.clip_len = clip_len
        self.num_clips = num_clips
        self.test_mode = test_mode
        self.seed = seed

    def _rng(self):
        if self.test_mode:
            return np.random.RandomState(self.seed)
        return np.random

    def _sample(self, num_frames: int, clip_len: int) -> np.ndarray:
        inds = sample_uniform_clips(num_frames, clip_len, self.num_clips,
                                    self.test_mode, self._rng())
        return np.mod(inds, num_frames)

    @staticmethod
    def _check_frames(results: Dict) -> int:
        num_frames = results['total_frames']
        if num_frames < 1:
            raise ValueError(
                f'{_sample_name(results)}: total_frames={num_frames}, '
                'a clip needs at least one frame')
        kp = results.get('keypoint')
        if kp is not None and kp.shape[1] != num_frames:
            raise ValueError(
                f'{_sample_name(results)}: keypoint has T={kp.shape[1]} '
                f'frames but total_frames={num_frames}')
        return num_frames

    def transform(self, results: Dict) -> Dict:
        num_frames = self._check_frames(results)
        inds = self._sample(num_frames, self.clip_len)
        inds = inds + results.get('start_index', 0)
        results['frame_inds'] = inds.astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode}, '
                f'seed={self.seed})')


@TRANSFORMS.register_module()
class MMUniformSampleFrames(UniformSampleFrames):
    """Uniform sampling with one clip length per modality (RGBPose).

    Every modality gets its own indices (e.g. 8 RGB frames and 32 pose frames
    over the same video), drawn in the order of ``clip_len``'s keys.

    Required Keys:

        - total_frames
        - modality (if not already a list, it is replaced by the list of
          ``clip_len``'s keys)

    Modified Keys:

        - modality

    Added Keys:

        - ``{modality}_inds`` for every modality (int32), e.g. RGB_inds,
          Pose_inds
        - clip_len (the dict)
        - frame_interval (None)
        - num_clips

    Args:
        clip_len (dict[str, int]): Frames per clip for each modality, e.g.
            ``dict(RGB=8, Pose=32)``.
        num_clips (int): Clips to sample. Defaults to 1.
        test_mode (bool): Deterministic, seeded sampling (each modality is
            drawn from a fresh ``RandomState(seed)``). Defaults to False.
        seed (int): Seed of test mode. Defaults to 255.

    Example:
        >>> t = MMUniformSampleFrames(dict(RGB=8, Pose=32), test_mode=True)
        >>> out = t(dict(total_frames=72, modality='Pose'))
        >>> out['RGB_inds'].shape, out['Pose_inds'].shape, out['modality']
        ((8,), (32,), ['RGB', 'Pose'])
    """

    def __init__(self,
                 clip_len: Dict[str, int],
                 num_clips: int = 1,
                 test_mode: bool = False,
                 seed: int = 255) -> None:
        if not isinstance(clip_len, dict) or not clip_len:
            raise ValueError('MMUniformSampleFrames needs clip_len as a dict '
                             f'{{modality: frames}}, got {clip_len!r}')
        super().__init__(dict(clip_len), num_clips, test_mode, seed)

    def transform(self, results: Dict) -> Dict:
        num_frames = self._check_frames(results)
        for modality, clip_len in self.clip_len.items():
            inds = self._sample(num_frames, clip_len)
            results[f'{modality}_inds'] = inds.astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        if not isinstance(results.get('modality'), list):
            results['modality'] = list(self.clip_len)
        return results


# ---------------------------------------------------------------------------
# Keypoint slicing
# ---------------------------------------------------------------------------
@TRANSFORMS.register_module()
class PoseDecode(BaseTransform):
    """Keep the keypoints of the sampled frames.

    Works for any number of persons, including ``M = 0``.

    Required Keys:

        - keypoint (M, T, V, C)
        - keypoint_score (optional, (M, T, V))
        - frame_inds (optional, all frames when absent)
        - offset (optional, added to frame_inds)
        - total_frames (optional, taken from keypoint when absent)

    Modified Keys:

        - keypoint (float32, (M, len(frame_inds), V, C))
        - keypoint_score (optional, float32)
        - frame_inds (squeezed to 1-D)

    Added Keys:

        - total_frames (when absent)
        - frame_inds (when absent)

    Example:
        >>> out = PoseDecode()(dict(keypoint=np.zeros((2, 50, 17, 2)),
        ...                         frame_inds=np.arange(0, 50, 2)))
        >>> out['keypoint'].shape, out['keypoint'].dtype
        ((2, 25, 17, 2), dtype('float32'))
    """

    @staticmethod
    def _take(arr: np.ndarray, inds: np.ndarray) -> np.ndarray:
        # Fancy indexing already copies; astype(copy=False) avoids a second.
        return np.asarray(arr)[:, inds].astype(np.float32, copy=False)

    def transform(self, results: Dict) -> Dict:
        kp = results['keypoint']
        results.setdefault('total_frames', kp.shape[1])
        if 'frame_inds' not in results:
            results['frame_inds'] = np.arange(results['total_frames'])
        if results['frame_inds'].ndim != 1:
            results['frame_inds'] = np.squeeze(results['frame_inds'])
        inds = results['frame_inds'] + results.get('offset', 0)
        if 'keypoint_score' in results:
            results['keypoint_score'] = self._take(results['keypoint_score'],
                                                   inds)
        results['keypoint'] = self._take(kp, inds)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


# ---------------------------------------------------------------------------
# Compact crop
# ---------------------------------------------------------------------------
def _as_ratio_pair(hw_ratio) -> Optional[Tuple[float, float]]:
    if hw_ratio is None:
        return None
    if isinstance(hw_ratio, Number):
        return (hw_ratio, hw_ratio)
    pair = tuple(hw_ratio)
    if len(pair) != 2:
        raise ValueError(
            f'hw_ratio must be a number or a (min, max) pair, got {hw_ratio}')
    return pair


def compact_box(keypoint: np.ndarray,
                img_shape: Tuple[int, int],
                padding: float = 0.25,
                threshold: float = 10,
                hw_ratio: Optional[Tuple[float, float]] = None,
                allow_imgpad: bool = True,
                clip_to_image: bool = True) -> Optional[Tuple[int, ...]]:
    """The integer box ``(x0, y0, x1, y1)`` that tightly surrounds every
    detected joint of a clip, enlarged by ``padding``.

    Coordinates equal to 0 are "missing" and ignored (x and y separately, as
    in mmaction2). ``keypoint`` must be free of NaN.

    Args:
        keypoint (np.ndarray): ``(..., C>=2)`` pixel coordinates.
        img_shape (tuple[int, int]): ``(h, w)`` of the image.
        padding (float): Relative enlargement of the tight box (0.25 makes
            it 1.25x wider and taller around the same center).
        threshold (float): No box (None) when the tight box is narrower or
            lower than this many pixels.
        hw_ratio (tuple[float, float], optional): Enlarge the box so that
            ``h/w`` is within ``[hw_ratio[0], hw_ratio[1]]``.
        allow_imgpad (bool): Whether the box may extend outside the image;
            when False it is cut to the image.
        clip_to_image (bool): Clip joints to ``[0, w] x [0, h]`` before
            taking the tight box, so that detections outside the frame
            cannot inflate it. No effect when every joint is inside.

    Returns:
        tuple[int, int, int, int] | None: The box, or None when too small
        (including a clip without any detected joint).

    Example:
        >>> kp = np.array([[[[20., 30.], [60., 90.]]]], np.float32)
        >>> compact_box(kp, (100, 100), hw_ratio=(1., 1.))
        (2, 22, 77, 97)
    """
    h, w = img_shape
    xs, ys = keypoint[..., 0], keypoint[..., 1]
    xs, ys = xs[xs != 0], ys[ys != 0]
    if xs.size == 0 or ys.size == 0:
        return None
    min_x, max_x, min_y, max_y = xs.min(), xs.max(), ys.min(), ys.max()
    if clip_to_image:
        # Clipping the extremes equals clipping every joint (monotonic), and
        # keeps the float32 scalars untouched when they are inside already.
        min_x, max_x = np.clip(min_x, 0, w), np.clip(max_x, 0, w)
        min_y, max_y = np.clip(min_y, 0, h), np.clip(max_y, 0, h)
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return None

    # The arithmetic below mirrors the reference operation for operation on
    # the same scalar types: int() truncation makes the result sensitive to
    # the last bit.
    center = ((max_x + min_x) / 2, (max_y + min_y) / 2)
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_h = max(hw_ratio[0] * half_w, half_h)
        half_w = max(1 / hw_ratio[1] * half_h, half_w)
    x0, x1 = center[0] - half_w, center[0] + half_w
    y0, y1 = center[1] - half_h, center[1] + half_h
    if allow_imgpad:
        return int(x0), int(y0), int(x1), int(y1)
    return int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1))


def _shift_detected(keypoint: np.ndarray, dx: int, dy: int) -> None:
    """Move detected (non-zero) coordinates by ``(-dx, -dy)`` in place."""
    kp_x, kp_y = keypoint[..., 0], keypoint[..., 1]
    kp_x[kp_x != 0] -= dx
    kp_y[kp_y != 0] -= dy


def _combine_quadruple(outer: Sequence[float],
                       inner: Sequence[float]) -> Tuple[float, ...]:
    """Compose two relative ``(x, y, w, h)`` crops (inner within outer)."""
    return (outer[0] + outer[2] * inner[0], outer[1] + outer[3] * inner[1],
            outer[2] * inner[2], outer[3] * inner[3])


class _CompactBase(BaseTransform):

    def __init__(self, padding: float, threshold: float, hw_ratio,
                 allow_imgpad: bool, clip_box_to_image: bool) -> None:
        if padding < 0:
            raise ValueError(f'padding must be >= 0, got {padding}')
        self.padding = padding
        self.threshold = threshold
        self.hw_ratio = _as_ratio_pair(hw_ratio)
        self.allow_imgpad = allow_imgpad
        self.clip_box_to_image = clip_box_to_image

    def _box(self, kp: np.ndarray, img_shape) -> Optional[Tuple[int, ...]]:
        # NaN means "not detected": same convention as a 0 coordinate.
        np.nan_to_num(kp, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return compact_box(kp, img_shape, self.padding, self.threshold,
                           self.hw_ratio, self.allow_imgpad,
                           self.clip_box_to_image)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(padding={self.padding}, '
                f'threshold={self.threshold}, hw_ratio={self.hw_ratio}, '
                f'allow_imgpad={self.allow_imgpad}, '
                f'clip_box_to_image={self.clip_box_to_image})')


@TRANSFORMS.register_module()
class PoseCompact(_CompactBase):
    """Re-frame the keypoints to a box tightly around all joints of the clip
    (plus ``padding``), so the person fills the heatmaps.

    Nothing changes when the tight box is smaller than ``threshold`` pixels
    or no joint is detected (e.g. a clip with zero persons). NaN and
    infinite coordinates are set to 0 ("not detected").

    Keypoints outside the image: the box is computed from joints clipped to
    the image (``clip_box_to_image=True``), so a stray detection cannot
    inflate the crop; the joint itself keeps its (shifted) coordinate and
    falls outside the new frame. mmaction2 instead stretches the box to
    include it.

    Required Keys:

        - keypoint (M, T, V, C), modified in place
        - img_shape (h, w)
        - crop_quadruple (optional)

    Modified Keys:

        - keypoint
        - img_shape

    Added Keys:

        - crop_quadruple (relative x, y, w, h of the crop in the original
          image)

    Args:
        padding (float): Relative enlargement of the tight box. Defaults to
            0.25.
        threshold (float): Minimum size of the tight box in pixels. Defaults
            to 10.
        hw_ratio (float | tuple[float, float], optional): Required h/w ratio
            (or range) of the box. Defaults to None.
        allow_imgpad (bool): Whether the box may extend outside the image.
            Defaults to True.
        clip_box_to_image (bool): See above. Defaults to True.

    Example:
        >>> kp = np.zeros((1, 4, 17, 2), np.float32)
        >>> kp[..., 0] = 100 + np.arange(17)
        >>> kp[..., 1] = 50 + 3 * np.arange(17)
        >>> out = PoseCompact(hw_ratio=1.)(dict(keypoint=kp,
        ...                                     img_shape=(480, 640)))
        >>> out['img_shape']
        (60, 60)
    """

    def __init__(self,
                 padding: float = 0.25,
                 threshold: float = 10,
                 hw_ratio: Optional[Union[float, Tuple[float, float]]] = None,
                 allow_imgpad: bool = True,
                 clip_box_to_image: bool = True) -> None:
        super().__init__(padding, threshold, hw_ratio, allow_imgpad,
                         clip_box_to_image)

    def transform(self, results: Dict) -> Dict:
        h, w = results['img_shape']
        kp = results['keypoint']
        box = self._box(kp, (h, w))
        if box is None:
            return results
        x0, y0, x1, y1 = box
        _shift_detected(kp, x0, y0)
        results['img_shape'] = (y1 - y0, x1 - x0)
        results['crop_quadruple'] = _combine_quadruple(
            results.get('crop_quadruple', (0., 0., 1., 1.)),
            (x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h))
        return results


def crop_with_padding(imgs: List[np.ndarray],
                      box: Tuple[int, int, int, int]) -> List[np.ndarray]:
    """Crop every frame to ``box = (x0, y0, x1, y1)``; parts of the box
    outside the frame are filled with zeros.

    Equivalent to zero-padding each frame until the box fits and cropping,
    but copies only the visible region (no full-frame padded copy). When the
    box is inside the frame the crops are views.

    Example:
        >>> out = crop_with_padding([np.ones((4, 6, 3), np.uint8)],
        ...                         (-2, 1, 5, 4))
        >>> out[0].shape, int(out[0][:, :2].sum())
        ((3, 7, 3), 0)
    """
    if not imgs:
        return imgs
    x0, y0, x1, y1 = box
    h, w = imgs[0].shape[:2]
    if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
        return [img[y0:y1, x0:x1] for img in imgs]
    # Intersection of the box with the frame, in frame and in box coords.
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    out = []
    for img in imgs:
        canvas = np.zeros((y1 - y0, x1 - x0) + img.shape[2:], img.dtype)
        if fx1 > fx0 and fy1 > fy0:
            canvas[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0] = img[fy0:fy1,
                                                               fx0:fx1]
        out.append(canvas)
    return out


@TRANSFORMS.register_module()
class MMCompact(_CompactBase):
    """Crop frames and keypoints together to a box tightly around all joints
    of the clip (plus ``padding``), for RGBPose.

    When the tight box is smaller than ``threshold`` (or no joint is
    detected, e.g. zero persons) the whole frame is kept. Parts of the box
    outside the frame are zero-filled. Keypoints outside the image: see
    :class:`PoseCompact` (the box is computed from joints clipped to the
    image by default).

    Required Keys:

        - imgs (list of (H, W, C) frames)
        - keypoint (M, T, V, C), modified in place
        - img_shape (h, w) that the keypoints refer to

    Modified Keys:

        - imgs
        - keypoint
        - img_shape

    Args:
        padding (float): Relative enlargement of the tight box. Defaults to
            0.25.
        threshold (float): Minimum size of the tight box in pixels. Defaults
            to 10.
        hw_ratio (float | tuple[float, float], optional): Required h/w ratio
            (or range) of the box. Defaults to 1.
        allow_imgpad (bool): Whether the box may extend outside the image
            (zero-filled). Defaults to True.
        clip_box_to_image (bool): See :class:`PoseCompact`. Defaults to
            True.

    Example:
        >>> kp = np.zeros((1, 2, 17, 2), np.float32)
        >>> kp[..., 0] = 100 + np.arange(17)
        >>> kp[..., 1] = 50 + 3 * np.arange(17)
        >>> out = MMCompact()(dict(imgs=[np.zeros((480, 640, 3), np.uint8)],
        ...                        keypoint=kp, img_shape=(480, 640)))
        >>> out['img_shape'], out['imgs'][0].shape
        ((60, 60), (60, 60, 3))
    """

    def __init__(self,
                 padding: float = 0.25,
                 threshold: float = 10,
                 hw_ratio: Optional[Union[float, Tuple[float, float]]] = 1,
                 allow_imgpad: bool = True,
                 clip_box_to_image: bool = True) -> None:
        super().__init__(padding, threshold, hw_ratio, allow_imgpad,
                         clip_box_to_image)

    def transform(self, results: Dict) -> Dict:
        h, w = results['img_shape']
        kp = results['keypoint']
        box = self._box(kp, (h, w))
        x0, y0, x1, y1 = (0, 0, w, h) if box is None else box
        _shift_detected(kp, x0, y0)
        results['img_shape'] = (y1 - y0, x1 - x0)
        results['imgs'] = crop_with_padding(results['imgs'], (x0, y0, x1, y1))
        return results


# ---------------------------------------------------------------------------
# Flip
# ---------------------------------------------------------------------------
@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Flip frames and keypoints with probability ``flip_ratio``; left and
    right joints swap their indices so a flipped left wrist is still
    reported as a left wrist.

    Drop-in replacement of mmaction2's ``Flip`` for RGB, Flow, Pose and
    RGBPose pipelines: the same random draw (one ``np.random.rand()`` per
    call) and the same output. Keypoint x becomes ``img_width - x`` for
    detected joints (x != 0 stays "missing"); horizontal only for keypoints.
    Flipped frames are new arrays. For Flow, every even-indexed frame
    (flow-x) is also inverted.

    Required Keys:

        - img_shape (or imgs, to derive it)
        - modality (optional)
        - imgs (optional)
        - keypoint (optional, (M, T, V, C))
        - keypoint_score (optional, (M, T, V))
        - label (optional, with flip_label_map)
        - gt_bboxes / proposals (optional)
        - lazy (with lazy=True)

    Modified Keys:

        - imgs
        - keypoint
        - keypoint_score
        - label
        - gt_bboxes / proposals
        - lazy (flip, flip_direction)

    Added Keys:

        - flip (bool)
        - flip_direction
        - img_shape (when absent)

    Args:
        flip_ratio (float): Probability of flipping. Defaults to 0.5.
        direction (str): 'horizontal' or 'vertical'. Defaults to
            'horizontal'.
        flip_label_map (dict[int, int], optional): Label of the flipped clip
            for direction-sensitive classes. Defaults to None.
        left_kp (list[int], optional): Indices of left joints. Defaults to
            None (no swap).
        right_kp (list[int], optional): Indices of the matching right joints.
            Defaults to None.
        lazy (bool): Record the flip for a later ``Fuse`` instead of
            flipping (not with keypoints). Defaults to False.

    Example:
        >>> kp = np.zeros((1, 1, 17, 2), np.float32)
        >>> kp[0, 0, 1] = [10, 5]  # left eye
        >>> out = Flip(1., left_kp=[1], right_kp=[2])(dict(
        ...     keypoint=kp, img_shape=(64, 64), modality='Pose'))
        >>> out['keypoint'][0, 0, 2].tolist()  # now the right eye
        [54.0, 5.0]
    """
    _directions = ('horizontal', 'vertical')

    def __init__(self,
                 flip_ratio: float = 0.5,
                 direction: str = 'horizontal',
                 flip_label_map: Optional[Dict[int, int]] = None,
                 left_kp: Optional[Sequence[int]] = None,
                 right_kp: Optional[Sequence[int]] = None,
                 lazy: bool = False) -> None:
        if direction not in self._directions:
            raise ValueError(f'Flip direction {direction!r} is not one of '
                             f'{self._directions}')
        if (left_kp is None) != (right_kp is None) or (
                left_kp is not None and len(left_kp) != len(right_kp)):
            raise ValueError('left_kp and right_kp must be given together and '
                             f'have equal lengths, got {left_kp} / '
                             f'{right_kp}')
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map
        self.left_kp = None if left_kp is None else list(left_kp)
        self.right_kp = None if right_kp is None else list(right_kp)
        self.lazy = lazy

    def _joint_order(self, num_joints: int) -> np.ndarray:
        order = np.arange(num_joints)
        if self.left_kp is not None:
            order[self.left_kp] = self.right_kp
            order[self.right_kp] = self.left_kp
        return order

    def _flip_keypoints(self, results: Dict, img_width: int) -> None:
        order = self._joint_order(results['keypoint'].shape[2])
        kp = results['keypoint'][:, :, order]  # fancy indexing: a copy
        kp_x = kp[..., 0]
        detected = kp_x != 0
        kp_x[detected] = img_width - kp_x[detected]
        results['keypoint'] = kp
        if 'keypoint_score' in results:
            results['keypoint_score'] = results['keypoint_score'][:, :, order]

    def _flip_frames(self, imgs: List[np.ndarray], modality) -> List:
        code = 1 if self.direction == 'horizontal' else 0
        # New arrays rather than in-place flips: frames may be views of one
        # decoded batch, or repeat the same array, and an in-place flip would
        # then flip shared pixels twice.
        imgs = [cv2.flip(img, code) for img in imgs]
        if modality == 'Flow':
            # Flow-x (even frames) changes sign under a mirror; flow is stored
            # around 128, so the reference negates it as 255 - v.
            for i in range(0, len(imgs), 2):
                imgs[i] = iminvert(imgs[i])
        return imgs

    @staticmethod
    def _flip_boxes(box: np.ndarray, img_width: int) -> np.ndarray:
        out = box.copy()
        out[..., 0::4] = img_width - box[..., 2::4]
        out[..., 2::4] = img_width - box[..., 0::4]
        return out

    def transform(self, results: Dict) -> Dict:
        if 'img_shape' not in results:
            results['img_shape'] = results['imgs'][0].shape[:2]
        has_kp = 'keypoint' in results
        if has_kp and (self.lazy or self.direction != 'horizontal'):
            raise ValueError('Flip of keypoints needs lazy=False and '
                             "direction='horizontal'")
        modality = results.get('modality')
        if modality == 'Flow' and self.direction != 'horizontal':
            raise ValueError('Flip of optical flow must be horizontal')
        if self.lazy:
            if 'lazy' not in results:
                h, w = results['img_shape']
                results['lazy'] = dict(
                    original_shape=results['img_shape'],
                    crop_bbox=np.array([0, 0, w, h], dtype=np.float32),
                    flip=False,
                    flip_direction=None,
                    interpolation=None)
        elif 'lazy' in results:
            raise ValueError('Flip(lazy=False) after lazy transforms: add '
                             'Fuse first')

        flip = np.random.rand() < self.flip_ratio
        results['flip'] = flip
        results['flip_direction'] = self.direction
        img_width = results['img_shape'][1]

        if flip and self.flip_label_map is not None:
            results['label'] = self.flip_label_map.get(results['label'],
                                                       results['label'])
        if self.lazy:
            if results['lazy']['flip']:
                raise NotImplementedError('Only one lazy Flip is supported')
            results['lazy']['flip'] = flip
            results['lazy']['flip_direction'] = self.direction
        elif flip:
            if 'imgs' in results:
                results['imgs'] = self._flip_frames(results['imgs'], modality)
            if has_kp:
                self._flip_keypoints(results, img_width)

        if flip and 'gt_bboxes' in results:
            if self.lazy or self.direction != 'horizontal':
                raise ValueError('Flip of boxes needs lazy=False and '
                                 "direction='horizontal'")
            results['gt_bboxes'] = self._flip_boxes(results['gt_bboxes'],
                                                    img_width)
            if results.get('proposals') is not None:
                results['proposals'] = self._flip_boxes(
                    results['proposals'], img_width)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(flip_ratio={self.flip_ratio}, '
                f'direction={self.direction}, '
                f'flip_label_map={self.flip_label_map}, '
                f'left_kp={self.left_kp}, right_kp={self.right_kp}, '
                f'lazy={self.lazy})')
