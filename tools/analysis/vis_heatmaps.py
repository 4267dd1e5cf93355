"""Render the heatmap volume (keypoint or limb maps) of one skeleton sample
as a PNG grid: one row per channel (plus a first row with all channels
merged), one column per frame.

Usage::

    # What the model sees: the config's pipeline on one dataset sample
    python tools/analysis/vis_heatmaps.py CONFIG --index 0 --out out.png \\
        [--split train|val|test]

    # An annotation file directly, rendered with GeneratePoseTarget
    python tools/analysis/vis_heatmaps.py --pickle ANN.pkl --frame-dir NAME \\
        --out out.png [--maps kp|limb|both] [--sigma 0.6] [--size 56]

Common options: ``--max-frames`` (columns, spread evenly over the clip),
``--channels 0,5,9`` (rows), ``--scale`` (image pixels per heatmap pixel),
``--normalize global|cell|none``, ``--no-summary``.

With a config, the split's dataset and pipeline are built and the pipeline
runs up to and including ``GeneratePoseTarget`` (random augmentations of a
training pipeline included, so ``--split train`` shows one random draw;
``test`` is deterministic). A pipeline that ends with ``PackPoseKeypoints``
is rendered with the settings of the model's ``HeatmapDataPreprocessor``.
For RGBPose pipelines the pose modality (``heatmap_imgs``) is shown.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

import mmpose_plus  # noqa: F401  (registers our modules before building)
from mmpose_plus.engine.checks import UserInputError
from mmpose_plus.visualization import (even_frame_indices,
                                       heatmap_volume_grid,
                                       pose_channel_names)

_STOP_BEFORE = ('FormatShape', 'PackActionInputs', 'PackPoseInputs')
_PREPROCESSOR_ARGS = ('sigma', 'use_score', 'with_kp', 'with_limb',
                      'skeletons', 'double', 'left_kp', 'right_kp',
                      'left_limb', 'right_limb', 'scaling')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render a heatmap volume of a skeleton sample as a PNG '
        'grid (rows: channels, columns: frames).')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--index', type=int, default=0, help='sample index in the split')
    parser.add_argument(
        '--split',
        default='test',
        choices=('train', 'val', 'test'),
        help='whose dataloader (dataset + pipeline) to use; default test')
    parser.add_argument('--pickle', help='annotation file (instead of CONFIG)')
    parser.add_argument(
        '--frame-dir', help='with --pickle: the sample to render')
    parser.add_argument(
        '--maps',
        default='kp',
        choices=('kp', 'limb', 'both'),
        help='with --pickle: keypoint maps, limb maps or both (default kp)')
    parser.add_argument(
        '--sigma', type=float, default=0.6, help='with --pickle (0.6)')
    parser.add_argument(
        '--size',
        type=int,
        default=56,
        help='with --pickle: longer heatmap side in pixels (56)')
    parser.add_argument(
        '--no-compact',
        action='store_true',
        help='with --pickle: keep the whole frame instead of cropping to '
        'the people (PoseCompact)')
    parser.add_argument(
        '--max-frames', type=int, default=8, help='columns (default 8)')
    parser.add_argument(
        '--channels', help='comma-separated channel indices (default all)')
    parser.add_argument(
        '--scale', type=int, help='image pixels per heatmap pixel')
    parser.add_argument(
        '--normalize',
        default='global',
        choices=('global', 'cell', 'none'),
        help='colour scale: shown maximum (default), per cell, or [0, 1]')
    parser.add_argument(
        '--no-summary',
        action='store_true',
        help='omit the first row (maximum over all channels)')
    args = parser.parse_args(argv)
    if (args.config is None) == (args.pickle is None):
        parser.error('give either CONFIG or --pickle ANN --frame-dir NAME')
    if args.pickle and not args.frame_dir:
        parser.error('--pickle needs --frame-dir')
    return args


def _type_name(step) -> str:
    name = step.get('type', '') if isinstance(step, dict) else type(
        step).__name__
    return name if isinstance(name, str) else getattr(name, '__name__', '')


def _leaf_dataset_cfg(cfg: dict) -> dict:
    while isinstance(cfg, dict) and 'dataset' in cfg:
        cfg = cfg['dataset']
    return cfg


def _frame_labels(results: Dict, num_frames: int) -> List[str]:
    """``f{video frame}`` labels when the sampled indices are known."""
    inds = results.get('frame_inds')
    if inds is None:
        return [f't={i}' for i in range(num_frames)]
    inds = np.ravel(inds)
    if inds.size == num_frames:
        return [f'f{int(i)}' for i in inds]
    if 2 * inds.size == num_frames:  # GeneratePoseTarget(double=True)
        return [f'f{int(i)}' for i in inds] + [f'f{int(i)} flip'
                                               for i in inds]
    return [f't={i}' for i in range(num_frames)]


def _target_from_preprocessor(cfg) -> dict:
    preproc = dict(cfg.model.get('data_preprocessor') or {})
    target = dict(type='GeneratePoseTarget')
    target.update({k: preproc[k] for k in _PREPROCESSOR_ARGS if k in preproc})
    return target


def volume_from_config(config: str, split: str, index: int
                       ) -> Tuple[np.ndarray, Dict, dict, str]:
    """Run the split's pipeline on one sample up to the heatmaps.

    Returns:
        tuple: volume ``(T, C, H, W)``, the results dict, the
        GeneratePoseTarget config used, and a description of the sample.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose_plus.registry import DATASETS, TRANSFORMS
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file "{config}" does not exist')
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose_plus'))
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError(f'{config} has no {split}_dataloader.dataset')
    ds_cfg = copy.deepcopy(_leaf_dataset_cfg(loader['dataset'].to_dict()))
    pipeline = ds_cfg.get('pipeline') or []
    ds_cfg['pipeline'] = []
    dataset = DATASETS.build(ds_cfg)
    if not -len(dataset) <= index < len(dataset):
        raise IndexError(f'--index {index} is outside the {split} split of '
                         f'{len(dataset)} samples')
    results = copy.deepcopy(dataset.get_data_info(index % len(dataset)))
    name = str(results.get('frame_dir', f'sample {index}'))

    target_cfg = None
    for step in pipeline:
        kind = _type_name(step).split('.')[-1]
        if kind == 'PackPoseKeypoints':
            step = _target_from_preprocessor(cfg)
            kind = 'GeneratePoseTarget'
        elif kind in _STOP_BEFORE:
            break
        transform = TRANSFORMS.build(step) if isinstance(step, dict) \
            else step
        results = transform(results)
        if results is None:
            raise UserInputError(f'{name}: transform {kind} dropped the '
                                 'sample')
        if kind == 'GeneratePoseTarget':
            target_cfg = dict(step) if isinstance(step, dict) else {}
            break
    if target_cfg is None:
        raise UserInputError(
            f'the {split} pipeline of {config} renders no heatmaps (no '
            'GeneratePoseTarget or PackPoseKeypoints before FormatShape); '
            'use --pickle ANN --frame-dir NAME instead')
    key = 'heatmap_imgs' if 'heatmap_imgs' in results else 'imgs'
    volume = np.asarray(results[key])
    label = results.get('label')
    desc = f'{name} label {label} ({split} #{index})'
    return volume, results, target_cfg, desc


