"""Skeleton dataset for PoseC3D / RGBPoseConv3D: validated, compactly stored
NTU / PYSKL pickles.

Annotation file format (PYSKL / mmaction2)::

    {'split': {'xsub_train': [frame_dir, ...], 'xsub_val': [...], ...},
     'annotations': [
         {'frame_dir': str, 'label': int, 'img_shape': (h, w),
          'original_shape': (h, w), 'total_frames': T,
          'keypoint': float (M, T, V, C), 'keypoint_score': float (M, T, V)},
         ...]}

A plain list of annotations (no split) is accepted too.

Memory: the pickle is read with a streaming unpickler that copies every
array's bytes into 64 MiB chunks as soon as it is read (skipping clips
outside the requested split), so no second copy of the file's contents is
ever held; keypoints and scores of the kept samples then end up in two flat
numpy buffers (plus one byte buffer of the small per-sample fields), each
chunk being released as soon as it has been copied. Peak memory is a little
more than one copy of the split's arrays, where mmaction2 (which reads the
whole file, unpickles it and then re-serialises every sample) holds about
three copies of the whole file's; see ``docs/benchmarks.md``. The flat
buffers also let DataLoader workers share the dataset copy-on-write without
touching per-sample Python objects.
"""
import copy
import gc
import os.path as osp
import pickle
from collections import Counter
from typing import (Any, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import numpy as np
import torch
from mmaction.datasets import BaseActionDataset
from mmengine.logging import MMLogger

from mmpose_plus.registry import DATASETS

__all__ = ['PoseDataset', 'load_annotation_file']

REQUIRED_KEYS = ('frame_dir', 'label', 'img_shape', 'total_frames',
                 'keypoint')
_ARRAY_KEYS = ('keypoint', 'keypoint_score')


# ---------------------------------------------------------------------------
# Streaming unpickler: array bytes go straight into an arena of large chunks
# ---------------------------------------------------------------------------
class _Arena:
    """Append-only storage of raw array bytes in large chunks.

    Chunks are larger than glibc's mmap threshold, so freeing one returns its
    memory to the OS at once (small arrays freed one by one would not).
    """
    CHUNK = 64 << 20
    ALIGN = 16

    def __init__(self) -> None:
        self.chunks: List[Optional[np.ndarray]] = []
        self._fill = 0

    def put(self, raw, dtype: np.dtype, shape: Tuple[int, ...],
            fortran: bool, into: '_ArenaArray') -> '_ArenaArray':
        data = np.frombuffer(raw, dtype=np.uint8)
        size = data.size
        last = self.chunks[-1] if self.chunks else None
        if last is None or self._fill + size > last.size:
            self.chunks.append(np.empty(max(self.CHUNK, size), np.uint8))
            self._fill = 0
        chunk_id, start = len(self.chunks) - 1, self._fill
        self.chunks[chunk_id][start:start + size] = data
        self._fill += -(-size // self.ALIGN) * self.ALIGN
        into.arena, into.chunk_id, into.start = self, chunk_id, start
        into.dtype, into.shape, into.fortran = dtype, shape, fortran
        return into

    def free(self, chunk_id: int) -> None:
        self.chunks[chunk_id] = None


_DROPPED = -2  # chunk id of arrays that were not stored (outside the split)


class _ArenaArray:
    """Placeholder for an unpickled ndarray whose bytes live in an arena
    (or, for object arrays, the array itself in ``array``)."""
    __slots__ = ('arena', 'chunk_id', 'start', 'dtype', 'shape', 'fortran',
                 'array', 'unpickler')

    def __init__(self, unpickler=None) -> None:
        self.unpickler = unpickler
        self.arena = None
        self.chunk_id = -1
        self.start = 0
        self.dtype = None
        self.shape = ()
        self.fortran = False
        self.array = None

    def __setstate__(self, state) -> None:
        # Called by the unpickler's BUILD with ndarray's pickled state.
        unpickler, self.unpickler = self.unpickler, None
        if len(state) == 5:
            state = state[1:]  # drop the version number
        shape, dtype, fortran, raw = state
        if dtype.hasobject or not isinstance(raw, (bytes, bytearray)):
            arr = _NP_RECONSTRUCT(np.ndarray, (0, ), b'b')
            arr.__setstate__(state)
            self.array = arr
            return
        unpickler.store(raw, dtype, tuple(shape), bool(fortran), self)

    def view(self) -> np.ndarray:
        """A zero-copy, read-only view (valid until the chunk is freed)."""
        if self.array is not None:
            return self.array
        if self.chunk_id == _DROPPED:
            raise RuntimeError('internal error: array of a sample outside '
                               'the split was not loaded')
        chunk = self.arena.chunks[self.chunk_id]
        if chunk is None:
            raise RuntimeError('internal error: array of a freed chunk')
        count = int(np.prod(self.shape, dtype=np.int64))
        flat = np.frombuffer(
            chunk, self.dtype, count=count, offset=self.start)
        return flat.reshape(self.shape, order='F' if self.fortran else 'C')


class _ConsumedMemoError(RuntimeError):
    """A pickle re-used a buffer that the streaming loader had released."""


class _Released:
    __slots__ = ()


_RELEASED = _Released()
_BUFFER_TYPES = (bytes, bytearray, str)


class _ReleasingMemo(dict):
    """Unpickler memo that can drop the raw bytes of consumed arrays.

    Pickle memoises every array's raw bytes (and the tuples holding them), so
    an ordinary unpickler keeps them all alive until the end of the load.
    Those entries are replaced by a marker once their array is in the arena.
    """
    _MIN_BYTES = 256

    def __init__(self) -> None:
        super().__init__()
        self.pending: List[Any] = []

    def __setitem__(self, key, value) -> None:
        # Called for every memoised object: exact type checks keep it cheap.
        kind = type(value)
        if kind is tuple and len(value) <= 5:
            if any(
                    type(v) in _BUFFER_TYPES and len(v) >= self._MIN_BYTES
                    for v in value):
                self.pending.append(key)
        elif kind in _BUFFER_TYPES and len(value) >= self._MIN_BYTES:
            self.pending.append(key)
        dict.__setitem__(self, key, value)

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value is _RELEASED:
            raise _ConsumedMemoError(f'memo entry {key} was released')
        return value

    def release_pending(self) -> None:
        for key in self.pending:
            super().__setitem__(key, _RELEASED)
        self.pending.clear()


def _is_str(obj, text: str) -> bool:
    # Stack items may be arrays, whose == is elementwise.
    return isinstance(obj, str) and obj == text


_NP_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]
_NP_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]
_NP_MODULES = ('numpy.core.multiarray', 'numpy._core.multiarray',
               'numpy.core.numeric', 'numpy._core.numeric')


