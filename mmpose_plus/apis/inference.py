"""Inference API: build a model, estimate poses, recognise actions.

Four functions take a user from a config file to predictions, all returning
plain dicts of numpy arrays:

* :func:`init_model` builds any mmpose_plus model (pose estimator or action
  recogniser) from a config and loads a checkpoint (ours, mmaction2's,
  PYSKL's, or an official / mmpose pose release, converted on the fly);
* :func:`estimate_poses` runs a pose estimator on images or video frames,
  batched over frames, through the config's own test pipeline;
* :func:`recognize_skeleton` classifies a skeleton sequence with a skeleton
  model (PoseC3D / SlowOnly on heatmaps, ...);
* :func:`recognize_rgbpose` classifies a video plus its skeletons with
  RGBPoseConv3D. The sample it builds carries the keys the multi-modal
  pipeline reads (``filename``, ``frame_dir``, ``total_frames``,
  ``img_shape`` ...), which mmaction2's own skeleton demo does not provide
  for this model (mmaction2 issues #2660, #2847).

Images are BGR ``uint8`` ``(H, W, 3)`` arrays, as OpenCV reads them;
coordinates are pixels of the input image.

Example::

    pose = init_model('configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py',
                      'higherhrnet_w32.pth')
    frames = estimate_poses(pose, 'clip.mp4', batch_size=8)
    frames[0]['keypoints'].shape          # (N, 17, 2)
"""
import copy
import os.path as osp
import warnings
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Union)

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from mmpose_plus.registry import MODELS

__all__ = [
    'init_model', 'load_model_checkpoint', 'find_config',
    'get_test_pipeline', 'estimate_poses', 'recognize_skeleton',
    'recognize_rgbpose', 'is_rgbpose', 'untrained_banner',
    'UNTRAINED_WARNING'
]

ConfigType = Union[str, Config, dict]
ImageLike = Union[np.ndarray, str]

UNTRAINED_WARNING = (
    'no checkpoint given: {what} runs with UNTRAINED (randomly initialised) '
    'weights; its outputs are meaningless. Pass a checkpoint (see '
    'docs/checkpoints.md) for real predictions.')


# The folder holding the package (mmpose_plus/apis/inference.py, three
# levels up): in a source checkout it holds ``configs/``; an installed
# package has none there, so nothing is found.
_PACKAGE_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.abspath(__file__))))


def untrained_banner(models: Sequence[str]) -> str:
    """A hard-to-miss multi-line warning for command-line tools that run
    models without checkpoints.

    Args:
        models (Sequence[str]): What runs untrained, e.g. ``['pose']``.

    Returns:
        str: The banner, framed by lines of ``!``, starting and ending with
        a newline.

    Example:
        >>> 'UNTRAINED' in untrained_banner(['pose', 'action'])
        True
    """
    rule = '!' * 72
    return (f'\n{rule}\n! WARNING: no checkpoint for the '
            f'{" and ".join(models)} model(s): running with UNTRAINED '
            '(randomly\n! initialised) weights. The outputs are meaningless; '
            'this only tests the\n! pipeline. See docs/checkpoints.md for '
            f'trained weights.\n{rule}\n')


# ---------------------------------------------------------------------------
# building and loading
# ---------------------------------------------------------------------------
def find_config(path: str) -> str:
    """A config path as given when it exists, else the same relative path
    inside the source checkout the package runs from (so
    ``'configs/pose/...'`` works from any folder), else as given.

    Example:
        >>> find_config('configs/tiny/slowonly_tiny_tinyntu-keypoint.py'
        ...             ).endswith('slowonly_tiny_tinyntu-keypoint.py')
        True
    """
    path = osp.expanduser(str(path))
    if osp.isfile(path) or osp.isabs(path):
        return path
    in_checkout = osp.join(_PACKAGE_ROOT, path)
    return in_checkout if osp.isfile(in_checkout) else path


