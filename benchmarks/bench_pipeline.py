"""Whole training pipelines, samples/s: ours vs mmaction2 1.1.0's stock one.

Cases (each pipeline turns an annotation dict, as a dataset hands it out,
into the packed inputs the model takes):

* ``posec3d-kp``: the ``train_pipeline`` of
  ``configs/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py``
  (48 sampled frames, heatmaps at 56x56, sigma 0.6), on synthetic NTU-like
  skeletons (1920x1080, 60-200 frames, one or two persons).
* ``rgbpose-320x240``: the ``train_pipeline`` of ``configs/rgbpose_conv3d/``
  ``rgbposeconv3d_r50_8xb6-20e_ntu60-xsub-rgbpose.py`` (8 RGB frames at
  224x224 with 32 heatmap frames at a quarter of the size), on a generated
  320x240 MPEG-4 video of 100 frames with two synthetic persons.
* ``rgbpose-ntu-1080p``: the same recipe on the real NTU clip and its
  skeleton pickle under ``../shared/data/ntu`` (skipped when absent).
* ``rgbpose-ntu-540p-copy``: the same clip after
  ``tools/data/prepare_videos.py`` (960x540, a key frame every 4 frames).
  Ours reads it with the original annotation (MMDecode rescales the
  keypoints); mmaction2's MMDecode does not rescale, so the reference gets
  an annotation rescaled by hand. A last line compares ours on the copy with
  the reference on the original, the two set-ups a user actually runs.

"ours" uses mmpose_plus's transforms where it has them (frame sampling,
decoding, compaction, Flip, GeneratePoseTarget) and mmaction2's elsewhere
(Resize, RandomResizedCrop, FormatShape, PackActionInputs); "reference" is
the same list of steps built from mmaction2's registry, with
``np.Inf = np.inf`` set for its PoseCompact/MMCompact (numpy 2 removed it).
A third variant, "ours, keypoints shipped", ends with PackPoseKeypoints:
the heatmaps are then rendered by HeatmapDataPreprocessor on the model's
device, outside the data pipeline, so that row is not like for like with
the other two.

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
from typing import Callable, Dict, List, Optional

import numpy as np
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmengine.config import Config
from mmengine.dataset import Compose

from mmpose_plus.datasets.prepare_videos import reencode_video
from mmpose_plus.registry import TRANSFORMS

REPO = Path(__file__).resolve().parents[1]
SHARED_NTU = REPO / '..' / 'shared' / 'data' / 'ntu'

# The training recipes are read from the project's own configs, so the
# benchmark always times the pipelines that training actually runs.
RECIPES = dict(
    posec3d=REPO / 'configs' / 'posec3d' /
    'slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py',
    rgbpose=REPO / 'configs' / 'rgbpose_conv3d' /
    'rgbposeconv3d_r50_8xb6-20e_ntu60-xsub-rgbpose.py')


def train_pipeline(recipe: str) -> List[dict]:
    """``train_pipeline`` of one of :data:`RECIPES` as plain dicts."""
    cfg = Config.fromfile(str(RECIPES[recipe]))
    return [dict(step) for step in cfg.train_pipeline]


def keypoint_variant(steps: List[dict]) -> List[dict]:
    """The same pipeline shipping keypoints instead of heatmaps.

    GeneratePoseTarget goes (the heatmaps are rendered on the device), so
    does a FormatShape that only arranges heatmaps, and PackActionInputs
    becomes PackPoseKeypoints with the same arguments.
    """
    out = []
    for step in steps:
        kind = step['type']
        if kind == 'GeneratePoseTarget' or (
                kind == 'FormatShape'
                and step.get('input_format') == 'NCTHW_Heatmap'):
            continue
        if kind == 'PackActionInputs':
            step = dict(step, type='PackPoseKeypoints')
        out.append(step)
    return out


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


def run_case(name: str,
             annotations: List[Dict],
             steps: List[dict],
             keypoint_steps: List[dict],
             rounds: int,
             block: int,
             ref_annotations: Optional[List[Dict]] = None) -> Dict:
    pipes = dict(reference=build(MMACTION_TRANSFORMS, steps),
                 ours=build(TRANSFORMS, steps),
                 ours_keypoints=build(TRANSFORMS, keypoint_steps))
    counter = dict.fromkeys(pipes, 0)

    def one(pipe_name: str) -> Callable:

        def call():
            i = counter[pipe_name]
            counter[pipe_name] += 1
            anns = (ref_annotations if pipe_name == 'reference'
                    and ref_annotations is not None else annotations)
            ann = anns[i % len(anns)]
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
        default=[
            'posec3d-kp', 'rgbpose-320x240', 'rgbpose-ntu-1080p',
            'rgbpose-ntu-540p-copy'
        ])
    parser.add_argument('--markdown', action='store_true')
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    rgbpose = train_pipeline('rgbpose')
    tmp_dir = tempfile.TemporaryDirectory()
    tmp = tmp_dir.name
    if 'posec3d-kp' in args.cases:
        anns = [
            synthetic_annotation(rng, int(rng.integers(60, 200)),
                                 int(rng.integers(1, 3)), (1080, 1920),
                                 f'synthetic_{i}') for i in range(20)
        ]
        steps = train_pipeline('posec3d')
        rows.append(
            run_case('posec3d-kp', anns, steps, keypoint_variant(steps),
                     args.rounds, 10))
    if 'rgbpose-320x240' in args.cases:
        video = osp.join(tmp, 'synthetic_320x240.mp4')
        write_video(video, 100, (240, 320))
        ann = synthetic_annotation(rng, 100, 2, (240, 320),
                                   'synthetic_320x240')
        ann['filename'] = video
        rows.append(
            run_case('rgbpose-320x240', [ann], rgbpose,
                     keypoint_variant(rgbpose), args.rounds, 6))
    pkl = SHARED_NTU / 'ntu60_S001C001P001R001A001_mediapipe_coco17.pkl'
    video = SHARED_NTU / 'S001C001P001R001A001_rgb.avi'
    ntu = pkl.exists() and video.exists()
    if not ntu:
        print('shared NTU clip not found: the NTU cases are skipped')
    else:
        with open(pkl, 'rb') as f:
            ann = dict(pickle.load(f)['annotations'][0])
        ann.update(filename=str(video), modality='Pose', start_index=0)
        copy = osp.join(tmp, ann['frame_dir'] + '.mp4')
        info = reencode_video(str(video), copy, short_side=540,
                              key_interval=4)
    if ntu and 'rgbpose-ntu-1080p' in args.cases:
        rows.append(
            run_case('rgbpose-ntu-1080p', [ann], rgbpose,
                     keypoint_variant(rgbpose), max(2, args.rounds // 2), 3))
    if ntu and 'rgbpose-ntu-540p-copy' in args.cases:
        (h, w), (h0, w0) = info['dst_shape'], info['src_shape']
        ref_ann = dict(ann,
                       filename=copy,
                       keypoint=ann['keypoint'] *
                       np.array([w / w0, h / h0], np.float32),
                       img_shape=(h, w),
                       original_shape=(h, w))
        rows.append(
            run_case('rgbpose-ntu-540p-copy', [dict(ann, filename=copy)],
                     rgbpose, keypoint_variant(rgbpose), args.rounds, 6,
                     ref_annotations=[ref_ann]))
    report(rows, args.markdown)
    by_case = {row['case']: row['times'] for row in rows}
    if {'rgbpose-ntu-1080p', 'rgbpose-ntu-540p-copy'} <= set(by_case):
        ref = np.median(by_case['rgbpose-ntu-1080p']['reference'][:, 0])
        for name in ('ours', 'ours_keypoints'):
            ours = np.median(by_case['rgbpose-ntu-540p-copy'][name][:, 0])
            print(f'workflow: mmaction2 on the 1080p original '
                  f'{ref * 1e3:.1f} ms vs {name} on the 540p copy '
                  f'{ours * 1e3:.1f} ms: x{ref / ours:.1f} wall')
    tmp_dir.cleanup()


if __name__ == '__main__':
    main()
