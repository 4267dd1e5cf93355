"""Skeleton extraction: videos in, an NTU / PYSKL skeleton pickle out.

Pipeline per video: decode frames in batches (decord, else OpenCV) ->
:func:`~mmpose_plus.apis.estimate_poses` (bottom-up HigherHRNet by default,
no person detector needed; or a top-down model on whole frames / given
boxes) -> :func:`~mmpose_plus.apis.tracking.track_poses` (stable person
index, ``max_persons`` kept) -> one annotation::

    dict(frame_dir=str, label=int, img_shape=(h, w), original_shape=(h, w),
         total_frames=T, keypoint=float32 (M, T, 17, 2),
         keypoint_score=float32 (M, T, 17))

:func:`extract_skeletons` runs that over many videos with a per-video cache
(resumable: finished videos are skipped on the next run), reports and skips
broken videos, and writes ``{'split': {...}, 'annotations': [...]}``, the
file :class:`~mmpose_plus.datasets.PoseDataset` reads.

Example::

    model = init_model('configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py',
                       'higherhrnet_w32.pth')
    summary = extract_skeletons(list_videos('videos/'), model, 'out.pkl',
                                labels=labels_from_regex(r'A(\\d{3})', -1))
"""
import glob
import hashlib
import json
import os
import os.path as osp
import pickle
import re
import sys
import time
from typing import (Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, Union)

import numpy as np

__all__ = [
    'VIDEO_EXTS', 'NTU60_XSUB_TRAIN_SUBJECTS', 'NTU60_XVIEW_TRAIN_CAMERAS',
    'NTU120_XSUB_TRAIN_SUBJECTS', 'NTU_NUM_CLASSES', 'video_info',
    'iter_video_frames', 'list_videos', 'video_name', 'labels_from_file',
    'labels_from_regex', 'ntu_splits', 'ntu60_splits', 'ntu120_splits',
    'extract_video', 'extract_skeletons', 'load_bboxes'
]

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
              '.mpeg', '.wmv', '.flv')
# NTU RGB+D 60 benchmarks (Shahroudy et al., CVPR 2016): cross-subject
# trains on these performers, cross-view on cameras 2 and 3.
NTU60_XSUB_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19,
                             25, 27, 28, 31, 34, 35, 38)
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
# NTU RGB+D 120 benchmarks (Liu et al., TPAMI 2020): cross-subject trains on
# these 53 of the 106 performers (the 20 NTU60 ones first), cross-setup on
# the even setup ids 2, 4, ..., 32 and tests on the odd ones.
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81,
    82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
# Class count of each NTU preset: labels are ``A###`` - 1.
NTU_NUM_CLASSES = {'ntu60': 60, 'ntu120': 120}
_NTU_NAME = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')
_CACHE_VERSION = 1


# ---------------------------------------------------------------------------
# video decoding
# ---------------------------------------------------------------------------
def _open_decord(path: str):
    import decord
    reader = decord.VideoReader(path, num_threads=1)
    if len(reader) == 0:
        raise ValueError('the video has no frames')
    return reader


def video_info(path: str, backend: str = 'auto') -> Dict[str, float]:
    """Frame count, size and frame rate of a video.

    Returns:
        dict: ``num_frames``, ``height``, ``width`` (int) and ``fps``
        (float, 0 when unknown). The count is the container's; decoding
        may find fewer frames in a damaged file.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Neither decoder can open it.
    """
    _check_backend(backend)
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file {path!r} does not exist')
    errors = []
    if backend in ('auto', 'decord'):
        try:
            reader = _open_decord(path)
            h, w = reader[0].shape[:2]
            return dict(num_frames=len(reader), height=int(h), width=int(w),
                        fps=float(reader.get_avg_fps() or 0.))
        except Exception as err:  # decord raises its own error types
            errors.append(f'decord: {type(err).__name__}: {err}')
    if backend in ('auto', 'opencv'):
        import cv2
        cap = cv2.VideoCapture(path)
        try:
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if ok:
                return dict(
                    num_frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
                    height=int(frame.shape[0]),
                    width=int(frame.shape[1]),
                    fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.))
            errors.append('opencv: cannot read a frame')
        finally:
            cap.release()
    raise ValueError(f'cannot decode video {path!r} ({"; ".join(errors)})')