class _StreamingUnpickler(pickle._Unpickler):
    """Pure-Python unpickler whose ndarrays are :class:`_ArenaArray` s.

    The pure-Python implementation is used because its memo can be replaced
    (and its stack read, see :meth:`_wanted`); per file it is about 2x slower
    than the C one on protocol-4 files and as fast on protocol-2 files
    (mmengine's default), where text decoding dominates.

    Args:
        file: Binary file object.
        arena (_Arena): Where array bytes go.
        split (str, optional): When the file's ``split`` dict precedes its
            annotations (the PYSKL layout), arrays of annotations outside this
            split are not stored at all (their placeholders are empty).
    """

    def __init__(self, file, arena: _Arena,
                 split: Optional[str] = None) -> None:
        super().__init__(file)
        self.arena = arena
        self.memo = _ReleasingMemo()
        self.split = split
        self._names: Optional[set] = None  # names in the split, when found
        self._ident: Optional[str] = None

    def _split_names(self) -> Optional[set]:
        """The requested split's names, read from the enclosing top-level
        dict's items if they were unpickled already."""
        for items in self.metastack:
            for i in range(len(items) - 1):
                if _is_str(items[i], 'split') and isinstance(
                        items[i + 1], dict):
                    names = items[i + 1].get(self.split)
                    if isinstance(names, (list, tuple, set)):
                        return set(str(n) for n in names)
        return None

    def _wanted(self) -> bool:
        """Whether the annotation being unpickled is in the split.

        While an annotation dict is built, ``self.stack`` holds its items so
        far as key, value, key, value, ...; its identifier ('frame_dir', or
        'filename' when the first annotation has one, as in mmaction2)
        precedes the arrays in files written by PYSKL and mmaction2. Anything
        unexpected keeps the array.
        """
        if self.split is None:
            return True
        if self._names is None:
            self._names = self._split_names()
            if self._names is None:
                self.split = None  # no split before the annotations
                return True
        items = self.stack
        if self._ident is None:
            self._ident = 'filename' if any(
                _is_str(k, 'filename')
                for k in items[0:len(items) - 1:2]) else 'frame_dir'
        for i in range(0, len(items) - 1, 2):
            if _is_str(items[i], self._ident) and isinstance(
                    items[i + 1], str):
                return items[i + 1] in self._names
        return True

    def store(self, raw, dtype, shape, fortran,
              into: _ArenaArray) -> _ArenaArray:
        """Copy an array's bytes to the arena (unless its annotation is not
        wanted) and drop the pickle's copy."""
        if self._wanted():
            self.arena.put(raw, dtype, shape, fortran, into)
        else:
            into.chunk_id, into.dtype, into.shape = _DROPPED, dtype, shape
        self.memo.release_pending()
        return into

    def find_class(self, module: str, name: str):
        if module in _NP_MODULES and name == '_reconstruct':
            return self._reconstruct
        if module in _NP_MODULES and name == '_frombuffer':
            return self._frombuffer
        return super().find_class(module, name)

    def _reconstruct(self, subtype, shape, dtype):
        if subtype is not np.ndarray:
            return _NP_RECONSTRUCT(subtype, shape, dtype)
        return _ArenaArray(self)  # filled in by its __setstate__

    def _frombuffer(self, buf, dtype, shape, order):
        if dtype.hasobject:
            return _NP_FROMBUFFER(buf, dtype, shape, order)
        return self.store(
            memoryview(buf).cast('B'), dtype, tuple(shape), order == 'F',
            _ArenaArray())


