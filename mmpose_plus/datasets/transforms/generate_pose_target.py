"""Pseudo-heatmap targets for PoseC3D / RGBPoseConv3D.

Two interchangeable ends of a skeleton pipeline:

* :class:`GeneratePoseTarget` renders the heatmap volume in the data
  pipeline (numpy, vectorised; same maps as mmaction2's transform of the
  same name).
* :class:`PackPoseKeypoints` ships only the keypoints (a few KB per sample)
  and leaves rendering to
  :class:`~mmpose_plus.models.data_preprocessors.HeatmapDataPreprocessor`
  on the model's device.

Corrupt keypoints (non-finite coordinates of a joint that has a score of at
least ``1e-4``, or a non-finite score) raise a ``ValueError`` that names the
sample, unless ``invalid_keypoints='absent'``, which draws such joints as
missing. Non-finite coordinates with a score below ``1e-4`` are how missing
joints are often stored and are always accepted.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmaction.datasets.transforms import PackActionInputs
from mmcv.transforms import BaseTransform

from mmpose_plus.registry import TRANSFORMS
from .heatmap_rendering import (COCO_LEFT_KP, COCO_LEFT_LIMB, COCO_RIGHT_KP,
                                COCO_RIGHT_LIMB, COCO_SKELETON,
                                PoseTargetOptions, heatmap_canvas,
                                invalid_joint_mask, render_pose_heatmaps)

__all__ = ['GeneratePoseTarget', 'PackPoseKeypoints']

_POLICIES = ('raise', 'absent')


def _sample_name(results: Dict) -> str:
    for key in ('frame_dir', 'filename', 'img_path'):
        if results.get(key) is not None:
            return str(results[key])
    return '<unnamed sample>'


def _read_keypoints(results: Dict, owner: str,
                    policy: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``keypoint`` (M, T, V, C>=2) and ``keypoint_score`` (or None), checked.

    Raises a readable error naming the sample for missing keys, bad shapes
    and (with ``policy='raise'``) corrupt joints.
    """
    name = _sample_name(results)
    for key in ('keypoint', 'img_shape'):
        if key not in results:
            raise KeyError(f'{owner}: sample {name!r} has no {key!r}')
    keypoint = np.asarray(results['keypoint'])
    if keypoint.ndim != 4 or keypoint.shape[-1] < 2:
        raise ValueError(f'{owner}: sample {name!r} has keypoint of shape '
                         f'{keypoint.shape}, expected (M, T, V, 2 or 3)')
    scores = results.get('keypoint_score')
    if scores is not None:
        scores = np.asarray(scores)
        if scores.shape != keypoint.shape[:3]:
            raise ValueError(
                f'{owner}: sample {name!r} has keypoint_score of shape '
                f'{scores.shape}, expected {keypoint.shape[:3]} to match '
                f'keypoint {keypoint.shape}')
    if policy == 'raise':
        bad = invalid_joint_mask(keypoint, scores)
        if bad.any():
            m, t, v = (int(i[0]) for i in np.nonzero(bad))
            where = f'person {m}, clip frame {t}'
            frame_inds = results.get('frame_inds')
            if frame_inds is not None and np.size(frame_inds) > t:
                where += f' (video frame {int(np.ravel(frame_inds)[t])})'
            score = 'none' if scores is None else scores[m, t, v]
            raise ValueError(
                f'{owner}: sample {name!r} has {int(bad.sum())} joint(s) '
                f'with non-finite coordinates or scores; first at {where}, '
                f'joint {v}: xy={keypoint[m, t, v, :2].tolist()}, '
                f'score={score}. Fix the annotation, or pass '
                "invalid_keypoints='absent' to draw such joints as missing.")
    return keypoint, scores


def _check_policy(policy: str) -> str:
    if policy not in _POLICIES:
        raise ValueError(f'invalid_keypoints must be one of {_POLICIES}, '
                         f'got {policy!r}')
    return policy