def _check_backend(backend: str) -> None:
    if backend not in ('auto', 'decord', 'opencv'):
        raise ValueError("backend must be 'auto', 'decord' or 'opencv', got "
                         f'{backend!r}')


def iter_video_frames(path: str,
                      batch_size: int = 16,
                      backend: str = 'auto') -> Iterator[List[np.ndarray]]:
    """Yield the frames of a video in batches, as BGR ``uint8`` arrays.

    Only ``batch_size`` frames are in memory at a time (a 1080p frame is
    6 MB). ``'auto'`` decodes with decord and falls back to OpenCV when
    decord is missing or cannot open the file.

    Args:
        path (str): Video file.
        batch_size (int): Frames per batch. Defaults to 16.
        backend (str): ``'auto'``, ``'decord'`` or ``'opencv'``.

    Yields:
        list[np.ndarray]: ``(H, W, 3)`` BGR frames, in order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The video cannot be opened, has no frames, or fails
            while decoding (the message names the file and frame).
    """
    _check_backend(backend)
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file {path!r} does not exist')
    reader, errors = None, []
    if backend in ('auto', 'decord'):
        try:
            reader = _open_decord(path)
        except Exception as err:  # decord raises its own error types
            errors.append(f'decord: {type(err).__name__}: {err}')
            if backend == 'decord':
                raise ValueError(f'cannot decode video {path!r} '
                                 f'({errors[0]})') from err
    if reader is not None:
        total = len(reader)
        for start in range(0, total, batch_size):
            inds = list(range(start, min(total, start + batch_size)))
            try:
                rgb = reader.get_batch(inds).asnumpy()
            except Exception as err:
                raise ValueError(
                    f'cannot decode video {path!r}: frames {inds[0]}-'
                    f'{inds[-1]} failed ({type(err).__name__}: {err})'
                ) from err
            yield [np.ascontiguousarray(f[..., ::-1]) for f in rgb]
        return
    import cv2
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f'cannot decode video {path!r} '
                             f'({"; ".join(errors + ["opencv: cannot open"])})')
        batch, count = [], 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            batch.append(frame)
            count += 1
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
        if count == 0:
            raise ValueError(f'cannot decode video {path!r}: no frame could '
                             f'be read ({"; ".join(errors) or "opencv"})')
    finally:
        cap.release()


# ---------------------------------------------------------------------------
# inputs, names, labels, splits
# ---------------------------------------------------------------------------
def list_videos(inputs: Union[str, Sequence[str]],
                exts: Sequence[str] = VIDEO_EXTS) -> List[str]:
    """Resolve a folder, a glob pattern, a list file or a video path (or a
    list of those) into a sorted, de-duplicated list of video paths.

    A *list file* is a text file (any extension but a video one) with one
    video path per line; relative paths are taken relative to the list
    file's folder; empty lines and ``#`` comments are skipped. A folder is
    searched recursively for files with a video extension.

    Returns:
        list[str]: Video paths, each once (first occurrence kept): sorted
        within a folder or glob, in file order for a list file, and in
        the order of ``inputs`` across them.

    Raises:
        FileNotFoundError: An input matches nothing, or a listed video is
            missing.
    """
    items = [inputs] if isinstance(inputs, str) else list(inputs)
    exts = tuple(e.lower() for e in exts)
    found: List[str] = []
    for item in items:
        item = osp.expanduser(str(item))
        if osp.isdir(item):
            hits = [
                osp.join(root, f) for root, _, files in os.walk(item)
                for f in files if f.lower().endswith(exts)
            ]
            if not hits:
                raise FileNotFoundError(
                    f'no video ({", ".join(exts)}) under folder {item!r}')
            found += sorted(hits)
        elif osp.isfile(item) and item.lower().endswith(exts):
            found.append(item)
        elif osp.isfile(item):
            base = osp.dirname(osp.abspath(item))
            with open(item) as f:
                for n, line in enumerate(f, 1):
                    line = line.split('#', 1)[0].strip()
                    if not line:
                        continue
                    path = line if osp.isabs(line) else osp.join(base, line)
                    if not osp.isfile(path):
                        raise FileNotFoundError(
                            f'{item}:{n}: listed video {line!r} does not '
                            'exist')
                    found.append(path)
        elif glob.has_magic(item):
            hits = sorted(p for p in glob.glob(item, recursive=True)
                          if osp.isfile(p))
            if not hits:
                raise FileNotFoundError(f'glob {item!r} matches no file')
            found += hits
        else:
            raise FileNotFoundError(
                f'{item!r} is not a folder, a video, a list file or a glob')
    seen, unique = set(), []
    for path in found:
        key = osp.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def video_name(path: str, strip_suffix: str = '') -> str:
    """The ``frame_dir`` of a video: its file name without extension and
    without ``strip_suffix`` (NTU: ``'_rgb'``, so that
    ``S001C001P001R001A001_rgb.avi`` -> ``S001C001P001R001A001``)."""
    stem = osp.splitext(osp.basename(path))[0]
    if strip_suffix and stem.endswith(strip_suffix):
        stem = stem[:-len(strip_suffix)]
    return stem


