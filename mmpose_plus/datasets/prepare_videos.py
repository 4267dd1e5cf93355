"""Training copies of videos: smaller frames and frequent key frames.

RGB clips are cut from a few frames sampled across a whole video, so the
decoder's work per sample is set by the frame size and by how far each
sampled frame lies from the key frame before it. Source videos are often the
worst case: NTU RGB+D clips are 1920x1080 and some carry a single key frame,
so every sample decodes most of the clip (about 0.6 s on one CPU core). A
one-off copy at the training resolution with a key frame every few frames
cuts that by an order of magnitude; :class:`MMDecode` rescales keypoints to
the decoded size, so the skeleton pickle stays as it is.
"""
import os
import os.path as osp
import time
from typing import Dict, Optional, Tuple

import numpy as np

__all__ = ['prepared_size', 'reencode_video']


def prepared_size(height: int,
                  width: int,
                  short_side: Optional[int] = None,
                  scale: Optional[float] = None) -> Tuple[int, int]:
    """Output ``(height, width)`` of a prepared copy: the short side brought
    to ``short_side`` (or every side scaled by ``scale``), aspect ratio
    kept, never enlarged, both sides even (MPEG-4 needs even sizes).

    Example:
        >>> prepared_size(1080, 1920, short_side=540)
        (540, 960)
        >>> prepared_size(240, 320, short_side=540)  # never enlarged
        (240, 320)
    """
    if (short_side is None) == (scale is None):
        raise ValueError('give exactly one of short_side and scale')
    if short_side is not None:
        if short_side <= 0:
            raise ValueError(f'short_side must be > 0, got {short_side}')
        factor = short_side / min(height, width)
    else:
        if not 0 < scale:
            raise ValueError(f'scale must be > 0, got {scale}')
        factor = scale
    factor = min(factor, 1.)

    def even(x: float) -> int:
        return max(2, int(x / 2 + 0.5) * 2)  # half up

    return even(height * factor), even(width * factor)


def reencode_video(src: str,
                   dst: str,
                   short_side: Optional[int] = 540,
                   scale: Optional[float] = None,
                   key_interval: int = 4,
                   fourcc: str = 'mp4v') -> Dict:
    """Write a resized copy of ``src`` to ``dst`` with a key frame every
    ``key_interval`` frames.

    Every frame is kept (frame indices of annotations stay valid) at the
    source frame rate. The copy is written next to ``dst`` under a temporary
    name and moved into place only once it has been read back with the
    right number of frames, so an interrupted run never leaves a truncated
    ``dst``.

    Args:
        src (str): Source video.
        dst (str): Output path; its extension picks the container
            (``.mp4`` for MPEG-4).
        short_side (int, optional): Target short side. Defaults to 540.
        scale (float, optional): Scale factor instead of ``short_side``.
        key_interval (int): Frames between key frames (1: every frame).
            Defaults to 4.
        fourcc (str): OpenCV codec code. Defaults to 'mp4v' (MPEG-4 part 2,
            encoded by the FFmpeg that ships with opencv-python).

    Returns:
        dict: ``frames``, ``src_shape`` and ``dst_shape`` ((h, w)),
        ``src_bytes``, ``dst_bytes`` and ``seconds``.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: ``src`` cannot be decoded, or the copy cannot be
            written or read back (the message names the file).

    Example:
        >>> info = reencode_video('S001C001P001R001A001_rgb.avi',
        ...                       'S001C001P001R001A001.mp4')  # doctest: +SKIP
        >>> info['src_shape'], info['dst_shape']  # doctest: +SKIP
        ((1080, 1920), (540, 960))
    """
    import cv2
    if key_interval < 1:
        raise ValueError(f'key_interval must be >= 1, got {key_interval}')
    if not osp.isfile(src):
        raise FileNotFoundError(f'video file {src!r} does not exist')
    start = time.perf_counter()
    cap = cv2.VideoCapture(src)
    ok, frame = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        cap.release()
        raise ValueError(f'cannot decode video {src!r}: no frame could be '
                         'read')
    src_h, src_w = frame.shape[:2]
    out_h, out_w = prepared_size(src_h, src_w, short_side, scale)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and np.isfinite(fps) and fps > 0 else 30.
    root, ext = osp.splitext(dst)
    tmp = f'{root}.part{os.getpid()}{ext}'
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    writer = cv2.VideoWriter(
        tmp, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps,
        (out_w, out_h), [cv2.VIDEOWRITER_PROP_GOP_SIZE, key_interval])
    count = 0
    try:
        if not writer.isOpened():
            raise ValueError(f'cannot write {dst!r} with codec {fourcc!r} '
                             f'(container from the extension {ext!r})')
        while ok:
            if frame.shape[:2] != (src_h, src_w):
                raise ValueError(f'cannot decode video {src!r}: frame '
                                 f'{count} is {frame.shape[1]}x'
                                 f'{frame.shape[0]}, the first was '
                                 f'{src_w}x{src_h}')
            if (out_h, out_w) != (src_h, src_w):
                frame = cv2.resize(frame, (out_w, out_h),
                                   interpolation=cv2.INTER_AREA)
            writer.write(frame)
            count += 1
            ok, frame = cap.read()
        writer.release()
        written = _count_frames(tmp)
        if written != count:
            raise ValueError(f'the copy of {src!r} reads back {written} '
                             f'frames instead of {count}')
        os.replace(tmp, dst)
    finally:
        cap.release()
        writer.release()
        if osp.exists(tmp):
            os.remove(tmp)
    return dict(frames=count,
                src_shape=(src_h, src_w),
                dst_shape=(out_h, out_w),
                src_bytes=osp.getsize(src),
                dst_bytes=osp.getsize(dst),
                seconds=time.perf_counter() - start)


def _count_frames(path: str) -> int:
    """Frames decord finds in ``path`` (the reader training uses)."""
    import decord
    try:
        return len(decord.VideoReader(path, num_threads=1))
    except Exception:  # decord raises its own error types
        return -1