@TRANSFORMS.register_module()
class GeneratePoseTarget(PoseTargetOptions, BaseTransform):
    """Render PoseC3D pseudo-heatmap volumes from keypoints (numpy).

    Same arguments and maps as mmaction2's ``GeneratePoseTarget`` (max abs
    difference below 1e-5), rendered by the vectorised
    :func:`~.heatmap_rendering.render_pose_heatmaps` instead of a Python
    loop over frames, joints and persons. The rendering rules (windows,
    score threshold, clipping of keypoints outside the image) are listed in
    :mod:`~.heatmap_rendering`.

    One deliberate difference: with both ``with_kp`` and ``with_limb``,
    mmaction2 draws the limbs over the first ``L`` keypoint channels and
    leaves the last ``L`` channels empty; here the output is the keypoint
    channels followed by the limb channels, and ``double`` swaps each part
    with its own left/right pairs.

    Required keys:

        - keypoint (M, T, V, 2 or 3), in image pixels
        - img_shape
        - keypoint_score (optional; all ones if absent)
        - frame_dir / filename (optional; used in error messages)

    Added keys:

        - imgs: float32 ``(T, C, H, W)``, or ``(2T, C, H, W)`` with
          ``double`` (originals, then the flipped clip); written to
          ``heatmap_imgs`` instead when ``imgs`` already holds RGB frames.

    Args:
        sigma (float): Gaussian sigma in heatmap pixels. Defaults to 0.6.
        use_score (bool): Scale each joint's gaussian by its score.
            Defaults to True.
        with_kp (bool): Render one channel per joint. Defaults to True.
        with_limb (bool): Render one channel per limb. Defaults to False.
        skeletons (Sequence): Limbs as joint index pairs. Defaults to the
            COCO-17 skeleton.
        double (bool): Append the horizontally flipped volume (left/right
            channels swapped) for flip-averaged testing. Defaults to False.
        left_kp, right_kp (Sequence[int]): Left/right joint pairs for
            ``double``. Default to COCO-17.
        left_limb, right_limb (Sequence[int]): Left/right limb pairs for
            ``double``. Default to the COCO-17 skeleton.
        scaling (float): Heatmap size relative to ``img_shape``.
            Defaults to 1.
        invalid_keypoints (str): ``'raise'`` (default) or ``'absent'``;
            see the module docstring.

    Example:
        >>> t = GeneratePoseTarget(sigma=0.6)
        >>> results = dict(keypoint=np.random.rand(2, 48, 17, 2) * 56,
        ...                keypoint_score=np.ones((2, 48, 17)),
        ...                img_shape=(56, 56))
        >>> t(results)['imgs'].shape
        (48, 17, 56, 56)
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
                 invalid_keypoints: str = 'raise') -> None:
        self._set_target_options(sigma, use_score, with_kp, with_limb,
                                 skeletons, double, left_kp, right_kp,
                                 left_limb, right_limb, scaling)
        self.invalid_keypoints = _check_policy(invalid_keypoints)

    def transform(self, results: Dict) -> Dict:
        """Add the heatmap volume to ``results``."""
        keypoint, scores = _read_keypoints(results,
                                           type(self).__name__,
                                           self.invalid_keypoints)
        canvas = heatmap_canvas(results['img_shape'], self.scaling)
        coords = keypoint[..., :2].astype(np.float32)
        coords *= self.scaling  # float32, as the reference does
        flip = None
        if self.double:
            flip = self.flip_channels(keypoint.shape[2])
        heatmaps = render_pose_heatmaps(coords,
                                        scores if self.use_score else None,
                                        canvas,
                                        sigma=self.sigma,
                                        with_kp=self.with_kp,
                                        with_limb=self.with_limb,
                                        skeleton=self.skeletons,
                                        flip_indices=flip)
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmaps
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sigma={self.sigma}, '
                f'use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, '
                f'double={self.double}, left_kp={self.left_kp}, '
                f'right_kp={self.right_kp}, left_limb={self.left_limb}, '
                f'right_limb={self.right_limb}, scaling={self.scaling}, '
                f'invalid_keypoints={self.invalid_keypoints!r})')


@TRANSFORMS.register_module()
class PackPoseKeypoints(PackActionInputs):
    """Pack keypoints for heatmap rendering on the model's device.

    Ends a skeleton pipeline in place of ``GeneratePoseTarget`` (+
    ``FormatShape('NCTHW_Heatmap')``) + ``PackActionInputs``, with
    :class:`~mmpose_plus.models.data_preprocessors.HeatmapDataPreprocessor`
    as the model's data preprocessor (which holds sigma, scaling, double,
    ...). For RGBPose keep ``FormatShape('NCTHW')`` before it and pass
    ``collect_keys=('imgs', 'heatmap_imgs')``.

    The packet is float32 ``(num_clips, M, clip_len, V, 3)`` holding
    ``[x, y, score]`` in image pixels (score 1 when ``keypoint_score`` is
    absent): about 20 KB for 2 persons x 48 frames, against 10 MB for the
    56x56 heatmap volume. Everything else is packed as by
    ``PackActionInputs``; ``img_shape`` is always among the meta keys.

    Required keys:

        - keypoint (M, num_clips * clip_len, V, 2 or 3), img_shape
        - keypoint_score (optional), num_clips / clip_len (optional; an
          int, or a dict whose ``'Pose'`` entry is used)
        - imgs (optional: RGB frames already formatted), label, meta keys

    Added keys:

        - heatmap_double

    Returned (as by ``PackActionInputs``):

        - inputs: the packet, or a dict with the packet under
          ``heatmap_imgs`` when ``collect_keys`` is given
        - data_samples

    Args:
        collect_keys (tuple[str], optional): As in ``PackActionInputs``.
        meta_keys (Sequence[str]): As in ``PackActionInputs``;
            ``img_shape`` and ``heatmap_double`` are added when missing.
        double (bool): Ask the device renderer for flip-doubled volumes
            (the test-pipeline counterpart of
            ``GeneratePoseTarget(double=True)``; the left/right pairs are
            the preprocessor's). Stored as ``heatmap_double`` in the
            sample's metainfo. Defaults to False.
        invalid_keypoints (str): ``'raise'`` (default) or ``'absent'``; see
            the module docstring. Absent joints reach the device as they
            are and are skipped there.

    Example:
        >>> pack = PackPoseKeypoints()
        >>> out = pack(dict(keypoint=np.random.rand(2, 48, 17, 2) * 56,
        ...                 img_shape=(56, 56), label=0))
        >>> tuple(out['inputs'].shape)
        (1, 2, 48, 17, 3)
    """

    def __init__(self,
                 collect_keys: Optional[Tuple[str]] = None,
                 meta_keys: Sequence[str] = ('img_shape', 'img_key',
                                             'video_id', 'timestamp'),
                 double: bool = False,
                 invalid_keypoints: str = 'raise') -> None:
        meta_keys = tuple(meta_keys)
        meta_keys += tuple(key for key in ('img_shape', 'heatmap_double')
                           if key not in meta_keys)
        super().__init__(collect_keys=collect_keys, meta_keys=meta_keys)
        self.double = double
        self.invalid_keypoints = _check_policy(invalid_keypoints)

    def transform(self, results: Dict) -> Dict:
        """Replace the pose modality with a keypoint packet and pack."""
        owner = type(self).__name__
        keypoint, scores = _read_keypoints(results, owner,
                                           self.invalid_keypoints)
        num_person, num_frames, num_joints = keypoint.shape[:3]
        num_clips = int(results.get('num_clips', 1))
        clip_len = results.get('clip_len', num_frames // max(num_clips, 1))
        if isinstance(clip_len, dict):
            clip_len = clip_len['Pose']
        if num_clips * clip_len != num_frames:
            raise ValueError(
                f'{owner}: sample {_sample_name(results)!r} has {num_frames} '
                f'frames of keypoints, expected num_clips x clip_len = '
                f'{num_clips} x {clip_len}')
        packet = np.empty((num_person, num_clips, clip_len, num_joints, 3),
                          np.float32)
        packet[..., :2] = keypoint[..., :2].reshape(packet.shape[:-1] + (2, ))
        packet[...,
               2] = 1 if scores is None else scores.reshape(packet.shape[:-1])
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = np.ascontiguousarray(packet.transpose(1, 0, 2, 3, 4))
        results['heatmap_double'] = self.double
        return super().transform(results)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(collect_keys={self.collect_keys}, '
                f'meta_keys={self.meta_keys}, double={self.double}, '
                f'invalid_keypoints={self.invalid_keypoints!r})')