def _as_config(config: ConfigType) -> Config:
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(config))
    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        path = find_config(str(config))
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file {path!r} does not exist')
        return Config.fromfile(path)
    raise TypeError('config must be a file path, a Config or a dict, got '
                    f'{type(config).__name__}')


def _scope(cfg: Config) -> str:
    return cfg.get('default_scope', None) or 'mmpose_plus'


def load_model_checkpoint(model: nn.Module,
                          checkpoint: str,
                          strict: bool = True,
                          map_location: Union[str, torch.device] = 'cpu'
                          ) -> dict:
    """Load a checkpoint file into a built model.

    Pose estimators accept the official SimpleBaseline / HRNet / HigherHRNet
    releases and the mmpose 0.x / 1.x layouts (renamed on the fly by
    :func:`mmpose_plus.models.utils.load_pose_checkpoint`); other models
    take mmengine checkpoints (ours, mmaction2's, PYSKL's share the keys).
    The file is unpickled in full (``load_trusted_checkpoint``): only load
    checkpoints you trust.

    Args:
        model (nn.Module): The built model.
        checkpoint (str): Path of the checkpoint file.
        strict (bool): Raise ``CheckpointMismatchError`` (a ``ValueError``)
            naming the missing / unexpected / mis-shaped keys. Defaults to
            True.
        map_location: Passed to ``torch.load``. Defaults to ``'cpu'``.

    Returns:
        dict: The checkpoint's ``meta`` (empty when it has none).
    """
    from mmpose_plus.engine.checkpoint import (get_state_dict,
                                               load_trusted_checkpoint)
    from mmpose_plus.engine.checks import CheckpointMismatchError
    from mmpose_plus.models.pose_estimators import BasePoseEstimator
    from mmpose_plus.models.utils import load_pose_checkpoint

    loaded = load_trusted_checkpoint(checkpoint, map_location=map_location)
    meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
    if isinstance(model, BasePoseEstimator):
        load_pose_checkpoint(model, loaded, strict=strict)
        return meta if isinstance(meta, dict) else {}
    state_dict = get_state_dict(loaded)
    state_dict = {(k[7:] if k.startswith('module.') else k): v
                  for k, v in state_dict.items()}
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mis_shaped = [(k, tuple(v.shape), tuple(own[k].shape))
                  for k, v in state_dict.items()
                  if k in own and hasattr(v, 'shape')
                  and tuple(v.shape) != tuple(own[k].shape)]
    if strict and (missing or unexpected or mis_shaped):

        def few(items):
            return f'{len(items)} (e.g. {items[:3]})' if items else '0'

        raise CheckpointMismatchError(
            f'checkpoint {checkpoint!r} does not match '
            f'{type(model).__name__}: missing {few(missing)}, unexpected '
            f'{few(unexpected)}, wrong shape {few(mis_shaped)}. Is it the '
            'checkpoint of this config?')
    bad = {k for k, _, _ in mis_shaped}
    model.load_state_dict(
        {k: v
         for k, v in state_dict.items() if k not in bad},
        strict=False)
    return meta if isinstance(meta, dict) else {}


