"""Video-to-action speed on CPU: skeleton extraction and the end-to-end demo.

Measures frames per second of

* decoding alone (decord, BGR batches, what the tools use);
* skeleton extraction (:func:`mmpose_plus.apis.extraction.extract_video`:
  decode + bottom-up pose estimation + tracking) with the frames batched
  (``--batch-size``, default 8) and one frame per forward pass, side by side
  with the ratio, for the tiny HigherHRNet config (128 input) and
  HigherHRNet-W32 (512 input, the default of the tools), both with the
  recipe's flip test;
* the end-to-end demo (``tools/demo/demo_video.py`` with its defaults,
  i.e. batch 1 on a CPU: building both models,
  pose estimation, tracking, recognition, drawing and writing the video)
  with tiny models and with W32 + PoseC3D SlowOnly-R50 (NTU60 keypoint
  recipe: 10 clips x 48 frames at test time).

All weights are untrained (no checkpoints are downloaded): the speed is the
same as with trained weights, except that bottom-up grouping sees different
heatmaps (trained models usually find fewer candidate joints, so grouping
gets cheaper), and the skeletons are meaningless.

Input: the real NTU clip of ``../shared/data/ntu`` (103 frames, 1920x1080)
when present, else a generated stick-figure video (48 frames, 256x256). The
W32 runs use the first ``--w32-frames`` frames only (W32 needs seconds per
1080p frame on a CPU). Variants are interleaved and medians reported.

Usage::

    python benchmarks/bench_video.py [--repeats 3] [--w32-frames 4]
        [--threads N] [--video PATH]
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings
from typing import Callable, Dict, List

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NTU_CLIP = osp.join(REPO, '..', 'shared', 'data', 'ntu',
                    'S001C001P001R001A001_rgb.avi')
TINY_POSE = 'configs/pose/tiny/higherhrnet_tiny_tinycoco.py'
W32_POSE = 'configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py'
TINY_ACTION = 'configs/tiny/slowonly_tiny_tinyntu-keypoint.py'
POSEC3D = 'configs/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--video', help='input video (default: NTU clip)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--w32-frames',
        type=int,
        default=4,
        help='frames of the clip used for the W32 runs')
    parser.add_argument('--w32-repeats', type=int, default=3)
    parser.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='batched variant (compared with batch 1)')
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    parser.add_argument(
        '--skip-w32', action='store_true', help='tiny models only')
    parser.add_argument(
        '--skip-tiny', action='store_true', help='W32 models only')
    return parser.parse_args()


def _source_video(args, tmp: str) -> str:
    if args.video:
        return args.video
    if osp.isfile(NTU_CLIP):
        return NTU_CLIP
    from mmpose_plus.datasets.tiny_dataset import generate_tiny_dataset
    out = osp.join(tmp, 'generated')
    generate_tiny_dataset(out, num_classes=1, videos_per_class=2,
                          val_per_class=1, img_size=256, frames=(48, 48))
    videos = sorted(os.listdir(osp.join(out, 'videos')))
    return osp.join(out, 'videos', videos[0])


def _trim(video: str, num_frames: int, out: str) -> str:
    """The first ``num_frames`` frames re-encoded (mp4v) at full size."""
    import cv2

    from mmpose_plus.apis.extraction import iter_video_frames, video_info
    info = video_info(video)
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'),
                             info['fps'] or 25, (info['width'],
                                                 info['height']))
    done = 0
    for batch in iter_video_frames(video, 16):
        for frame in batch:
            if done < num_frames:
                writer.write(frame)
                done += 1
    writer.release()
    return out


def _model(config: str, **options):
    from mmpose_plus.apis import init_model
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return init_model(osp.join(REPO, config), cfg_options=options)


def _demo_main():
    spec = importlib.util.spec_from_file_location(
        'demo_video', osp.join(REPO, 'tools', 'demo', 'demo_video.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _interleaved(variants: Dict[str, Callable[[], None]],
                 repeats: int) -> Dict[str, float]:
    """Median seconds of each variant, runs interleaved (after a warm-up
    run of each)."""
    for fn in variants.values():
        fn()
    times: Dict[str, List[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def _row(cells, widths):
    return '| ' + ' | '.join(str(c).ljust(w) for c, w in zip(cells,
                                                            widths)) + ' |'


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmpose_plus.apis.extraction import (extract_video, iter_video_frames,
                                             video_info)
    demo = _demo_main()
    tmp = tempfile.mkdtemp(prefix='bench_video_')
    video = _source_video(args, tmp)
    info = video_info(video)
    n_all = int(info['num_frames'])
    print(f'video: {osp.basename(video)} {n_all} frames '
          f'{info["width"]}x{info["height"]}; torch threads '
          f'{torch.get_num_threads()}; untrained weights')
    rows = []

    # decoding alone
    def decode():
        for _ in iter_video_frames(video, args.batch_size):
            pass

    t = _interleaved({'decode': decode}, args.repeats)['decode']
    rows.append(('decode (decord, BGR)', '-', n_all, '-', t, n_all / t, ''))

    def extraction(config, clip, frames, repeats, label):
        model = _model(config)
        variants = {
            bs: (lambda bs=bs: extract_video(model, clip, batch_size=bs))
            for bs in (args.batch_size, 1)
        }
        times = _interleaved(variants, repeats)
        base = times[1]
        for bs, sec in times.items():
            rows.append((f'extraction, {label}', bs, frames, 'yes', sec,
                         frames / sec,
                         f'{base / sec:.2f}x' if bs != 1 else '1.00x'))

    def end_to_end(pose, action, clip, frames, label):
        # One cold run, as a user runs it: model building included.
        out = osp.join(tmp, 'demo_out.mp4')
        argv = [clip, out, '--pose-config', pose, '--action-config', action]
        start = time.perf_counter()
        demo(argv)
        sec = time.perf_counter() - start
        with open(osp.join(tmp, 'demo_out.json')) as f:
            parts = json.load(f)['timings']
        split = (f"pose {parts['pose_s']:.1f} s, action "
                 f"{parts['action_s']:.1f} s, video {parts['render_s']:.1f} s")
        rows.append((f'demo end to end, {label} ({split})', 'auto (1)',
                     frames, 'yes', sec, frames / sec, ''))

    import contextlib
    import io
    quiet = contextlib.redirect_stderr(io.StringIO())
    with quiet, contextlib.redirect_stdout(io.StringIO()):
        if not args.skip_tiny:
            extraction(TINY_POSE, video, n_all, args.repeats,
                       'tiny HigherHRNet 128')
            end_to_end(TINY_POSE, TINY_ACTION, video, n_all,
                       'tiny pose + tiny PoseC3D')
        if not args.skip_w32:
            clip = _trim(video, args.w32_frames, osp.join(tmp, 'w32.mp4'))
            frames = min(args.w32_frames, n_all)
            extraction(W32_POSE, clip, frames, args.w32_repeats,
                       'HigherHRNet-W32 512')
            end_to_end(W32_POSE, POSEC3D, clip, frames,
                       'W32 + PoseC3D R50 (10 clips)')

    head = ('run', 'batch', 'frames', 'flip test', 'median s', 'frames/s',
            'vs batch 1')
    cells = [head] + [(r[0], r[1], r[2], r[3], f'{r[4]:.2f}', f'{r[5]:.2f}',
                       r[6]) for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(head))]
    print(_row(head, widths))
    print('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    for c in cells[1:]:
        print(_row(c, widths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
