"""Video decoding for multi-modal (RGB + skeleton) clips."""
import io
import logging
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmpose_plus.registry import TRANSFORMS

__all__ = ['MMDecode', 'read_video_frames']


def _decode_with_decord(source, frame_inds: np.ndarray,
                        num_threads: int) -> Tuple[np.ndarray, int]:
    try:
        import decord
    except ImportError as err:  # pragma: no cover - decord is a dependency
        raise ImportError('MMDecode(backend="decord") needs decord: '
                          'pip install decord, or use backend="opencv"'
                          ) from err
    reader = decord.VideoReader(source, num_threads=num_threads)
    length = len(reader)
    if length == 0:
        raise ValueError('the video has no frames')
    inds = np.minimum(frame_inds, length - 1)
    frames = reader.get_batch(inds).asnumpy()
    del reader
    return frames, length


def _decode_with_opencv(path: str,
                        frame_inds: np.ndarray) -> Tuple[np.ndarray, int]:
    import cv2
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise ValueError('OpenCV cannot open the video')
    wanted = set(int(i) for i in frame_inds)
    last = max(wanted)
    decoded: Dict[int, np.ndarray] = {}
    length = 0
    # Sequential reading is exact for every codec; seeking by frame number
    # is not, so frames before the last wanted one are grabbed and dropped.
    while length <= last:
        if not cap.grab():
            break
        if length in wanted:
            ok, frame = cap.retrieve()
            if not ok:
                break
            decoded[length] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        length += 1
    cap.release()
    if length == 0:
        raise ValueError('the video has no frames')
    if length <= last:
        # Short video: the caller clamps to length - 1, which we must hold.
        if length - 1 not in decoded:
            cap = cv2.VideoCapture(path)
            for _ in range(length):
                cap.grab()
            ok, frame = cap.retrieve()
            cap.release()
            if not ok:
                raise ValueError(f'cannot read frame {length - 1}')
            decoded[length - 1] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    inds = np.minimum(frame_inds, length - 1)
    return np.stack([decoded[int(i)] for i in inds]), length


def read_video_frames(filename: str,
                      frame_inds: np.ndarray,
                      backend: str = 'decord',
                      num_threads: int = 1,
                      backend_args: Optional[dict] = None
                      ) -> Tuple[List[np.ndarray], int]:
    """Decode the frames ``frame_inds`` (any order, repeats allowed) of a
    video as RGB ``uint8`` arrays.

    Each distinct frame is decoded once, in increasing order. Indices past
    the end of the video are clamped to its last frame; the caller decides
    whether to warn.

    Args:
        filename (str): Path (or backend URI) of the video.
        frame_inds (np.ndarray): 1-D frame indices, >= 0.
        backend (str): 'decord' or 'opencv'. Defaults to 'decord'.
        num_threads (int): Decoding threads of decord. Defaults to 1.
        backend_args (dict, optional): mmengine file backend arguments for
            files that are not on the local disk (decord only).

    Returns:
        tuple[list[np.ndarray], int]: ``len(frame_inds)`` frames of shape
        ``(H, W, 3)`` (distinct arrays, safe to modify in place) and the
        number of frames the video really has.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file cannot be decoded.

    Example:
        >>> imgs, n = read_video_frames('a.avi', [0, 5, 5])  # doctest: +SKIP
        >>> len(imgs), imgs[0].shape  # doctest: +SKIP
        (3, (240, 320, 3))
    """
    frame_inds = np.asarray(frame_inds, dtype=np.int64).reshape(-1)
    if frame_inds.size and frame_inds.min() < 0:
        raise ValueError(f'negative frame index for video {filename!r}')
    uniq, where = np.unique(frame_inds, return_inverse=True)
    local = backend_args is None or backend_args.get('backend',
                                                     'local') == 'local'
    if local and not osp.isfile(filename):
        raise FileNotFoundError(f'video file {filename!r} does not exist')
    try:
        if backend == 'decord':
            if local:
                source = filename
            else:
                from mmengine.fileio import get
                source = io.BytesIO(get(filename, backend_args=backend_args))
            frames, length = _decode_with_decord(source, uniq, num_threads)
        elif backend == 'opencv':
            frames, length = _decode_with_opencv(filename, uniq)
        else:
            raise ValueError(f"unknown video backend {backend!r}, use "
                             "'decord' or 'opencv'")
    except (FileNotFoundError, ImportError):
        raise
    except Exception as err:  # decord raises bare RuntimeError/DECORDError
        raise ValueError(f'cannot decode video {filename!r}: '
                         f'{type(err).__name__}: {err}') from err
    # One array per requested index; a repeated index gets its own copy so
    # that in-place transforms never touch a frame twice.
    seen = np.zeros(len(uniq), dtype=bool)
    imgs = []
    for j in where:
        imgs.append(frames[j].copy() if seen[j] else frames[j])
        seen[j] = True
    return imgs, length