def init_model(config: ConfigType,
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a model from a config and load its weights.

    Works for every model of mmpose_plus: top-down / bottom-up pose
    estimators and skeleton / RGB / RGB+pose recognisers. Pretrained
    ``init_cfg`` entries of the config (ImageNet backbones) are not loaded:
    the checkpoint holds the whole model.

    Args:
        config (str | Config | dict): Config file path (a relative path
            not found in the working folder is looked up in the source
            checkout, see :func:`find_config`) or object.
        checkpoint (str, optional): Checkpoint file. None leaves the
            weights untrained and says so with a logged warning and a
            ``UserWarning`` (useful to test a pipeline offline).
        device (str | torch.device): Where to put the model. Defaults to
            ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config
            (``{'model.test_cfg.flip_test': False}``).
        strict (bool): Require every checkpoint key to match. Defaults to
            True.

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``model.cfg``
        (the config, used to find the test pipeline), ``model.checkpoint``
        (the path or None) and, for recognisers whose checkpoint names its
        classes, ``model.dataset_meta``.

    Example:
        >>> model = init_model('configs/tiny/slowonly_tiny_tinyntu-keypoint.py'
        ...                    )  # doctest: +SKIP
        >>> type(model).__name__  # doctest: +SKIP
        'Recognizer3D'
    """
    import mmpose_plus  # noqa: F401  (registers our modules)
    cfg = _as_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError('the config defines no `model`')
    model_cfg = copy.deepcopy(cfg.model)
    with DefaultScope.overwrite_default_scope(_scope(cfg)):
        model = MODELS.build(model_cfg)
    model.cfg = cfg
    model.checkpoint = checkpoint
    if checkpoint is None:
        msg = UNTRAINED_WARNING.format(what=type(model).__name__)
        print_log(msg, logger='current', level=30)
        warnings.warn(msg, UserWarning, stacklevel=2)
    else:
        meta = load_model_checkpoint(model, checkpoint, strict=strict)
        if 'dataset_meta' in meta and not getattr(model, 'dataset_meta',
                                                  None):
            model.dataset_meta = meta['dataset_meta']
    return model.to(device).eval()


# ---------------------------------------------------------------------------
# pipelines
# ---------------------------------------------------------------------------
def _leaf_dataset(loader_cfg) -> Optional[dict]:
    dataset = loader_cfg.get('dataset') if loader_cfg else None
    while dataset is not None and 'pipeline' not in dataset and \
            'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def get_test_pipeline(cfg: Config) -> List[dict]:
    """The test-time data pipeline of a config: ``test_pipeline``, else the
    test (then val) dataloader's dataset pipeline.

    Raises:
        KeyError: The config has none of them.
    """
    if cfg.get('test_pipeline'):
        return copy.deepcopy(list(cfg.test_pipeline))
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = _leaf_dataset(cfg.get(key))
        if dataset is not None and dataset.get('pipeline'):
            return copy.deepcopy(list(dataset['pipeline']))
    raise KeyError('the config has no test_pipeline and no test/val '
                   'dataloader pipeline to run inference with')


def _pipeline_steps(model: nn.Module,
                    pipeline: Optional[Sequence]) -> List:
    """``pipeline`` as a list, or the test pipeline of the model's config."""
    if pipeline is not None:
        return list(pipeline)
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError(
            'the model has no `cfg` (it was not built by init_model): '
            'pass pipeline=[...] explicitly')
    return list(get_test_pipeline(cfg))


def _compose(model: nn.Module, pipeline: Optional[Sequence]) -> Compose:
    cfg = getattr(model, 'cfg', None)
    pipeline = _pipeline_steps(model, pipeline)
    scope = _scope(cfg) if cfg is not None else 'mmpose_plus'
    with DefaultScope.overwrite_default_scope(scope):
        return Compose(copy.deepcopy(list(pipeline)))


def _model_device(model: nn.Module) -> torch.device:
    for param in model.parameters():
        return param.device
    return torch.device('cpu')


# ---------------------------------------------------------------------------
# pose estimation
# ---------------------------------------------------------------------------
_IMAGE_LOADERS = ('LoadImage', 'LoadImageFromFile', 'mmpose_plus.LoadImage',
                  'mmcv.LoadImageFromFile')


def _pose_pipeline(model: nn.Module, pipeline: Optional[Sequence]) -> Compose:
    steps = copy.deepcopy(_pipeline_steps(model, pipeline))
    # Frames are already decoded: our LoadImage takes the array in `img`.
    steps = [
        dict(type='LoadImage') if isinstance(s, dict)
        and s.get('type') in _IMAGE_LOADERS else s for s in steps
    ]
    if not any(isinstance(s, dict) and s.get('type') == 'LoadImage'
               for s in steps):
        steps.insert(0, dict(type='LoadImage'))
    return _compose(model, steps)


def _iter_images(images) -> Iterable[np.ndarray]:
    """Yield BGR uint8 frames from the accepted input forms."""
    if isinstance(images, str) or hasattr(images, '__fspath__'):
        path = str(images)
        from mmpose_plus.apis.extraction import VIDEO_EXTS, iter_video_frames
        if path.lower().endswith(VIDEO_EXTS):
            for batch in iter_video_frames(path, batch_size=16):
                yield from batch
            return
        images = [path]
    elif isinstance(images, np.ndarray):
        if images.ndim == 3:
            images = [images]
        elif images.ndim != 4:
            raise ValueError('an image array must be (H, W, 3) or a stack of '
                             f'frames (T, H, W, 3), got shape {images.shape}')
    for i, img in enumerate(images):
        if isinstance(img, str) or hasattr(img, '__fspath__'):
            import cv2
            path = str(img)
            if not osp.isfile(path):
                raise FileNotFoundError(f'image file {path!r} does not exist')
            arr = cv2.imread(path, cv2.IMREAD_COLOR)
            if arr is None:
                raise ValueError(f'cannot decode image file {path!r}')
            img = arr
        img = np.asarray(img)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'image {i}: expected (H, W, 3), got shape '
                             f'{img.shape}')
        if img.dtype != np.uint8:
            raise ValueError(f'image {i}: expected uint8 pixels, got '
                             f'{img.dtype}')
        yield img