def volume_from_pickle(ann_file: str, frame_dir: str, maps: str,
                       sigma: float, size: int, compact: bool, frames: int
                       ) -> Tuple[np.ndarray, Dict, dict, str]:
    """Render ``max_frames`` frames of one annotation with
    GeneratePoseTarget (after PoseCompact unless ``compact`` is False)."""
    from mmpose_plus.datasets import PoseDataset
    from mmpose_plus.datasets.transforms import (GeneratePoseTarget,
                                                 PoseCompact)
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file "{ann_file}" does not '
                                'exist')
    if size < 4:
        raise ValueError(f'--size must be at least 4, got {size}')
    dataset = PoseDataset(ann_file, pipeline=[], check_videos=False)
    results, names = None, []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if str(info.get('frame_dir')) == frame_dir:
            results = copy.deepcopy(info)
            break
        if len(names) < 5:
            names.append(str(info.get('frame_dir')))
    if results is None:
        raise KeyError(f'{ann_file} has no sample with frame_dir '
                       f'{frame_dir!r} (e.g. {names})')
    num_frames = results['keypoint'].shape[1]
    inds = np.asarray(even_frame_indices(num_frames, frames))
    results['keypoint'] = results['keypoint'][:, inds]
    if results.get('keypoint_score') is not None:
        results['keypoint_score'] = results['keypoint_score'][:, inds]
    results['frame_inds'] = inds
    if compact:
        results = PoseCompact(hw_ratio=1., allow_imgpad=True)(results)
    scaling = size / max(results['img_shape'])
    target_cfg = dict(
        sigma=sigma,
        with_kp=maps in ('kp', 'both'),
        with_limb=maps in ('limb', 'both'),
        scaling=scaling)
    results = GeneratePoseTarget(**target_cfg)(results)
    desc = f'{frame_dir} label {results.get("label")}'
    return np.asarray(results['imgs']), results, target_cfg, desc


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.pickle:
            volume, results, target, desc = volume_from_pickle(
                args.pickle, args.frame_dir, args.maps, args.sigma,
                args.size, not args.no_compact, args.max_frames)
        else:
            volume, results, target, desc = volume_from_config(
                args.config, args.split, args.index)
        num_t, num_c = volume.shape[:2]
        channels = None
        if args.channels:
            channels = [int(c) for c in args.channels.split(',') if c]
        names = pose_channel_names(
            num_c,
            with_kp=target.get('with_kp', True),
            with_limb=target.get('with_limb', False),
            skeleton=target.get('skeletons'))
        title = (f'{desc}: {num_c} ch x {num_t} frames, '
                 f'{volume.shape[2]}x{volume.shape[3]}, '
                 f'max {float(volume.max()):.2f}')
        image = heatmap_volume_grid(
            volume,
            order='TCHW',
            channels=channels,
            max_frames=args.max_frames,
            channel_names=names,
            frame_labels=_frame_labels(results, num_t),
            summary_row=not args.no_summary,
            scale=args.scale,
            normalize=args.normalize,
            title=title)
    except (FileNotFoundError, KeyError, IndexError, ValueError,
            UserInputError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    if not cv2.imwrite(args.out, image):
        print(f'error: could not write {args.out} (use a .png name)',
              file=sys.stderr)
        return 1
    print(f'wrote {args.out} ({image.shape[1]}x{image.shape[0]}): {title}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