def _materialize(obj):
    """Replace :class:`_ArenaArray` s inside small containers by arrays."""
    if isinstance(obj, _ArenaArray):
        return np.array(obj.view())
    if isinstance(obj, dict):
        return {k: _materialize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize(v) for v in obj)
    return obj


def load_annotation_file(path: str,
                         split: Optional[str] = None
                         ) -> Tuple[Any, Optional[_Arena]]:
    """Unpickle a skeleton annotation file with arrays kept in an arena.

    Returns the unpickled object, in which every plain ndarray is an
    :class:`_ArenaArray` (``.view()`` gives the array), and the arena. With
    ``split``, arrays of annotations outside that split may be left out (see
    :class:`_StreamingUnpickler`). Falls back to ``pickle.load`` (arena None,
    real arrays) for a pickle that re-uses a raw buffer.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a readable pickle.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'PoseDataset: annotation file {path!r} does not exist')
    arena = _Arena()
    # The cyclic GC would rescan the growing heap of annotation dicts many
    # times during the load; the loaded data has no cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, 'rb') as f:
            return _StreamingUnpickler(f, arena, split).load(), arena
    except _ConsumedMemoError:
        del arena
    except Exception as err:
        raise ValueError(f'PoseDataset: cannot read annotation file {path!r} '
                         f'as a pickle: {type(err).__name__}: {err}') from err
    finally:
        if gc_was_enabled:
            gc.enable()
    with open(path, 'rb') as f:
        return pickle.load(f), None


def _array_of(value) -> np.ndarray:
    if isinstance(value, _ArenaArray):
        return value.view()
    return np.asarray(value)


# ---------------------------------------------------------------------------
# Compact per-sample storage
# ---------------------------------------------------------------------------
class _PackedPoses:
    """Keypoints, scores and small per-sample fields of N samples in a few
    flat numpy buffers."""

    def __init__(self, kp_buf, kp_off, kp_shape, sc_buf, sc_off, has_score,
                 meta_buf, meta_off) -> None:
        self.kp_buf, self.kp_off, self.kp_shape = kp_buf, kp_off, kp_shape
        self.sc_buf, self.sc_off, self.has_score = sc_buf, sc_off, has_score
        self.meta_buf, self.meta_off = meta_buf, meta_off

    def __len__(self) -> int:
        return len(self.kp_shape)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.kp_buf, self.kp_off, self.kp_shape,
                                      self.sc_buf, self.sc_off, self.has_score,
                                      self.meta_buf, self.meta_off))

    def meta(self, i: int) -> dict:
        return pickle.loads(
            memoryview(self.meta_buf[self.meta_off[i]:self.meta_off[i + 1]]))

    def get(self, i: int) -> dict:
        info = self.meta(i)
        shape = tuple(int(s) for s in self.kp_shape[i])
        kp = self.kp_buf[self.kp_off[i]:self.kp_off[i + 1]]
        # Always a fresh float32 array: transforms may work in place.
        info['keypoint'] = kp.astype(np.float32).reshape(shape)
        if self.has_score[i]:
            sc = self.sc_buf[self.sc_off[i]:self.sc_off[i + 1]]
            info['keypoint_score'] = sc.astype(np.float32).reshape(shape[:3])
        return info

    def take(self, indices: np.ndarray) -> '_PackedPoses':
        indices = np.asarray(indices, dtype=np.int64)

        def gather(buf, off):
            sizes = off[indices + 1] - off[indices]
            new_off = np.zeros(len(indices) + 1, np.int64)
            np.cumsum(sizes, out=new_off[1:])
            out = np.empty(int(new_off[-1]), buf.dtype)
            for j, i in enumerate(indices):
                out[new_off[j]:new_off[j + 1]] = buf[off[i]:off[i + 1]]
            return out, new_off

        kp_buf, kp_off = gather(self.kp_buf, self.kp_off)
        sc_buf, sc_off = gather(self.sc_buf, self.sc_off)
        meta_buf, meta_off = gather(self.meta_buf, self.meta_off)
        return _PackedPoses(kp_buf, kp_off, self.kp_shape[indices].copy(),
                            sc_buf, sc_off, self.has_score[indices].copy(),
                            meta_buf, meta_off)


class _InvalidSample(ValueError):
    pass


class _Kept(NamedTuple):
    """A validated sample: small fields, array references and layout."""
    meta: dict
    keypoint: Any  # _ArenaArray, ndarray or nested list
    score: Any
    shape: Tuple[int, ...]
    kp_half: bool
    score_half: bool


def _as_int(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, np.integer)):
        raise _InvalidSample(f'{what} must be an integer, got {value!r}')
    return int(value)


def _as_shape(value, key: str) -> Tuple[int, int]:
    try:
        h, w = (int(v) for v in value)
        ok = h > 0 and w > 0 and all(float(v).is_integer() for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _InvalidSample(
            f'{key} must be (height, width) of positive integers, got '
            f'{value!r}')
    return h, w


# ---------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------
@DATASETS.register_module()
class PoseDataset(BaseActionDataset):
    """Skeleton dataset (NTU RGB+D 60/120, FineGYM, custom data in the
    PYSKL / mmaction2 pickle format), validated when loaded.

    Drop-in replacement for mmaction2's ``PoseDataset`` (same arguments and
    the same per-sample dict), with:

    * validation of every sample of the chosen split (see ``docs/data.md``):
      a missing key, keypoint / keypoint_score shape mismatch, T different
      from total_frames, total_frames < 1, non-finite coordinates or scores,
      a label outside ``[0, num_classes)``, a bad img_shape, a missing video
      (when ``data_prefix`` has ``video``) raise a ``ValueError`` naming the
      file, the frame_dir and the problem; with ``skip_invalid=True`` the
      sample is skipped, logged with the same message, and the count is
      logged at the end;
    * compact storage (flat numpy buffers; see the module docstring);
    * a configurable video file name (``filename`` = ``data_prefix['video']``
      joined with ``video_name_tmpl``), the ``frame_dir`` itself unchanged.

    Samples with zero persons (keypoint of shape ``(0, T, V, C)``) and
    single-frame clips are valid.

    Each item handed to the pipeline holds the annotation's fields with
    ``keypoint`` (float32, (M, T, V, C)), ``keypoint_score`` (float32,
    (M, T, V), when the file has it), ``img_shape`` / ``original_shape`` as
    tuples, ``label`` as int, and ``filename`` (with a video prefix),
    ``modality='Pose'``, ``start_index``, ``sample_idx``. Keypoints are kept
    in the file's dtype when it is float16 (PYSKL releases) and float32
    otherwise.

    Args:
        ann_file (str): Path of the pickle.
        pipeline (list[dict | callable]): Data transforms.
        split (str, optional): Name of the split to use (e.g. 'xsub_train',
            'xsub_val', 'xview_train', 'xset_val'); all samples when None.
        valid_ratio (float, optional): Keep only samples whose fraction of
            frames with a person box above ``box_thr`` (the annotation's
            ``valid[box_thr]``) is at least this (mmaction2 semantics;
            needs ``valid`` and ``box_score`` in the annotations, and adds
            ``anno_inds = box_score >= box_thr``). Defaults to None.
        box_thr (float): Box score threshold for ``valid_ratio``. Defaults to
            0.0.
        data_prefix (dict): ``dict(video=DIR)`` to set ``filename`` of each
            sample (RGBPose). Defaults to ``dict(prefix='')``.
        video_name_tmpl (str): Video file name, formatted with the
            annotation's fields: ``'{frame_dir}.mp4'`` (mmaction2's
            convention, also compressed copies) or ``'{frame_dir}_rgb.avi'``
            (NTU RGB+D releases). An annotation's own ``filename`` wins.
            Defaults to ``'{frame_dir}.mp4'``.
        num_classes (int, optional): Number of classes; labels are checked
            against it. Defaults to None.
        skip_invalid (bool): Skip and log invalid samples instead of raising.
            Defaults to False.
        nan_policy (str): 'invalid' (NaN / inf in keypoint or keypoint_score
            makes the sample invalid) or 'zero' (they become 0, the "not
            detected" value of the pose transforms; counted in the log).
            Defaults to 'invalid'.
        check_videos (bool): With a ``video`` prefix, check at load that each
            sample's video file exists (one ``stat`` per sample). Defaults to
            True.
        test_mode (bool): Test / validation dataset. Defaults to False.
        multi_class (bool): Labels are lists of class indices (one-hot
            ``num_classes`` vectors in the items). Defaults to False.
        start_index (int): Added to frame indices by the samplers. Defaults
            to 0.
        **kwargs: Other arguments of mmengine's ``BaseDataset`` (data_root,
            indices, lazy_init, max_refetch, ...). ``serialize_data`` is
            accepted and has no effect: storage is always compact.

    Example:
        >>> ds = PoseDataset('data/skeleton/ntu60_2d.pkl', pipeline=[],
        ...                  split='xsub_val',
        ...                  num_classes=60)  # doctest: +SKIP
        >>> info = ds.get_data_info(0)  # doctest: +SKIP
        >>> info['keypoint'].shape  # doctest: +SKIP
        (2, 103, 17, 2)
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 split: Optional[str] = None,
                 valid_ratio: Optional[float] = None,
                 box_thr: float = 0.0,
                 data_prefix: Optional[dict] = None,
                 video_name_tmpl: str = '{frame_dir}.mp4',
                 num_classes: Optional[int] = None,
                 skip_invalid: bool = False,
                 nan_policy: str = 'invalid',
                 check_videos: bool = True,
                 test_mode: bool = False,
                 multi_class: bool = False,
                 start_index: int = 0,
                 **kwargs) -> None:
        if nan_policy not in ('invalid', 'zero'):
            raise ValueError("PoseDataset nan_policy must be 'invalid' or "
                             f"'zero', got {nan_policy!r}")
        if num_classes is not None and num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if multi_class and num_classes is None:
            raise ValueError('PoseDataset(multi_class=True) needs '
                             'num_classes')
        self.split = split
        self.valid_ratio = valid_ratio
        self.box_thr = box_thr
        self.video_name_tmpl = video_name_tmpl
        self.skip_invalid = skip_invalid
        self.nan_policy = nan_policy
        self.check_videos = check_videos
        self.num_skipped = 0
        self._store: Optional[_PackedPoses] = None
        kwargs.pop('modality', None)  # always 'Pose', as in mmaction2
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_prefix=dict(prefix='')
            if data_prefix is None else dict(data_prefix),
            test_mode=test_mode,
            multi_class=multi_class,
            num_classes=num_classes,
            start_index=start_index,
            modality='Pose',
            **kwargs)

    # -- loading -----------------------------------------------------------
    def full_init(self) -> None:
        """Load, validate and pack the annotations (once)."""
        if self._fully_initialized:
            return
        self._store = self._load_store()
        self.data_list = []
        if self._indices is not None:
            self._store = self._store.take(
                self._subset_indices(self._indices))
        self._fully_initialized = True

    def load_data_list(self) -> List[dict]:
        """All samples as a list of dicts (mmengine API; uses the compact
        store, so it costs a full copy: prefer ``get_data_info``)."""
        self.full_init()
        return [self._store.get(i) for i in range(len(self._store))]

    def _fail(self, where: str, problem: str) -> None:
        msg = f'PoseDataset: {self.ann_file}: {where}: {problem}'
        raise ValueError(msg)

    def _select(self, data) -> Tuple[list, List[int]]:
        """The annotation list and the indices of the chosen split."""
        if isinstance(data, dict):
            if 'annotations' not in data:
                self._fail('file', "the pickle is a dict without "
                           f"'annotations' (keys: {sorted(data)})")
            annos = data['annotations']
            splits = data.get('split')
        elif isinstance(data, (list, tuple)):
            annos, splits = data, None
        else:
            self._fail('file', 'expected a dict with split/annotations or a '
                       f'list of annotations, got {type(data).__name__}')
        if not isinstance(annos, (list, tuple)):
            self._fail('file', "'annotations' must be a list, got "
                       f'{type(annos).__name__}')
        if self.split is None:
            return annos, list(range(len(annos)))
        if not isinstance(splits, dict):
            self._fail('file', f'split {self.split!r} was requested but the '
                       "file has no 'split' dict")
        splits = _materialize(splits)
        if self.split not in splits:
            self._fail(
                'file', f'unknown split {self.split!r}; the file has '
                f'{sorted(splits)}')
        wanted = set(str(name) for name in splits[self.split])
        ident = 'frame_dir'
        if annos and isinstance(annos[0], dict) and 'filename' in annos[0]:
            ident = 'filename'  # mmaction2's rule
        chosen, found = [], set()
        for i, anno in enumerate(annos):
            name = anno.get(ident) if isinstance(anno, dict) else None
            if name is not None and str(name) in wanted:
                chosen.append(i)
                found.add(str(name))
        missing = wanted - found
        if missing:
            MMLogger.get_current_instance().warning(
                f'PoseDataset: {self.ann_file}: {len(missing)} of '
                f'{len(wanted)} names of split {self.split!r} have no '
                f'annotation (e.g. {sorted(missing)[:3]})')
        return annos, chosen

    def _video_path(self, info: dict) -> str:
        if 'filename' in info:
            name = info['filename']
        else:
            try:
                name = self.video_name_tmpl.format(**info)
            except (KeyError, IndexError) as err:
                raise _InvalidSample(
                    f'video_name_tmpl {self.video_name_tmpl!r} needs field '
                    f'{err} that the annotation lacks') from None
        return osp.join(self.data_prefix['video'], name)

    def _check(self, anno, counts: Counter) -> Optional['_Kept']:
        """Validate one annotation; None when filtered by ``valid_ratio``."""
        if not isinstance(anno, dict):
            raise _InvalidSample(
                f'annotation is a {type(anno).__name__}, not a dict')
        missing = [k for k in REQUIRED_KEYS if k not in anno]
        if self.valid_ratio:
            missing += [k for k in ('valid', 'box_score') if k not in anno]
        if missing:
            raise _InvalidSample(f'missing key(s) {missing}')
        meta = {
            k: _materialize(v)
            for k, v in anno.items() if k not in _ARRAY_KEYS
        }
        kp = _array_of(anno['keypoint'])
        if kp.ndim != 4 or kp.shape[-1] < 2:
            raise _InvalidSample('keypoint must have shape (M, T, V, C>=2), '
                                 f'got {kp.shape}')
        if not np.issubdtype(kp.dtype, np.number):
            raise _InvalidSample(
                f'keypoint must be numeric, got dtype {kp.dtype}')
        score = anno.get('keypoint_score')
        if score is not None:
            score = _array_of(score)
            if score.shape != kp.shape[:3]:
                raise _InvalidSample(
                    f'keypoint_score has shape {score.shape} but keypoint '
                    f'{kp.shape} needs {kp.shape[:3]}')
            if not np.issubdtype(score.dtype, np.number):
                raise _InvalidSample('keypoint_score must be numeric, got '
                                     f'dtype {score.dtype}')
        total = _as_int(anno['total_frames'], 'total_frames')
        if total < 1:
            raise _InvalidSample(f'total_frames={total}, need >= 1')
        if kp.shape[1] != total:
            raise _InvalidSample(f'keypoint has T={kp.shape[1]} frames but '
                                 f'total_frames={total}')
        meta['total_frames'] = total
        for key in ('img_shape', 'original_shape'):
            if key in meta:
                meta[key] = _as_shape(meta[key], key)
        meta['label'] = self._check_label(anno['label'])
        for name, arr in (('keypoint', kp), ('keypoint_score', score)):
            if arr is None or not np.issubdtype(arr.dtype, np.floating):
                continue
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            if bad:
                if self.nan_policy == 'invalid':
                    raise _InvalidSample(
                        f'{name} has {bad} non-finite (NaN/inf) values')
                counts[name] += bad
        if self.valid_ratio:
            frac = _materialize(anno['valid'])[self.box_thr] / total
            if frac < self.valid_ratio:
                counts['filtered'] += 1
                return None
            meta['anno_inds'] = np.asarray(
                _materialize(anno['box_score'])) >= self.box_thr
        if 'video' in self.data_prefix and self.check_videos:
            path = self._video_path(meta)
            if not osp.isfile(path):
                raise _InvalidSample(f'video file {path!r} does not exist')
        # Keep references, not views: a view would pin its arena chunk.
        return _Kept(meta, anno['keypoint'],
                     None if score is None else anno['keypoint_score'],
                     kp.shape, kp.dtype == np.float16, score is None
                     or score.dtype == np.float16)

    def _check_label(self, label):
        if self.multi_class:
            labels = [_as_int(x, 'label') for x in np.ravel(label)]
        else:
            labels = [_as_int(label, 'label')]
        for lab in labels:
            if lab < 0 or (self.num_classes is not None
                           and lab >= self.num_classes):
                limit = (f'[0, {self.num_classes})'
                         if self.num_classes is not None else '>= 0')
                raise _InvalidSample(f'label {lab} is outside {limit}')
        return labels if self.multi_class else labels[0]

    def _load_store(self) -> _PackedPoses:
        logger = MMLogger.get_current_instance()
        data, arena = load_annotation_file(self.ann_file, self.split)
        annos, chosen = self._select(data)
        del data
        counts: Counter = Counter()
        kept: List[_Kept] = []
        for i in chosen:
            anno = annos[i]
            name = anno.get('frame_dir', '?') if isinstance(anno,
                                                            dict) else '?'
            try:
                item = self._check(anno, counts)
            except _InvalidSample as err:
                msg = (f'PoseDataset: {self.ann_file}: sample {name!r} '
                       f'(annotation #{i}): {err}')
                if not self.skip_invalid:
                    raise ValueError(msg) from None
                logger.warning(msg + ' -> skipped')
                counts['skipped'] += 1
                continue
            if item is not None:
                kept.append(item)
        # Only the kept samples' references (in ``kept``) stay alive.
        del annos
        if counts['filtered']:
            logger.info(f'PoseDataset: {counts["filtered"]} samples below '
                        f'valid_ratio={self.valid_ratio} filtered out')
        self.num_skipped = counts['skipped']
        if self.skip_invalid:
            where = '' if self.split is None else f' (split {self.split!r})'
            logger.warning(
                f'PoseDataset: {self.ann_file}{where}: skipped '
                f'{counts["skipped"]} invalid of {len(chosen)} samples, kept '
                f'{len(kept)}')
        if self.nan_policy == 'zero' and (counts['keypoint']
                                          or counts['keypoint_score']):
            logger.warning(
                f'PoseDataset: {self.ann_file}: set {counts["keypoint"]} '
                f'non-finite keypoint and {counts["keypoint_score"]} '
                'keypoint_score values to 0 (nan_policy="zero")')
        return self._pack(kept, arena)

    def _pack(self, kept: List['_Kept'],
              arena: Optional[_Arena]) -> _PackedPoses:
        """Copy the kept samples into flat buffers, releasing each arena
        chunk as soon as its last sample has been copied."""
        n = len(kept)
        kp_dtype = np.float16 if n and all(k.kp_half
                                           for k in kept) else np.float32
        has_score = np.array([k.score is not None for k in kept], dtype=bool)
        sc_dtype = np.float16 if has_score.any() and all(
            k.score_half for k in kept) else np.float32
        kp_shape = np.array([k.shape for k in kept],
                            dtype=np.int64).reshape(n, 4)
        kp_off = np.zeros(n + 1, np.int64)
        np.cumsum(kp_shape.prod(axis=1), out=kp_off[1:])
        sc_off = np.zeros(n + 1, np.int64)
        np.cumsum(kp_shape[:, :3].prod(axis=1) * has_score, out=sc_off[1:])

        release_at: Dict[int, List[int]] = {}
        if arena is not None:
            last_use: Dict[int, int] = {}
            for j, k in enumerate(kept):
                for ref in (k.keypoint, k.score):
                    if isinstance(ref, _ArenaArray) and ref.chunk_id >= 0:
                        last_use[ref.chunk_id] = j
            for cid in range(len(arena.chunks)):
                if cid not in last_use:
                    arena.free(cid)
            for cid, j in last_use.items():
                release_at.setdefault(j, []).append(cid)

        kp_buf = np.empty(int(kp_off[-1]), kp_dtype)
        sc_buf = np.empty(int(sc_off[-1]), sc_dtype)
        metas = []
        for j in range(n):
            item, kept[j] = kept[j], None
            dst = kp_buf[kp_off[j]:kp_off[j + 1]].reshape(item.shape)
            dst[...] = _array_of(item.keypoint)
            targets = [dst]
            if item.score is not None:
                dst_s = sc_buf[sc_off[j]:sc_off[j + 1]].reshape(
                    item.shape[:3])
                dst_s[...] = _array_of(item.score)
                targets.append(dst_s)
            if self.nan_policy == 'zero':
                for t in targets:
                    np.nan_to_num(t, copy=False, nan=0., posinf=0., neginf=0.)
            metas.append(pickle.dumps(item.meta, protocol=4))
            del item, dst, targets
            for cid in release_at.get(j, ()):
                arena.free(cid)
        meta_off = np.zeros(n + 1, np.int64)
        np.cumsum([len(m) for m in metas], out=meta_off[1:])
        meta_buf = np.frombuffer(b''.join(metas), np.uint8).copy()
        return _PackedPoses(kp_buf, kp_off, kp_shape.astype(np.int32), sc_buf,
                            sc_off, has_score, meta_buf, meta_off)

    # -- access ------------------------------------------------------------
    def _subset_indices(self, indices: Union[int, Sequence[int]]):
        n = len(self._store)
        if isinstance(indices, int):
            return np.arange(n)[:indices] if indices >= 0 else np.arange(
                n)[indices:]
        idx = np.asarray(list(indices), dtype=np.int64)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f'subset indices out of range for {n} samples')
        return np.where(idx < 0, idx + n, idx)

    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th sample's annotation (fresh arrays)."""
        if not self._fully_initialized:
            self.full_init()
        n = len(self._store)
        if not -n <= idx < n:
            raise IndexError(f'index {idx} out of range for {n} samples')
        idx = idx % n
        info = self._store.get(idx)
        if 'video' in self.data_prefix:
            info['filename'] = self._video_path(info)
        info['modality'] = self.modality
        info['start_index'] = self.start_index
        info['sample_idx'] = idx
        if self.multi_class:
            onehot = np.zeros(self.num_classes, np.float32)
            onehot[info['label']] = 1.
            info['label'] = torch.from_numpy(onehot)
        return info

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._store)

    def get_subset_(self, indices: Union[Sequence[int], int]) -> None:
        """Keep only ``indices`` (first/last N for an int), in place."""
        if not self._fully_initialized:
            self.full_init()
        self._store = self._store.take(self._subset_indices(indices))

    def get_subset(self, indices: Union[Sequence[int],
                                        int]) -> 'PoseDataset':
        """A copy of the dataset holding only ``indices``."""
        if not self._fully_initialized:
            self.full_init()
        store, self._store = self._store, None
        try:
            other = copy.deepcopy(self)
        finally:
            self._store = store
        other._store = store.take(self._subset_indices(indices))
        return other

    def get_cat_ids(self, idx: int) -> List[int]:
        """Class indices of sample ``idx`` (for class-balanced wrappers)."""
        label = self._store.meta(idx)['label']
        return list(label) if self.multi_class else [label]

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the packed annotations."""
        if not self._fully_initialized:
            self.full_init()
        return self._store.nbytes