def _flip_indices(model: nn.Module) -> Optional[List[int]]:
    """Flip indices for flip test: the model's metainfo, its dataset meta,
    else COCO-17 (what every pose config of this package uses)."""
    for meta in (getattr(model, 'metainfo', None),
                 getattr(model, 'dataset_meta', None)):
        if isinstance(meta, dict) and meta.get('flip_indices') is not None:
            return list(meta['flip_indices'])
    from mmpose_plus.datasets.coco_meta import COCO_FLIP_INDICES
    return list(COCO_FLIP_INDICES)


def _as_instances(pred, num_joints: Optional[int]) -> Dict[str, np.ndarray]:
    def arr(x):
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        return np.asarray(x, dtype=np.float32)

    kp = pred.get('keypoints') if pred is not None else None
    if kp is None:
        k = num_joints or 17
        return dict(
            keypoints=np.zeros((0, k, 2), np.float32),
            keypoint_scores=np.zeros((0, k), np.float32),
            bbox_scores=np.zeros((0, ), np.float32))
    kp = arr(kp)
    k = kp.shape[-2] if kp.ndim >= 2 else (num_joints or 17)
    kp = kp.reshape(-1, k, 2)
    sc = pred.get('keypoint_scores')
    sc = np.ones(kp.shape[:2], np.float32) if sc is None else arr(sc).reshape(
        -1, k)
    box = pred.get('bbox_scores')
    box = sc.mean(axis=1) if box is None else arr(box).reshape(-1)
    return dict(keypoints=kp, keypoint_scores=sc, bbox_scores=box)


def _is_topdown(model: nn.Module) -> bool:
    from mmpose_plus.models.pose_estimators import TopdownPoseEstimator
    return isinstance(model, TopdownPoseEstimator)