def labels_from_file(path: str) -> Dict[str, int]:
    """Read ``name label`` lines (space, tab or comma separated).

    ``name`` may be the video's file name, its path as listed, or its
    ``frame_dir``; lookups try all three.

    Returns:
        dict[str, int]: ``name`` -> label, as written in the file.

    Raises:
        FileNotFoundError / ValueError: Missing file or a bad line (the
            message names the line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file {path!r} does not exist')
    labels = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            parts = re.split(r'[,\s]+', line)
            if len(parts) != 2:
                raise ValueError(f'{path}:{n}: expected "name label", got '
                                 f'{line!r}')
            try:
                labels[parts[0]] = int(parts[1])
            except ValueError:
                raise ValueError(f'{path}:{n}: label {parts[1]!r} is not an '
                                 'integer') from None
    return labels


def labels_from_regex(pattern: str,
                      offset: int = 0,
                      num_classes: Optional[int] = None
                      ) -> Callable[[str], int]:
    """A function mapping a video name to ``int(first group) + offset``.

    Args:
        pattern (str): Regular expression searched in the file name; its
            first group is the class number.
        offset (int): Added to the number (-1 for 1-based names such as
            NTU's ``A001``). Defaults to 0.
        num_classes (int, optional): Labels must be below it (a ValueError
            names the video otherwise), e.g. 60 so that an NTU RGB+D 120
            clip is not silently given a label an NTU60 model lacks.

    Returns:
        callable: ``label_of(name) -> int``; raises ValueError when the
        pattern does not match or the label is out of range.

    Example:
        >>> ntu = labels_from_regex(r'A(\\d{3})', offset=-1)
        >>> ntu('S001C001P001R001A054_rgb.avi')
        53
    """
    regex = re.compile(pattern)
    if regex.groups < 1:
        raise ValueError(f'label regex {pattern!r} needs a capturing group, '
                         r"e.g. 'A(\d{3})'")

    def label_of(name: str) -> int:
        match = regex.search(name)
        if match is None:
            raise ValueError(f'label regex {pattern!r} does not match '
                             f'{name!r}')
        try:
            label = int(match.group(1)) + offset
        except ValueError:
            raise ValueError(f'label regex {pattern!r} captured '
                             f'{match.group(1)!r} in {name!r}, not an '
                             'integer') from None
        if num_classes is not None and label >= num_classes:
            raise ValueError(f'label {label} of {name!r} is not below the '
                             f'{num_classes} classes')
        return label

    return label_of


def ntu_splits(names: Sequence[str],
               dataset: str = 'ntu60') -> Dict[str, List[str]]:
    """The official train / val splits of NTU RGB+D names.

    Names are ``SsssCcccPpppRrrrAaaa`` (setup, camera, performer,
    replication, action; a suffix such as ``_rgb`` is allowed); names that
    do not parse are left out.

    * ``'ntu60'``: ``xsub_train`` / ``xsub_val`` (performers in
      :data:`NTU60_XSUB_TRAIN_SUBJECTS` train) and ``xview_train`` /
      ``xview_val`` (cameras 2 and 3 train, camera 1 tests);
    * ``'ntu120'``: ``xsub_train`` / ``xsub_val`` (the 53 performers of
      :data:`NTU120_XSUB_TRAIN_SUBJECTS` train) and ``xset_train`` /
      ``xset_val`` (even setup ids train, odd ones test).

    These are the split names of the released PYSKL pickles, so the NTU
    configs read the result unchanged.

    Args:
        names (Sequence[str]): ``frame_dir`` names.
        dataset (str): ``'ntu60'`` or ``'ntu120'``. Defaults to
            ``'ntu60'``.

    Returns:
        dict[str, list[str]]: Split name -> names, in input order.

    Example:
        >>> ntu_splits(['S018C001P045R001A101', 'S019C001P003R001A120'],
        ...            'ntu120')  # doctest: +NORMALIZE_WHITESPACE
        {'xsub_train': ['S018C001P045R001A101'],
         'xsub_val': ['S019C001P003R001A120'],
         'xset_train': ['S018C001P045R001A101'],
         'xset_val': ['S019C001P003R001A120']}
    """
    if dataset not in NTU_NUM_CLASSES:
        raise ValueError(f"dataset must be one of {sorted(NTU_NUM_CLASSES)}, "
                         f'got {dataset!r}')
    second = 'xview' if dataset == 'ntu60' else 'xset'
    subjects = (NTU60_XSUB_TRAIN_SUBJECTS if dataset == 'ntu60' else
                NTU120_XSUB_TRAIN_SUBJECTS)
    splits = {k: [] for k in ('xsub_train', 'xsub_val', f'{second}_train',
                              f'{second}_val')}
    for name in names:
        match = _NTU_NAME.search(name)
        if match is None:
            continue
        setup, camera, person = (int(match.group(i)) for i in (1, 2, 3))
        if dataset == 'ntu60':
            second_train = camera in NTU60_XVIEW_TRAIN_CAMERAS
        else:
            second_train = setup % 2 == 0
        splits['xsub_train' if person in subjects else 'xsub_val'].append(
            name)
        splits[f'{second}_train' if second_train else f'{second}_val'].append(
            name)
    return splits


def ntu60_splits(names: Sequence[str]) -> Dict[str, List[str]]:
    """NTU RGB+D 60 ``xsub_train/xsub_val/xview_train/xview_val`` of
    ``SsssCcccPpppRrrrAaaa`` names (see :func:`ntu_splits`).

    Example:
        >>> ntu60_splits(['S001C001P001R001A001', 'S001C002P003R001A001'])
        ... # doctest: +NORMALIZE_WHITESPACE
        {'xsub_train': ['S001C001P001R001A001'],
         'xsub_val': ['S001C002P003R001A001'],
         'xview_train': ['S001C002P003R001A001'],
         'xview_val': ['S001C001P001R001A001']}
    """
    return ntu_splits(names, 'ntu60')


def ntu120_splits(names: Sequence[str]) -> Dict[str, List[str]]:
    """NTU RGB+D 120 ``xsub_train/xsub_val/xset_train/xset_val`` of
    ``SsssCcccPpppRrrrAaaa`` names (see :func:`ntu_splits`)."""
    return ntu_splits(names, 'ntu120')


# ---------------------------------------------------------------------------
# one video
# ---------------------------------------------------------------------------
def extract_video(model,
                  path: str,
                  batch_size: int = 8,
                  max_persons: int = 2,
                  bboxes: Optional[Sequence[np.ndarray]] = None,
                  tracking: Optional[Mapping] = None,
                  backend: str = 'auto',
                  progress: Optional[Callable[[int, int], None]] = None
                  ) -> dict:
    """Skeletons of one video, tracked, as a PYSKL annotation (no label).

    Args:
        model: A pose estimator from :func:`~mmpose_plus.apis.init_model`.
        path (str): Video file.
        batch_size (int): Frames per forward pass. Defaults to 8.
        max_persons (int): People kept (see
            :func:`~mmpose_plus.apis.tracking.track_poses`). Defaults to 2.
        bboxes (Sequence[np.ndarray], optional): Top-down models: per-frame
            ``(N, 4|5)`` person boxes; whole frames when None.
        tracking (Mapping, optional): Extra arguments of ``track_poses``.
        backend (str): Video decoder. Defaults to ``'auto'``.
        progress (callable, optional): ``progress(done, total)`` in frames.

    Returns:
        dict: ``frame_dir`` (file stem), ``img_shape``, ``original_shape``
        (``(h, w)`` of the frames), ``total_frames``, ``keypoint``
        ``(M, T, K, 2)`` float32 and ``keypoint_score`` ``(M, T, K)``
        float32, ``M >= 1`` (a clip where nobody is found holds one
        all-zero person with score 0, which every skeleton pipeline reads
        as "not detected").

    Raises:
        FileNotFoundError / ValueError: Missing or undecodable video.
    """
    from .inference import estimate_poses
    from .tracking import track_poses
    info = video_info(path, backend)
    total = max(int(info['num_frames']), 1)
    shape = [None]

    def frames():
        # decoding batches are independent of the model's batch size
        for batch in iter_video_frames(path, max(batch_size, 16), backend):
            for frame in batch:
                if shape[0] is None:
                    shape[0] = frame.shape[:2]
                yield frame

    def on_batch(done: int) -> None:
        if progress is not None:
            progress(done, max(total, done))

    poses = estimate_poses(
        model, frames(), batch_size=batch_size, bboxes=bboxes,
        progress=on_batch)
    if not poses:
        raise ValueError(f'cannot decode video {path!r}: no frames')
    num_joints = poses[0]['keypoints'].shape[1]
    tracked = track_poses(
        poses, max_persons=max_persons, num_joints=num_joints,
        **dict(tracking or {}))
    keypoint, score = tracked['keypoint'], tracked['keypoint_score']
    if keypoint.shape[0] == 0:
        keypoint = np.zeros((1, ) + keypoint.shape[1:], np.float32)
        score = np.zeros((1, ) + score.shape[1:], np.float32)
    h, w = (int(v) for v in shape[0])
    return dict(
        frame_dir=video_name(path),
        img_shape=(h, w),
        original_shape=(h, w),
        total_frames=len(poses),
        keypoint=keypoint.astype(np.float32),
        keypoint_score=score.astype(np.float32))


# ---------------------------------------------------------------------------
# many videos, resumable
# ---------------------------------------------------------------------------
class _Progress:
    """Progress of a run over many videos.

    On a terminal: one status line, redrawn in place, with an overall bar
    (videos, counting the current one's fraction) and a bar of the current
    video's frames with its frames/s. Elsewhere (a log file): one line per
    finished, failed or skipped video, prefixed ``[i/N]``.
    """

    def __init__(self, num_videos: int, stream=None,
                 enabled: bool = True) -> None:
        self.num_videos = num_videos
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.index = 0
        self.name = ''
        self.start = time.perf_counter()
        self.interactive = enabled and getattr(self.stream, 'isatty',
                                               lambda: False)()
        self._width = 0  # length of the status line on screen

    @staticmethod
    def _bar(done: float, total: float, width: int = 20) -> str:
        frac = 0. if total <= 0 else min(1., done / total)
        full = int(round(frac * width))
        return '[' + '#' * full + '.' * (width - full) + ']'

    def _status(self, text: str) -> None:
        # Pad with spaces so a shorter line hides the end of a longer one.
        self.stream.write('\r' + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def video(self, index: int, name: str) -> None:
        self.index, self.name = index, name
        self.start = time.perf_counter()

    def frames(self, done: int, total: int) -> None:
        if not self.interactive:
            return
        fps = done / max(time.perf_counter() - self.start, 1e-9)
        videos = self.index + done / max(total, 1)
        self._status(
            f'{self._bar(videos, self.num_videos)} '
            f'{videos / self.num_videos:6.1%} video {self.index + 1}/'
            f'{self.num_videos} {self.name} {self._bar(done, total)} '
            f'{done}/{total} frames {fps:.1f} fps')

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        text = f'[{self.index + 1}/{self.num_videos}] {text}'
        if self.interactive:
            self._status(text)
            self.stream.write('\n')
            self._width = 0
        else:
            self.stream.write(text + '\n')
        self.stream.flush()


def _cache_path(work_dir: str, name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    safe = re.sub(r'[^A-Za-z0-9_.-]', '_', name)
    return osp.join(work_dir, f'{safe}-{digest}.pkl')


def _atomic_pickle(obj, path: str) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        pickle.dump(obj, f, protocol=4)
    os.replace(tmp, path)


def _load_cache(path: str, settings: Mapping) -> Optional[dict]:
    try:
        with open(path, 'rb') as f:
            cached = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError):
        return None  # missing or half-written: extract again
    if not isinstance(cached, dict) or cached.get('settings') != dict(
            settings) or 'annotation' not in cached:
        return None
    return cached['annotation']


def extract_skeletons(videos: Sequence[str],
                      model,
                      out_file: str,
                      work_dir: Optional[str] = None,
                      labels: Union[None, Mapping[str, int],
                                    Callable[[str], int]] = None,
                      splits: Union[None, str, Mapping[str, Sequence[str]],
                                    Callable[[Sequence[str]],
                                             Dict[str, List[str]]]] = None,
                      strip_suffix: str = '',
                      batch_size: int = 8,
                      max_persons: int = 2,
                      bboxes: Optional[Mapping[str, Sequence]] = None,
                      tracking: Optional[Mapping] = None,
                      backend: str = 'auto',
                      settings: Optional[Mapping] = None,
                      verbose: bool = True,
                      stream=None) -> dict:
    """Extract the skeletons of many videos into one PYSKL pickle.

    Each finished video is cached in ``work_dir`` (one small pickle, written
    atomically), so an interrupted run resumes where it stopped: videos
    whose cache exists with the same ``settings`` are not processed again.
    A video that cannot be decoded (or fails in any other way) is reported
    and skipped; the others go on, and the pickle holds the ones that
    succeeded.

    Args:
        videos (Sequence[str]): Video paths (see :func:`list_videos`).
        model: Pose estimator from :func:`~mmpose_plus.apis.init_model`.
        out_file (str): The pickle to write.
        work_dir (str, optional): Cache folder. Defaults to
            ``out_file + '.work'``.
        labels: A mapping (video file name, path or frame_dir -> label), a
            function of the file name (:func:`labels_from_regex`), or None
            (every label 0, with a warning: fine for inference-only use).
            Checked for every video before any extraction starts.
        splits: A split name for all videos, a mapping ``{split:
            [frame_dir, ...]}``, a function of the frame_dir list (e.g.
            :func:`ntu60_splits`), or None (one split ``'all'``).
        strip_suffix (str): Removed from file stems to form ``frame_dir``
            (``'_rgb'`` for NTU). Defaults to ``''``.
        batch_size, max_persons, tracking, backend: See
            :func:`extract_video`.
        bboxes (Mapping, optional): Top-down models: ``frame_dir`` ->
            per-frame boxes.
        settings (Mapping, optional): What makes a cached result reusable
            (model config, checkpoint ...); the cache of other settings is
            recomputed. ``max_persons``, ``strip_suffix`` and ``tracking``
            are always part of it.
        verbose (bool): Print progress and the failures. Defaults to True.
        stream: Where progress goes. Defaults to ``sys.stdout``.

    Returns:
        dict: ``out_file``, ``num_videos``, ``extracted`` (names processed
        in this run), ``cached`` (names taken from the cache), ``failed``
        (list of ``(path, error message)``) and ``splits`` (split sizes).

    Raises:
        ValueError: Two videos share a ``frame_dir``, a label is missing or
            negative, or every video failed.
    """
    if not videos:
        raise ValueError('no videos to extract')
    names = [video_name(p, strip_suffix) for p in videos]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'several videos would get the same frame_dir '
                         f'{dupes[:3]}; rename them or extract separately')
    label_of = _label_lookup(labels, videos, names)
    stream = stream or sys.stdout
    if labels is None and verbose:
        stream.write('warning: no labels given (label file or regex): every '
                     'label is 0\n')

    work_dir = work_dir or f'{out_file}.work'
    os.makedirs(work_dir, exist_ok=True)
    cache_settings = dict(settings or {})
    cache_settings.update(
        version=_CACHE_VERSION, max_persons=max_persons,
        strip_suffix=strip_suffix, tracking=dict(tracking or {}))

    progress = _Progress(len(videos), stream, verbose)
    annotations, extracted, cached, failed = [], [], [], []
    skipped = 0  # cached videos since the last line (one line per run)
    for i, (path, name) in enumerate(zip(videos, names)):
        cache = _cache_path(work_dir, name)
        anno = _load_cache(cache, cache_settings)
        if anno is not None:
            cached.append(name)
            skipped += 1
            progress.video(i, name)  # the line below names the last one
        if skipped and (anno is None or i == len(videos) - 1):
            progress.line(f'{skipped} video(s) done earlier (cached): '
                          'skipped')
            skipped = 0
        progress.video(i, name)
        if anno is None:
            start = time.perf_counter()
            try:
                anno = extract_video(
                    model,
                    path,
                    batch_size=batch_size,
                    max_persons=max_persons,
                    bboxes=None if bboxes is None else bboxes.get(name),
                    tracking=tracking,
                    backend=backend,
                    progress=progress.frames)
            except KeyboardInterrupt:
                raise
            except Exception as err:
                msg = f'{type(err).__name__}: {err}'
                failed.append((path, msg))
                progress.line(f'FAILED {path}: {msg} (skipped)')
                continue
            anno['frame_dir'] = name
            _atomic_pickle(dict(settings=cache_settings, annotation=anno),
                           cache)
            extracted.append(name)
            secs = time.perf_counter() - start
            progress.line(
                f'{name}: {anno["total_frames"]} frames, '
                f'{anno["keypoint"].shape[0]} person(s), '
                f'{anno["total_frames"] / max(secs, 1e-9):.1f} frames/s')
        anno = dict(anno)
        anno['label'] = label_of(path, name)
        annotations.append(anno)

    if not annotations:
        raise ValueError(f'all {len(videos)} videos failed, nothing written; '
                         f'first error: {failed[0][1]}')
    done = [a['frame_dir'] for a in annotations]
    split = _make_splits(splits, done)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    _atomic_pickle(dict(split=split, annotations=annotations), out_file)
    if verbose:
        stream.write(
            f'wrote {out_file}: {len(annotations)} videos '
            f'({len(extracted)} extracted, {len(cached)} cached, '
            f'{len(failed)} failed); splits '
            f'{ {k: len(v) for k, v in split.items()} }\n')
        for path, msg in failed:
            stream.write(f'  failed: {path}: {msg}\n')
    return dict(
        out_file=out_file,
        num_videos=len(annotations),
        extracted=extracted,
        cached=cached,
        failed=failed,
        splits={k: len(v)
                for k, v in split.items()})


def _label_lookup(labels, videos: Sequence[str],
                  names: Sequence[str]) -> Callable[[str, str], int]:
    """Resolve every label up front, so a typo fails before hours of work."""
    resolved = {}
    problems = []
    for path, name in zip(videos, names):
        if labels is None:
            resolved[name] = 0
            continue
        try:
            if callable(labels):
                label = labels(osp.basename(path))
            else:
                keys = (osp.basename(path), path, name,
                        osp.splitext(osp.basename(path))[0])
                label = next((labels[k] for k in keys if k in labels), None)
                if label is None:
                    raise KeyError(f'no label for {osp.basename(path)!r} in '
                                   'the label file')
            label = int(label)
            if label < 0:
                raise ValueError(f'label {label} of {name!r} is negative '
                                 '(check the label offset)')
            resolved[name] = label
        except (KeyError, ValueError) as err:
            problems.append(str(err).strip('"'))
    if problems:
        raise ValueError(f'{len(problems)} video(s) without a valid label: '
                         + '; '.join(problems[:5]))
    return lambda path, name: resolved[name]


def _make_splits(splits, names: List[str]) -> Dict[str, List[str]]:
    if splits is None:
        return {'all': list(names)}
    if isinstance(splits, str):
        return {splits: list(names)}
    if callable(splits):
        return {k: list(v) for k, v in splits(names).items()}
    wanted = set(names)
    return {k: [n for n in v if n in wanted] for k, v in splits.items()}


def load_bboxes(path: str) -> Dict[str, list]:
    """Read per-video person boxes for top-down extraction: a pickle or JSON
    mapping ``frame_dir`` to a list (one entry per frame) of ``(N, 4)`` or
    ``(N, 5)`` xyxy[score] boxes."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'box file {path!r} does not exist')
    if path.endswith('.json'):
        with open(path) as f:
            data = json.load(f)
    else:
        with open(path, 'rb') as f:
            data = pickle.load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a mapping frame_dir -> per-frame '
                         f'boxes, got {type(data).__name__}')
    return {
        str(k): [np.asarray(b, np.float32).reshape(-1, np.shape(b)[-1])
                 if np.size(b) else np.zeros((0, 4), np.float32) for b in v]
        for k, v in data.items()
    }
