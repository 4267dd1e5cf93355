"""Video in, annotated video and action predictions out.

Estimates every person's pose in every frame (bottom-up HigherHRNet by
default: no detector), tracks the people, recognises the action of the
whole clip with a skeleton model (PoseC3D) or with RGBPoseConv3D (video +
skeletons), then writes

* OUT: the video with the skeletons drawn (joint colour = person track)
  and the top-k action labels in the corner, frame for frame;
* OUT's name with ``.json``: the predictions (top-k labels and scores, all
  class scores), the tracked keypoints per frame, and which weights were
  used (every key is described in docs/video_to_action.md).

With ``--window N`` (and ``--stride S``, default ``N // 2``) a long video is
also recognised window by window: frames ``[0, N)``, ``[S, S + N)``, ...,
plus a last window ending at the last frame when the stride does not land
there. Each frame shows the top-k labels of the most recent window (the one
with the largest start) that contains it, and the JSON gets a ``windows``
list; ``predictions`` and ``scores`` stay those of the whole clip.

Examples::

    python tools/demo/demo_video.py clip.mp4 clip_out.mp4 \\
        --pose-checkpoint checkpoints/higherhrnet_w32_coco_512x512.pth \\
        --action-config configs/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py \\
        --action-checkpoint checkpoints/posec3d_ntu60_xsub_keypoint.pth \\
        --label-map label_map_ntu60.txt

    # offline smoke test: untrained tiny models (meaningless output)
    python tools/demo/demo_video.py clip.mp4 out.mp4 \\
        --pose-config configs/pose/tiny/higherhrnet_tiny_tinycoco.py \\
        --action-config configs/tiny/slowonly_tiny_tinyntu-keypoint.py

    # long video: labels of 48-frame windows every 24 frames
    python tools/demo/demo_video.py long.mp4 long_out.mp4 --window 48 \\
        --pose-checkpoint ... --action-checkpoint ... --label-map ...

Without a checkpoint a model runs with untrained weights: the tool says so
on stderr, in the JSON (``"untrained"``) and on the video itself.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import DictAction

DEFAULT_POSE_CONFIG = 'configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py'
DEFAULT_ACTION_CONFIG = (
    'configs/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw skeletons and the recognised action on a video.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('Examples::', 1)[1])
    parser.add_argument('video', help='input video')
    parser.add_argument('out', help='output video (.mp4, written with mp4v)')
    parser.add_argument(
        '--pose-config',
        default=DEFAULT_POSE_CONFIG,
        help='pose estimator config (default: HigherHRNet-W32 512)')
    parser.add_argument('--pose-checkpoint', help='pose estimator weights')
    parser.add_argument(
        '--action-config',
        default=DEFAULT_ACTION_CONFIG,
        help='skeleton recogniser or RGBPoseConv3D config (default: '
        'PoseC3D SlowOnly-R50 NTU60 keypoint)')
    parser.add_argument('--action-checkpoint', help='recogniser weights')
    parser.add_argument(
        '--label-map',
        help='text file, line i = name of class i (e.g. NTU60 names)')
    parser.add_argument(
        '--top-k', type=int, default=3, help='labels shown and saved')
    parser.add_argument(
        '--json', help='predictions file (default: OUT with .json)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--batch-size', type=int,
        help='frames per pose batch (default: 8 on a GPU, 1 on a CPU, where '
        'batching measured no faster)')
    parser.add_argument(
        '--max-persons', type=int, default=2, help='people tracked')
    parser.add_argument(
        '--kpt-thr', type=float, default=0.3, help='joints drawn above it')
    parser.add_argument(
        '--no-flip-test',
        action='store_true',
        help='pose model without the flipped pass (about 2x faster)')
    parser.add_argument(
        '--pose-cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='overrides of the pose config, e.g. '
        'model.test_cfg.pixel_offset=0.5 for official HigherHRNet weights')
    parser.add_argument(
        '--window', type=int,
        help='also recognise windows of this many frames (default: off, '
        'one label for the whole clip)')
    parser.add_argument(
        '--stride', type=int,
        help='frames between window starts (default: window // 2, at least '
        '1; at most --window so that every frame is covered)')
    args = parser.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = 1 if args.device == 'cpu' else 8
    if args.top_k < 1 or args.batch_size < 1 or args.max_persons < 1:
        parser.error('--top-k, --batch-size and --max-persons must be >= 1')
    if args.window is None:
        if args.stride is not None:
            parser.error('--stride needs --window')
    else:
        if args.window < 1:
            parser.error(f'--window must be >= 1 frame, got {args.window}')
        if args.stride is None:
            args.stride = max(1, args.window // 2)
        if args.stride < 1:
            parser.error(f'--stride must be >= 1 frame, got {args.stride}')
        if args.stride > args.window:
            parser.error(f'--stride {args.stride} is longer than --window '
                         f'{args.window}: frames between windows would get '
                         'no label')
    return args


def window_ranges(num_frames: int, window: int,
                  stride: int) -> List[Tuple[int, int]]:
    """Frame ranges ``[start, end)`` of the sliding windows over a video.

    Windows start every ``stride`` frames from 0 while they fit; when the
    last one ends before the video does, one more window ends exactly at
    the last frame, so every window has ``window`` frames and together they
    cover the video. A window longer than the video gives the whole video.

    Args:
        num_frames (int): Frames in the video (>= 1).
        window (int): Frames per window (>= 1).
        stride (int): Frames between window starts, ``1 <= stride <=
            window``.

    Returns:
        list[tuple[int, int]]: ``(start, end)`` pairs, by increasing start.

    Example:
        >>> window_ranges(20, 8, 4)
        [(0, 8), (4, 12), (8, 16), (12, 20)]
        >>> window_ranges(10, 8, 4)
        [(0, 8), (2, 10)]
    """
    if num_frames < 1 or window < 1 or not 1 <= stride <= window:
        raise ValueError('need num_frames >= 1, window >= 1 and 1 <= stride '
                         f'<= window, got {num_frames}, {window}, {stride}')
    if window >= num_frames:
        return [(0, num_frames)]
    ranges = [(s, s + window)
              for s in range(0, num_frames - window + 1, stride)]
    if ranges[-1][1] < num_frames:
        ranges.append((num_frames - window, num_frames))
    return ranges


def frame_windows(num_frames: int,
                  ranges: Sequence[Tuple[int, int]]) -> List[int]:
    """For each frame, the index of the window whose labels it shows: the
    most recent one (largest start) that contains it.

    Args:
        num_frames (int): Frames in the video.
        ranges (Sequence[tuple[int, int]]): ``(start, end)`` by increasing
            start, as :func:`window_ranges` gives.

    Returns:
        list[int]: One window index per frame.

    Example:
        >>> frame_windows(6, [(0, 4), (2, 6)])
        [0, 0, 1, 1, 1, 1]
    """
    shown = [-1] * num_frames
    for i, (start, end) in enumerate(ranges):
        for t in range(start, min(end, num_frames)):
            shown[t] = i  # later windows overwrite earlier ones
    if -1 in shown:
        raise ValueError(f'frame {shown.index(-1)} is in no window')
    return shown


def read_label_map(path: Optional[str], num_classes: int) -> List[str]:
    """Class names from a label map (line i = class i), else ``class i``."""
    if path is None:
        return [f'class {i}' for i in range(num_classes)]
    if not osp.isfile(path):
        raise FileNotFoundError(f'label map {path!r} does not exist')
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if len(names) < num_classes:
        raise ValueError(f'label map {path!r} has {len(names)} names but the '
                         f'recogniser has {num_classes} classes')
    return names[:num_classes]


def _top_k(scores: np.ndarray, names: Sequence[str], k: int) -> List[dict]:
    top = np.argsort(-scores, kind='stable')[:k]
    return [
        dict(label=int(i), name=names[i], score=float(scores[i]))
        for i in top
    ]


def _ascii(text: str) -> str:
    # OpenCV's Hershey fonts draw ASCII only.
    return text.encode('ascii', 'replace').decode('ascii')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import cv2

    from mmpose_plus.apis import (find_config, init_model, is_rgbpose,
                                  recognize_rgbpose, recognize_skeleton,
                                  untrained_banner)
    from mmpose_plus.apis.extraction import (extract_video,
                                             iter_video_frames, video_info)
    from mmpose_plus.visualization import (draw_text_lines,
                                           format_action_lines,
                                           overlay_frame)

    try:
        info = video_info(args.video)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    untrained = [
        name for name, ckpt in (('pose', args.pose_checkpoint),
                                ('action', args.action_checkpoint))
        if not ckpt
    ]
    if untrained:
        print(untrained_banner(untrained), file=sys.stderr)
    pose_options = dict(args.pose_cfg_options)
    if args.no_flip_test:
        pose_options['model.test_cfg.flip_test'] = False
    try:
        pose_model = init_model(find_config(args.pose_config),
                                args.pose_checkpoint, args.device,
                                cfg_options=pose_options)
        action_model = init_model(find_config(args.action_config),
                                  args.action_checkpoint, args.device)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f'error: cannot build a model: {err}', file=sys.stderr)
        return 1

    # Pose estimation and tracking: the same code path as the extraction
    # tool, so the demo shows what a training pickle would hold.
    timings = {}
    start = time.perf_counter()
    try:
        skeleton = extract_video(
            pose_model,
            args.video,
            batch_size=args.batch_size,
            max_persons=args.max_persons)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    timings['pose_s'] = time.perf_counter() - start
    keypoint, score = skeleton['keypoint'], skeleton['keypoint_score']
    num_frames = skeleton['total_frames']
    h, w = skeleton['img_shape']
    # extract_video keeps one all-zero person when nobody is found
    num_persons = len(keypoint) if score.any() else 0

    def recognize(frame_range: Optional[Tuple[int, int]] = None) -> dict:
        if is_rgbpose(action_model):
            return recognize_rgbpose(action_model, args.video, keypoint,
                                     score, (h, w), frame_range=frame_range)
        if frame_range is None:
            return recognize_skeleton(action_model, keypoint, score, (h, w))
        first, last = frame_range
        return recognize_skeleton(action_model, keypoint[:, first:last],
                                  score[:, first:last], (h, w))

    start = time.perf_counter()
    result = recognize()
    ranges, window_scores = [], []
    if args.window is not None:
        if args.window > num_frames:
            print(f'note: --window {args.window} is longer than the video '
                  f'({num_frames} frames): one whole-clip window',
                  file=sys.stderr)
        ranges = window_ranges(num_frames, args.window, args.stride)
        for first, last in ranges:
            if (first, last) == (0, num_frames):
                window_scores.append(result['scores'])  # already computed
            else:
                window_scores.append(recognize((first, last))['scores'])
    timings['action_s'] = time.perf_counter() - start
    scores = result['scores']
    try:
        names = read_label_map(args.label_map, len(scores))
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    predictions = _top_k(scores, names, args.top_k)
    windows = [
        dict(start=first, end=last,
             predictions=_top_k(ws, names, args.top_k))
        for (first, last), ws in zip(ranges, window_scores)
    ]

    def label_lines(preds: Sequence[dict]) -> List[str]:
        lines = format_action_lines([_ascii(p['name']) for p in preds],
                                    [p['score'] for p in preds])
        if untrained:
            lines.append('UNTRAINED ' + '+'.join(untrained) + ' weights')
        return lines

    if windows:
        shown = frame_windows(num_frames, ranges)
        lines_per_window = [label_lines(w['predictions']) for w in windows]
        frame_lines = [lines_per_window[i] for i in shown]
    else:
        frame_lines = [label_lines(predictions)] * num_frames

    start = time.perf_counter()
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fps = info['fps'] if info['fps'] > 0 else 25.
    writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        print(f'error: OpenCV cannot write {args.out} (codec mp4v)',
              file=sys.stderr)
        return 1
    written = 0
    try:
        frames = (f for batch in iter_video_frames(args.video)
                  for f in batch)
        for t, frame in enumerate(frames):
            if t >= num_frames:
                break
            ids = [m for m in range(len(keypoint)) if score[m, t].max() > 0]
            canvas = overlay_frame(frame, keypoint[ids, t], score[ids, t],
                                   kpt_thr=args.kpt_thr, person_ids=ids)
            canvas = draw_text_lines(canvas, frame_lines[t])
            writer.write(canvas)
            written += 1
    finally:
        writer.release()
    timings['render_s'] = time.perf_counter() - start

    json_path = args.json or osp.splitext(args.out)[0] + '.json'
    # keypoints[m][t] = 17 x [x, y, score], zeros where person m is absent;
    # float64 before rounding, or float32 noise comes back in the JSON
    joints = np.concatenate([keypoint, score[..., None]],
                            axis=-1)[:num_persons]
    record = dict(
        video=args.video,
        output=args.out,
        num_frames=num_frames,
        fps=fps,
        img_shape=[h, w],
        untrained=untrained,
        pose_config=args.pose_config,
        pose_checkpoint=args.pose_checkpoint,
        action_config=args.action_config,
        action_checkpoint=args.action_checkpoint,
        predictions=predictions,
        scores=[float(s) for s in scores],
        num_persons=num_persons,
        keypoints=np.round(joints.astype(np.float64), 2).tolist(),
        timings={k: round(v, 3)
                 for k, v in timings.items()})
    for stream in ('rgb_scores', 'pose_scores'):
        if stream in result:
            record[stream] = [float(s) for s in result[stream]]
    if args.window is not None:
        record['windows'] = windows
    with open(json_path, 'w') as f:
        json.dump(record, f, indent=1)
    best = record['predictions'][0]
    print(f'{args.video}: {num_frames} frames, {num_persons} person(s); '
          f'top-1 {best["name"]!r} ({best["score"]:.3f})'
          f'{" [UNTRAINED]" if untrained else ""}')
    print(f'wrote {args.out} ({written} frames) and {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