def estimate_poses(model: nn.Module,
                   images: Union[ImageLike, Sequence[ImageLike]],
                   batch_size: int = 8,
                   bboxes: Optional[Sequence[np.ndarray]] = None,
                   pipeline: Optional[Sequence[dict]] = None,
                   progress: Optional[Callable[[int], None]] = None
                   ) -> List[Dict[str, np.ndarray]]:
    """Estimate the poses of every person in images or video frames.

    Frames go through the model's test pipeline and are run ``batch_size``
    frames per forward pass. A bottom-up model (HigherHRNet) finds every
    person itself. A top-down model needs person boxes: ``bboxes`` gives
    them per frame; without it, each whole frame is one box (right for
    clips showing one person, such as most NTU RGB+D videos). Top-down
    forward passes take the person crops of all ``batch_size`` frames
    together, so every person of a frame is in the same pass.

    Args:
        model (nn.Module): A pose estimator from :func:`init_model`.
        images: A video file path, an image file path, an ``(H, W, 3)``
            array, a ``(T, H, W, 3)`` stack, or a sequence of arrays /
            image paths. Arrays are BGR ``uint8``.
        batch_size (int): Frames per forward pass (top-down: all their
            person crops). Defaults to 8.
        bboxes (Sequence[np.ndarray], optional): Top-down only: per frame an
            ``(N, 4)`` xyxy array, or ``(N, 5)`` with a score column.
        pipeline (list[dict], optional): Overrides the config's test
            pipeline.
        progress (callable, optional): Called with the number of frames
            finished after every batch.

    Returns:
        list[dict]: One dict per frame with ``keypoints`` ``(N, K, 2)``
        float32 (image pixels), ``keypoint_scores`` ``(N, K)`` float32 and
        ``bbox_scores`` ``(N,)`` float32 (the person score; 1 for a whole-
        frame box). ``N`` may be 0.

    Example:
        >>> frames = np.zeros((4, 64, 64, 3), np.uint8)
        >>> out = estimate_poses(model, frames, batch_size=2)  # doctest: +SKIP
        >>> len(out), out[0]['keypoints'].shape[1:]  # doctest: +SKIP
        (4, (17, 2))
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    topdown = _is_topdown(model)
    if bboxes is not None and not topdown:
        raise ValueError('bboxes are for top-down models; '
                         f'{type(model).__name__} finds people itself')
    compose = _pose_pipeline(model, pipeline)
    flip_indices = _flip_indices(model)
    head = getattr(model, 'head', None)
    num_joints = getattr(head, 'out_channels', None)
    num_joints = num_joints if isinstance(num_joints, int) else None

    results: List[Dict[str, np.ndarray]] = []
    pending: List[tuple] = []  # (frame index, packed sample)
    owners: List[int] = []  # frame index of each pending sample

    def flush(upto_frames: int) -> None:
        preds = {i: [] for i in range(len(results), upto_frames)}
        if pending:
            # One pass over everything pending: the frames of one batch,
            # with all their person crops for a top-down model.
            with torch.no_grad():
                outs = model.test_step(
                    pseudo_collate([item for _, item in pending]))
            for (frame, _), out in zip(pending, outs):
                preds[frame].append(
                    _as_instances(out.get('pred_instances'), num_joints))
        for frame in sorted(preds):
            found = preds[frame]
            if not found:
                k = num_joints or 17
                found = [_as_instances(None, k)]
            results.append({
                key: np.concatenate([f[key] for f in found])
                for key in ('keypoints', 'keypoint_scores', 'bbox_scores')
            })
        pending.clear()
        owners.clear()
        if progress is not None:
            progress(len(results))

    seen = 0
    for t, img in enumerate(_iter_images(images)):
        seen = t + 1
        base = dict(img=img, img_id=t, img_path=f'frame_{t}',
                    flip_indices=flip_indices)
        if topdown:
            h, w = img.shape[:2]
            if bboxes is None:
                boxes = np.array([[0, 0, w, h, 1.]], np.float32)
            else:
                if t >= len(bboxes):
                    raise ValueError(f'bboxes has {len(bboxes)} frames but '
                                     f'the input has more (frame {t})')
                boxes = np.asarray(bboxes[t], np.float32).reshape(
                    -1, np.shape(bboxes[t])[-1] if np.size(bboxes[t]) else 4)
                if boxes.shape[1] not in (4, 5):
                    raise ValueError(f'frame {t}: boxes must be (N, 4) or '
                                     f'(N, 5), got {boxes.shape}')
                if boxes.shape[1] == 4:
                    boxes = np.concatenate(
                        [boxes, np.ones((len(boxes), 1), np.float32)], 1)
            for box in boxes:
                sample = dict(base, bbox=box[None, :4].copy(),
                              bbox_score=box[4:5].copy())
                pending.append((t, compose(sample)))
        else:
            pending.append((t, compose(dict(base))))
        owners.append(t)
        if len(set(owners)) >= batch_size:
            flush(t + 1)
    flush(seen)
    if bboxes is not None and len(bboxes) != seen:
        raise ValueError(f'bboxes has {len(bboxes)} frames for {seen} input '
                         'frames')
    return results


# ---------------------------------------------------------------------------
# action recognition
# ---------------------------------------------------------------------------
def _check_skeleton(keypoints, scores) -> tuple:
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 4 or kp.shape[-1] != 2:
        raise ValueError('keypoints must be (M, T, V, 2), got shape '
                         f'{kp.shape}')
    if scores is None:
        sc = np.ones(kp.shape[:3], np.float32)
    else:
        sc = np.asarray(scores, dtype=np.float32)
        if sc.shape != kp.shape[:3]:
            raise ValueError(f'scores must be (M, T, V) = {kp.shape[:3]}, '
                             f'got shape {sc.shape}')
    if kp.shape[1] < 1:
        raise ValueError('the skeleton sequence has no frames (T = 0)')
    if not (np.isfinite(kp).all() and np.isfinite(sc).all()):
        raise ValueError('keypoints / scores contain NaN or inf; use 0 for '
                         'joints that were not detected')
    if kp.shape[0] == 0:
        # Nobody was found: one all-missing person keeps the pipelines'
        # array shapes valid (zero scores draw empty heatmaps).
        kp = np.zeros((1, ) + kp.shape[1:], np.float32)
        sc = np.zeros(kp.shape[:3], np.float32)
    return kp, sc


def _skeleton_sample(keypoints: np.ndarray, scores: np.ndarray,
                     img_shape: Sequence[int], frame_dir: str,
                     **extra) -> dict:
    """The in-memory annotation ``PoseDataset`` would hand to a pipeline
    (PYSKL keys), for one unlabelled clip."""
    h, w = (int(v) for v in img_shape[:2])
    return dict(
        frame_dir=frame_dir,
        label=-1,
        img_shape=(h, w),
        original_shape=(h, w),
        start_index=0,
        modality='Pose',
        total_frames=keypoints.shape[1],
        keypoint=keypoints,
        keypoint_score=scores,
        **extra)


def _classify(model: nn.Module, sample: dict,
              pipeline: Optional[Sequence]) -> object:
    compose = _compose(model, pipeline)
    data = compose(sample)
    if data is None:
        raise ValueError('the test pipeline dropped the sample (a transform '
                         'returned None)')
    with torch.no_grad():
        return model.test_step(pseudo_collate([data]))[0]


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32).reshape(-1)


def _top(scores: np.ndarray) -> dict:
    label = int(np.argmax(scores))
    return dict(label=label, score=float(scores[label]),
                scores=scores.astype(np.float32))


def recognize_skeleton(model: nn.Module,
                       keypoints: np.ndarray,
                       scores: Optional[np.ndarray],
                       img_shape: Sequence[int],
                       pipeline: Optional[Sequence[dict]] = None) -> dict:
    """Classify a skeleton sequence with a skeleton-based recogniser.

    The sequence becomes an in-memory annotation in the PYSKL format (the
    fields :class:`~mmpose_plus.datasets.PoseDataset` hands to pipelines)
    and goes through the config's test pipeline (clip sampling, heatmap
    rendering, multi-clip averaging as configured).

    Args:
        model (nn.Module): A recogniser from :func:`init_model` (e.g. a
            PoseC3D config).
        keypoints (np.ndarray): ``(M, T, V, 2)`` pixel coordinates, 0 for
            joints not detected. ``M`` may be 0.
        scores (np.ndarray, optional): ``(M, T, V)`` joint scores (ones
            when None).
        img_shape (Sequence[int]): ``(h, w)`` of the frames the keypoints
            refer to.
        pipeline (list[dict], optional): Overrides the test pipeline.

    Returns:
        dict: ``label`` (int, the top class), ``score`` (float, its score)
        and ``scores`` ``(C,)`` float32 (class scores; probabilities with
        ``average_clips='prob'``).

    Example:
        >>> out = recognize_skeleton(model, np.zeros((1, 30, 17, 2)), None,
        ...                          (480, 640))  # doctest: +SKIP
        >>> out['scores'].shape  # doctest: +SKIP
        (60,)
    """
    if is_rgbpose(model):
        raise ValueError(
            f'{type(model).__name__} with an RGBPoseConv3D backbone needs '
            'the video as well: use recognize_rgbpose (it returns '
            'per-stream pred_scores)')
    kp, sc = _check_skeleton(keypoints, scores)
    sample = _skeleton_sample(kp, sc, img_shape, '<in-memory skeleton>')
    out = _classify(model, sample, pipeline)
    # mmaction2 1.x: ``pred_scores`` is a LabelData whose ``item`` holds the
    # class scores (RGBPoseConv3D has ``rgb`` / ``pose`` instead)
    preds = out.get('pred_scores')
    pred = preds.get('item') if preds is not None else None
    if pred is None:
        raise ValueError(
            f'{type(model).__name__} returned no `pred_scores.item`; '
            'recognize_skeleton needs a single-stream recogniser (use '
            'recognize_rgbpose for RGBPoseConv3D)')
    return _top(_to_numpy(pred))


def is_rgbpose(model: nn.Module) -> bool:
    """Whether a recogniser is RGBPoseConv3D (it needs the video as well:
    use :func:`recognize_rgbpose`; other recognisers use
    :func:`recognize_skeleton`)."""
    return type(getattr(model, 'backbone', None)).__name__ == 'RGBPoseConv3D'


def _video_shape_and_length(path: str) -> tuple:
    from mmpose_plus.apis.extraction import video_info
    info = video_info(path)
    return (info['height'], info['width']), info['num_frames']


class _ShiftVideoFrames:
    """Pipeline step: move the sampled ``RGB_inds`` (relative to a window)
    to video frame numbers; the window's keypoints are already sliced, so
    ``Pose_inds`` stay as sampled."""

    def __init__(self, start: int) -> None:
        self.start = int(start)

    def __call__(self, results: dict) -> dict:
        if 'RGB_inds' in results:
            results['RGB_inds'] = np.asarray(results['RGB_inds']) + self.start
        return results


def _select_frames(model: nn.Module, kp: np.ndarray, sc: np.ndarray,
                   frame_range: Sequence[int],
                   pipeline: Optional[Sequence]) -> tuple:
    """The keypoints of frames ``[start, end)`` and a pipeline that decodes
    the same frames of the video."""
    if len(frame_range) != 2:
        raise ValueError('frame_range must be (start, end), got '
                         f'{frame_range!r}')
    start, end = (int(v) for v in frame_range)
    num_frames = kp.shape[1]
    if not 0 <= start < end <= num_frames:
        raise ValueError(f'frame_range must satisfy 0 <= start < end <= '
                         f'{num_frames} (the skeleton\'s frames), got '
                         f'({start}, {end})')
    steps = _pipeline_steps(model, pipeline)
    # The shift goes right before the video is decoded, after sampling.
    decode = [i for i, step in enumerate(steps)
              if isinstance(step, dict) and step.get('type') == 'MMDecode']
    if not decode:
        raise ValueError('frame_range needs a pipeline with an MMDecode '
                         'step (the RGBPoseConv3D test pipeline)')
    steps.insert(decode[0], _ShiftVideoFrames(start))
    return kp[:, start:end], sc[:, start:end], steps


def recognize_rgbpose(model: nn.Module,
                      video: str,
                      keypoints: np.ndarray,
                      scores: Optional[np.ndarray],
                      img_shape: Optional[Sequence[int]] = None,
                      fusion_weights: Sequence[float] = (1., 1.),
                      pipeline: Optional[Sequence[dict]] = None,
                      frame_range: Optional[Sequence[int]] = None) -> dict:
    """Classify a video and its skeletons with RGBPoseConv3D.

    The config's multi-modal test pipeline samples RGB and pose frames,
    decodes only the sampled video frames and renders the pose heatmaps;
    the two streams' class scores are fused by a weighted mean (1:1 is the
    recipe's reported ``RGBPose_1:1``).

    Args:
        model (nn.Module): An ``MMRecognizer3D`` + ``RGBPoseConv3D`` from
            :func:`init_model`.
        video (str): Path of the video the keypoints were extracted from.
        keypoints (np.ndarray): ``(M, T, V, 2)`` pixel coordinates; ``T``
            should be the video's frame count (a shorter video is padded
            with its last frame, with a logged warning).
        scores (np.ndarray, optional): ``(M, T, V)`` joint scores.
        img_shape (Sequence[int], optional): ``(h, w)`` the keypoints refer
            to; read from the video when None.
        fusion_weights (Sequence[float]): ``(rgb, pose)`` weights. Defaults
            to ``(1, 1)``.
        pipeline (list[dict], optional): Overrides the test pipeline.
        frame_range (Sequence[int], optional): ``(start, end)``: classify
            only frames ``start <= t < end`` of the video and of the
            skeleton (``keypoints`` still cover the whole video). The whole
            clip when None.

    Returns:
        dict: ``label`` (int, the top class of the fused scores),
        ``score`` (float, its fused score), ``scores`` ``(C,)`` float32
        (the fused class scores), ``rgb_scores`` and ``pose_scores``
        ``(C,)`` float32 (each stream's class scores; probabilities with
        ``average_clips='prob'``).

    Example:
        >>> out = recognize_rgbpose(model, 'clip.mp4', keypoint, score
        ...                         )  # doctest: +SKIP
        >>> out['rgb_scores'].shape, out['pose_scores'].shape  # doctest: +SKIP
        ((60,), (60,))
        >>> window = recognize_rgbpose(model, 'clip.mp4', keypoint, score,
        ...                            frame_range=(0, 48))  # doctest: +SKIP

    Raises:
        FileNotFoundError: The video does not exist.
        ValueError: Bad shapes, a bad ``frame_range``, or the video cannot
            be decoded.
    """
    path = str(video)
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file {path!r} does not exist')
    kp, sc = _check_skeleton(keypoints, scores)
    if img_shape is None:
        img_shape, _ = _video_shape_and_length(path)
    if len(fusion_weights) != 2 or min(fusion_weights) < 0 or \
            sum(fusion_weights) <= 0:
        raise ValueError('fusion_weights must be two non-negative numbers '
                         f'with a positive sum, got {fusion_weights}')
    if frame_range is not None:
        kp, sc, pipeline = _select_frames(model, kp, sc, frame_range,
                                          pipeline)
    name = osp.splitext(osp.basename(path))[0]
    sample = _skeleton_sample(kp, sc, img_shape, name, filename=path)
    out = _classify(model, sample, pipeline)
    preds = out.get('pred_scores')
    if preds is None or 'rgb' not in preds or 'pose' not in preds:
        raise ValueError(
            f'{type(model).__name__} returned no per-stream `pred_scores`; '
            'recognize_rgbpose needs an RGBPoseConv3D recogniser')
    rgb, pose = _to_numpy(preds.rgb), _to_numpy(preds.pose)
    w_rgb, w_pose = (float(v) for v in fusion_weights)
    fused = (w_rgb * rgb + w_pose * pose) / (w_rgb + w_pose)
    result = _top(fused)
    result.update(rgb_scores=rgb, pose_scores=pose)
    return result