@TRANSFORMS.register_module()
class MMDecode(BaseTransform):
    """Decode the frames of every modality of an RGBPose sample: video frames
    for ``RGB`` (at ``RGB_inds``) and keypoints for ``Pose`` (at
    ``Pose_inds``).

    Only the sampled frames are decoded, each distinct frame once, in file
    order. When the decoded frames are not ``img_shape`` (e.g. a compressed
    copy of the video), keypoints are rescaled to the decoded size.

    Failure modes:

    * missing file: ``FileNotFoundError`` naming the file and the sample;
    * unreadable file: ``ValueError`` naming both;
      with ``on_error='skip'`` both are logged as warnings and the transform
      returns None, so that a training dataset draws another sample;
    * video shorter than the sampled indices (``total_frames`` of the
      annotation larger than the video): indices are clamped to the last
      decoded frame and a warning naming the file is logged once per file.

    Required Keys:

        - modality (list, e.g. ['RGB', 'Pose'])
        - ``{modality}_inds`` for each modality
        - filename (RGB; ``frame_dir + '.mp4'`` when absent, as mmaction2)
        - frame_dir (optional, for messages)
        - keypoint (Pose, (M, T, V, C))
        - keypoint_score (Pose, optional: ones when absent)
        - img_shape (the frame size the keypoints refer to)

    Modified Keys:

        - ``{modality}_inds`` (squeezed to 1-D)
        - keypoint (float32, sampled frames, rescaled if needed)
        - keypoint_score (float32, sampled frames)
        - img_shape (decoded frame size, when RGB and Pose are both present)
        - original_shape (idem, when the size changed)

    Added Keys:

        - imgs (list of (H, W, 3) uint8 RGB frames)
        - filename (when absent)

    Args:
        io_backend (str): Kept for mmaction2 configs; 'disk' reads local
            files. Defaults to 'disk'.
        backend (str): Video decoder, 'decord' or 'opencv'. Defaults to
            'decord'.
        num_threads (int): Decoding threads (decord). Defaults to 1.
        on_error (str): 'raise' or 'skip' for missing/unreadable videos.
            Defaults to 'raise'.
        backend_args (dict, optional): mmengine file backend arguments for
            remote storage. Defaults to None.

    Example:
        >>> t = MMDecode()
        >>> out = t(dict(modality=['RGB', 'Pose'], filename='clip.avi',
        ...              RGB_inds=np.arange(8), Pose_inds=np.arange(32),
        ...              keypoint=np.zeros((2, 72, 17, 2), np.float32),
        ...              img_shape=(240, 320)))  # doctest: +SKIP
        >>> len(out['imgs']), out['keypoint'].shape  # doctest: +SKIP
        (8, (2, 32, 17, 2))
    """

    def __init__(self,
                 io_backend: str = 'disk',
                 backend: str = 'decord',
                 num_threads: int = 1,
                 on_error: str = 'raise',
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        if backend not in ('decord', 'opencv'):
            raise ValueError(f"MMDecode backend must be 'decord' or "
                             f"'opencv', got {backend!r}")
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"MMDecode on_error must be 'raise' or 'skip', "
                             f'got {on_error!r}')
        if io_backend != 'disk' and backend_args is None:
            backend_args = dict(backend=io_backend, **kwargs)
        self.io_backend = io_backend
        self.backend = backend
        self.num_threads = num_threads
        self.on_error = on_error
        self.backend_args = backend_args
        self._warned_short = set()

    @staticmethod
    def _sample_name(results: Dict) -> str:
        return repr(results.get('frame_dir', results.get('filename')))

    def _decode_rgb(self, results: Dict, inds: np.ndarray) -> bool:
        if 'filename' not in results:
            results['filename'] = results['frame_dir'] + '.mp4'
        filename = results['filename']
        try:
            imgs, length = read_video_frames(filename, inds, self.backend,
                                             self.num_threads,
                                             self.backend_args)
        except (FileNotFoundError, ValueError) as err:
            msg = f'MMDecode: sample {self._sample_name(results)}: {err}'
            if self.on_error == 'skip':
                print_log(msg + ' (skipped)', logger='current',
                          level=logging.WARNING)
                return False
            raise type(err)(msg) from err
        if inds.size and inds.max() >= length and (filename
                                                    not in self._warned_short):
            self._warned_short.add(filename)
            print_log(
                f'MMDecode: video {filename!r} has {length} frames but frame '
                f'{int(inds.max())} was sampled (total_frames='
                f"{results.get('total_frames')}); using its last frame for "
                'the missing ones (logged once per file)',
                logger='current',
                level=logging.WARNING)
        results['imgs'] = imgs
        return True

    @staticmethod
    def _decode_pose(results: Dict, inds: np.ndarray) -> None:
        kp = np.asarray(results['keypoint'])
        score = results.get('keypoint_score')
        if score is None:
            score = np.ones(kp.shape[:-1], dtype=np.float32)
        results['keypoint'] = kp[:, inds].astype(np.float32, copy=False)
        results['keypoint_score'] = np.asarray(score)[:, inds].astype(
            np.float32, copy=False)

    def transform(self, results: Dict) -> Optional[Dict]:
        modalities = results['modality']
        if isinstance(modalities, str):
            modalities = [modalities]
        for mod in modalities:
            key = f'{mod}_inds'
            if key not in results:
                raise KeyError(
                    f'MMDecode: sample {self._sample_name(results)} has no '
                    f'{key!r}; run MMUniformSampleFrames first')
            inds = np.asarray(results[key])
            if inds.ndim != 1:
                inds = np.squeeze(inds)
                results[key] = inds
            if mod == 'RGB':
                if not self._decode_rgb(results, inds):
                    return None
            elif mod == 'Pose':
                if 'keypoint' not in results:
                    raise KeyError(
                        f'MMDecode: sample {self._sample_name(results)} has '
                        "modality 'Pose' but no 'keypoint'")
                self._decode_pose(results, inds)
            else:
                raise ValueError(
                    f'MMDecode: modality {mod!r} is not supported (RGB, '
                    'Pose)')

        if 'imgs' in results and 'keypoint' in results and results['imgs']:
            decoded = tuple(results['imgs'][0].shape[:2])
            if decoded != tuple(results['img_shape']):
                old_h, old_w = results['img_shape']
                new_h, new_w = decoded
                kp = results['keypoint']
                kp[..., 0] *= (new_w / old_w)
                kp[..., 1] *= (new_h / old_h)
                results['img_shape'] = decoded
                results['original_shape'] = decoded
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend}, '
                f'backend={self.backend}, num_threads={self.num_threads}, '
                f'on_error={self.on_error})')
