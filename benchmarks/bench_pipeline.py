"""Whole training pipelines, samples/s: ours vs mmaction2 1.1.0's stock one.

Cases (each pipeline turns an annotation dict, as a dataset hands it out,
into the packed inputs the model takes):

* ``posec3d-kp``: UniformSampleFrames(48) -> PoseDecode -> PoseCompact ->
  Resize(-1, 64) -> RandomResizedCrop -> Resize(56, 56) -> Flip ->
  GeneratePoseTarget(sigma 0.6) -> FormatShape(NCTHW_Heatmap) ->
  PackActionInputs, on synthetic NTU-like skeletons (1920x1080, 60-200
  frames, one or two persons).
* ``rgbpose-320x240``: the RGBPoseConv3D recipe (MMUniformSampleFrames
  RGB 8 / Pose 32 -> MMDecode -> MMCompact -> Resize 256 ->
  RandomResizedCrop -> Resize 224 -> Flip -> GeneratePoseTarget(sigma 0.7,
  scaling 0.25) -> FormatShape(NCTHW) -> PackActionInputs) on a generated
  320x240 MPEG-4 video of 100 frames with two synthetic persons.
* ``rgbpose-ntu-1080p``: the same recipe on the real NTU clip and its
  skeleton pickle under ``../shared/data/ntu`` (skipped when absent).

"ours" uses mmpose_plus's transforms where it has them (frame sampling,
decoding, compaction, Flip, GeneratePoseTarget) and mmaction2's elsewhere
(Resize, RandomResizedCrop, FormatShape, PackActionInputs); "reference" is
mmaction2's stock pipeline, with ``np.Inf = np.inf`` set for its
PoseCompact/MMCompact (numpy 2 removed it). A third variant, "ours,
keypoints shipped", ends with PackPoseKeypoints: the heatmaps are then
rendered by HeatmapDataPreprocessor on the model's device, outside the
data pipeline, so that row is not like for like with the other two.

Both pipelines see the same annotations with the same random seed per
sample; they run in alternating rounds (order flipped every round) of
``--block`` samples each. Reported: median ms/sample (wall and process CPU
time), the p10-p90 spread, samples/s from the median, and the ratio of the
medians.

Usage::

    python benchmarks/bench_pipeline.py [--rounds 6] [--markdown]
"""
import argparse
import os.path as osp
import pickle
import random
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmengine.dataset import Compose

from mmpose_plus.registry import TRANSFORMS

LEFT_KP = [1, 3, 5, 7, 9, 11, 13, 15]
RIGHT_KP = [2, 4, 6, 8, 10, 12, 14, 16]
SHARED_NTU = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'
SHARED_NTU = SHARED_NTU / 'ntu'

POSEC3D = [
    dict(type='UniformSampleFrames', clip_len=48),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP),
    dict(type='GeneratePoseTarget',
         sigma=0.6,
         use_score=True,
         with_kp=True,
         with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs'),
]
RGBPOSE = [
    dict(type='MMUniformSampleFrames',
         clip_len=dict(RGB=8, Pose=32),
         num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP),
    dict(type='GeneratePoseTarget',
         sigma=0.7,
         use_score=True,
         with_kp=True,
         with_limb=False,
         scaling=0.25),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs')),
]

# The same pipelines ending with keypoint packets instead of heatmaps.
POSEC3D_KEYPOINTS = POSEC3D[:-3] + [dict(type='PackPoseKeypoints')]
RGBPOSE_KEYPOINTS = RGBPOSE[:-3] + [
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackPoseKeypoints', collect_keys=('imgs', 'heatmap_imgs')),
]

# COCO-17 joints of a standing person in a unit box (x, y).
_TEMPLATE = np.array([(0.50, 0.10), (0.53, 0.08), (0.47, 0.08), (0.56, 0.10),
                      (0.44, 0.10), (0.62, 0.25), (0.38, 0.25), (0.68, 0.42),
                      (0.32, 0.42), (0.70, 0.57), (0.30, 0.57), (0.57, 0.58),
                      (0.43, 0.58), (0.58, 0.78), (0.42, 0.78), (0.58, 0.97),
                      (0.42, 0.97)], np.float32)


def synthetic_annotation(rng, num_frames: int, num_person: int, img_hw: tuple,
                         name: str) -> Dict:
    """NTU-like skeletons: persons 60% of the frame tall, walking slowly."""
    h, w = img_hw
    kp = np.zeros((num_person, num_frames, 17, 2), np.float32)
    for m in range(num_person):
        start = np.array([w * (0.35 + 0.3 * m), h * 0.55])
        drift = rng.normal(0, w * 0.001, 2)
        centre = start + drift * np.arange(num_frames)[:, None]
        kp[m] = (_TEMPLATE - 0.5) * (0.6 * h) + centre[:, None]
        kp[m] += rng.normal(0, 0.005 * h, (num_frames, 17, 2))
    score = rng.uniform(0.3, 1.0, (num_person, num_frames, 17))
    return dict(frame_dir=name,
                label=int(rng.integers(60)),
                img_shape=img_hw,
                original_shape=img_hw,
                total_frames=num_frames,
                keypoint=kp,
                keypoint_score=score.astype(np.float32),
                start_index=0,
                modality='Pose')


def write_video(path: str, num_frames: int, img_hw: tuple) -> None:
    """A 30 fps MPEG-4 video of moving shapes (OpenCV's encoder)."""
    import cv2
    h, w = img_hw
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30, (w, h))
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    for i in range(num_frames):
        frame = background.copy()
        cv2.circle(frame, (int(w * 0.3 + i), h // 2), h // 6, (0, 0, 255), -1)
        cv2.rectangle(frame, (int(w * 0.6 - i // 2), h // 3),
                      (int(w * 0.6 - i // 2) + w // 8, 2 * h // 3),
                      (255, 0, 0), -1)
        writer.write(frame)
    writer.release()


@contextmanager
def numpy_inf():
    """mmaction2's PoseCompact/MMCompact still use np.Inf (numpy < 2)."""
    had = hasattr(np, 'Inf')
    old = getattr(np, 'Inf', None)
    np.Inf = np.inf
    try:
        yield
    finally:
        if had:
            np.Inf = old
        else:
            del np.Inf


def build(registry, steps: List[dict]) -> Compose:
    return Compose([registry.build(dict(step)) for step in steps])


def _time(fn: Callable) -> tuple:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def run_case(name: str, annotations: List[Dict], steps: List[dict],
             keypoint_steps: List[dict], rounds: int, block: int) -> Dict:
    pipes = dict(reference=build(MMACTION_TRANSFORMS, steps),
                 ours=build(TRANSFORMS, steps),
                 ours_keypoints=build(TRANSFORMS, keypoint_steps))
    counter = dict.fromkeys(pipes, 0)

    def one(pipe_name: str) -> Callable:

        def call():
            i = counter[pipe_name]
            counter[pipe_name] += 1
            ann = annotations[i % len(annotations)]
            np.random.seed(i)
            random.seed(i)
            out = pipes[pipe_name](dict(ann))
            assert out is not None

        return call

    names = list(pipes)
    times = {n: [] for n in names}
    with numpy_inf():
        for n in names:
            one(n)()  # warm-up: imports, decoder start
        for n in names:
            counter[n] = 0
        for r in range(rounds):
            for n in (names if r % 2 == 0 else names[::-1]):
                call = one(n)
                times[n] += [_time(call) for _ in range(block)]
    return dict(case=name, times={n: np.array(t) for n, t in times.items()})


def _fmt(t: np.ndarray) -> str:
    ms = t * 1e3
    return (f'{np.median(ms):.1f} ms [{np.percentile(ms, 10):.1f}-'
            f'{np.percentile(ms, 90):.1f}] = {1e3 / np.median(ms):.1f}/s')


def report(rows: List[Dict], markdown: bool) -> None:
    if markdown:
        print('| case | pipeline | wall ms/sample [p10-p90] = samples/s | '
              'CPU ms/sample | speed-up wall | speed-up CPU |')
        print('|---|---|---|---|---|---|')
    for row in rows:
        t = row['times']
        ref_w = np.median(t['reference'][:, 0])
        ref_c = np.median(t['reference'][:, 1])
        for name in ('reference', 'ours', 'ours_keypoints'):
            wall, cpu = t[name][:, 0], t[name][:, 1]
            up_w = ref_w / np.median(wall)
            up_c = ref_c / np.median(cpu)
            label = dict(reference='mmaction2 1.1.0',
                         ours='mmpose_plus',
                         ours_keypoints='mmpose_plus, keypoints shipped '
                         '(heatmaps on the device)')[name]
            if markdown:
                print(f"| {row['case']} | {label} | {_fmt(wall)} | "
                      f'{np.median(cpu) * 1e3:.1f} | {up_w:.1f}x | '
                      f'{up_c:.1f}x |')
            else:
                print(f"{row['case']:<18} {label:<60} wall {_fmt(wall)}  "
                      f'cpu {np.median(cpu) * 1e3:.1f} ms  x{up_w:.1f} wall'
                      f' x{up_c:.1f} cpu')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=6)
    parser.add_argument(
        '--cases',
        nargs='+',
        default=['posec3d-kp', 'rgbpose-320x240', 'rgbpose-ntu-1080p'])
    parser.add_argument('--markdown', action='store_true')
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    if 'posec3d-kp' in args.cases:
        anns = [
            synthetic_annotation(rng, int(rng.integers(60, 200)),
                                 int(rng.integers(1, 3)), (1080, 1920),
                                 f'synthetic_{i}') for i in range(20)
        ]
        rows.append(
            run_case('posec3d-kp', anns, POSEC3D, POSEC3D_KEYPOINTS,
                     args.rounds, 10))
    with tempfile.TemporaryDirectory() as tmp:
        if 'rgbpose-320x240' in args.cases:
            video = osp.join(tmp, 'synthetic_320x240.mp4')
            write_video(video, 100, (240, 320))
            ann = synthetic_annotation(rng, 100, 2, (240, 320),
                                       'synthetic_320x240')
            ann['filename'] = video
            rows.append(
                run_case('rgbpose-320x240', [ann], RGBPOSE, RGBPOSE_KEYPOINTS,
                         args.rounds, 6))
    if 'rgbpose-ntu-1080p' in args.cases:
        pkl = SHARED_NTU / 'ntu60_S001C001P001R001A001_mediapipe_coco17.pkl'
        video = SHARED_NTU / 'S001C001P001R001A001_rgb.avi'
        if pkl.exists() and video.exists():
            with open(pkl, 'rb') as f:
                ann = dict(pickle.load(f)['annotations'][0])
            ann.update(filename=str(video), modality='Pose', start_index=0)
            rows.append(
                run_case('rgbpose-ntu-1080p', [ann], RGBPOSE,
                         RGBPOSE_KEYPOINTS, max(2, args.rounds // 2), 3))
        else:
            print('shared NTU clip not found: rgbpose-ntu-1080p skipped')
    report(rows, args.markdown)


if __name__ == '__main__':
    main()
