"""Heatmap volumes: ours vs mmaction2 1.1.0's GeneratePoseTarget, one run.

Cases (2 persons, 17 COCO joints, synthetic but realistic skeletons that
fill the frame as after PoseCompact, scores in [0.3, 1]):

* ``posec3d-kp``   PoseC3D keypoint maps, 48 frames, 56x56, sigma 0.6
* ``posec3d-limb`` PoseC3D limb maps, same clip
* ``rgbpose-pose`` RGBPoseConv3D pose stream, 32 frames, 64x64 (256x256
  images, scaling 0.25), sigma 0.7

For each case the two transforms run in alternating rounds; within a round
each runs ``--block`` calls back to back (the order flips every round), so
slow drifts of a shared machine hit both alike. Per call we record wall
time and process CPU time; the table shows medians, the p10-p90 spread and
the ratio of the medians. Outputs are compared (max |diff|) first.

The batch rows time the pipeline's end up to the batch tensor the model
takes, per sample, for ``--batch`` PoseC3D keypoint clips: mmaction2's
GeneratePoseTarget + FormatShape + PackActionInputs + collate +
ActionDataPreprocessor (reference) against the same with our transform, and
against PackPoseKeypoints + collate + HeatmapDataPreprocessor rendering on
the CPU and, when one is available, on the GPU.

Usage::

    python benchmarks/bench_heatmaps.py [--rounds 12] [--block 5]
        [--batch 16] [--threads 1] [--markdown]
"""
import argparse
import copy
import time
from typing import Callable, Dict, List

import numpy as np
import torch
from mmaction.datasets.transforms import FormatShape, PackActionInputs
from mmaction.datasets.transforms import GeneratePoseTarget as RefTarget
from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmengine.dataset import pseudo_collate

from mmpose_plus.datasets.transforms import (GeneratePoseTarget,
                                             PackPoseKeypoints)
from mmpose_plus.models.data_preprocessors import HeatmapDataPreprocessor

# COCO-17 joints of a standing person in a unit box (x, y).
_TEMPLATE = np.array([(0.50, 0.10), (0.53, 0.08), (0.47, 0.08), (0.56, 0.10),
                      (0.44, 0.10), (0.62, 0.25), (0.38, 0.25), (0.68, 0.42),
                      (0.32, 0.42), (0.70, 0.57), (0.30, 0.57), (0.57, 0.58),
                      (0.43, 0.58), (0.58, 0.78), (0.42, 0.78), (0.58, 0.97),
                      (0.42, 0.97)], np.float32)


def make_sample(num_person: int,
                num_frames: int,
                img_hw: tuple,
                seed: int = 0) -> Dict:
    """Two side-by-side persons, 85% of the image tall, jittering 1 px."""
    rng = np.random.default_rng(seed)
    h, w = img_hw
    kp = np.empty((num_person, num_frames, 17, 2), np.float32)
    for m in range(num_person):
        centre = np.array([w * (m + 1) / (num_person + 1), h / 2])
        kp[m] = (_TEMPLATE - 0.5) * (0.85 * h) + centre
        kp[m] += rng.normal(0, 0.02 * h, (num_frames, 17, 2))
    score = rng.uniform(0.3, 1.0, (num_person, num_frames, 17))
    return dict(keypoint=kp,
                keypoint_score=score.astype(np.float32),
                img_shape=img_hw,
                frame_dir=f'synthetic_{seed}',
                num_clips=1,
                clip_len=num_frames,
                label=0)


CASES = {
    'posec3d-kp': (dict(sigma=0.6), 48, (56, 56)),
    'posec3d-limb': (dict(sigma=0.6, with_kp=False,
                          with_limb=True), 48, (56, 56)),
    'rgbpose-pose': (dict(sigma=0.7, scaling=0.25), 32, (256, 256)),
}


def _time(fn: Callable) -> tuple:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def interleaved(fns: Dict[str, Callable], rounds: int,
                block: int) -> Dict[str, np.ndarray]:
    """Per-call (wall, cpu) seconds of each function, rounds alternating."""
    names = list(fns)
    times = {name: [] for name in names}
    for name in names:  # warm-up, not recorded
        fns[name]()
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name] += [_time(fns[name]) for _ in range(block)]
    return {name: np.array(t) for name, t in times.items()}


def _stats(t: np.ndarray) -> str:
    ms = t * 1e3
    return (f'{np.median(ms):.2f} '
            f'[{np.percentile(ms, 10):.2f}-{np.percentile(ms, 90):.2f}]')


def bench_numpy(rounds: int, block: int) -> List[dict]:
    rows = []
    for name, (cfg, frames, hw) in CASES.items():
        sample = make_sample(2, frames, hw)
        ours, ref = GeneratePoseTarget(**cfg), RefTarget(**cfg)
        a = ours(dict(sample))['imgs']
        b = ref(copy.deepcopy(sample))['imgs']
        diff = float(np.abs(a - b).max())
        times = interleaved(
            dict(reference=lambda: ref(dict(sample)),
                 ours=lambda: ours(dict(sample))), rounds, block)
        rows.append(dict(case=name, shape=a.shape, diff=diff, times=times))
    return rows


def bench_batch(batch: int, rounds: int, block: int) -> List[dict]:
    """Pipeline end to batch tensor, for a batch of PoseC3D keypoint clips.

    reference: mmaction2 GeneratePoseTarget + FormatShape + PackActionInputs
    per sample, collate, ActionDataPreprocessor (stack into the batch).
    numpy: the same with our GeneratePoseTarget.
    device: PackPoseKeypoints per sample, collate, HeatmapDataPreprocessor.
    """
    cfg, frames, hw = CASES['posec3d-kp']
    samples = [make_sample(2, frames, hw, seed=i) for i in range(batch)]
    fmt, pack = FormatShape('NCTHW_Heatmap'), PackActionInputs()
    stack = ActionDataPreprocessor(format_shape='NCTHW')
    ref_t, our_t = RefTarget(**cfg), GeneratePoseTarget(**cfg)
    pack_kp = PackPoseKeypoints()

    def heatmap_path(target):
        packed = [pack(fmt(target(dict(s)))) for s in samples]
        return stack(pseudo_collate(packed))['inputs']

    def device_path(pre, device):
        packed = [pack_kp(dict(s)) for s in samples]
        out = pre(pseudo_collate(packed))['inputs']
        if device == 'cuda':
            torch.cuda.synchronize()
        return out

    expect = heatmap_path(ref_t)
    fns = dict(reference=lambda: heatmap_path(ref_t),
               numpy=lambda: heatmap_path(our_t))
    diffs = dict(numpy=float((heatmap_path(our_t) - expect).abs().max()))
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    for device in devices:
        pre = HeatmapDataPreprocessor(**cfg).to(device)
        fns[device] = (lambda pre=pre, device=device: device_path(pre, device))
        diffs[device] = float(
            (device_path(pre, device).cpu() - expect).abs().max())
    times = interleaved(fns, rounds, block)
    rows = []
    for name in ['numpy'] + devices:
        label = ('our GeneratePoseTarget'
                 if name == 'numpy' else f'HeatmapDataPreprocessor ({name})')
        rows.append(
            dict(case=f'batch of {batch} to tensor: {label}',
                 shape=tuple(expect.shape),
                 diff=diffs[name],
                 times=dict(reference=times['reference'] / batch,
                            ours=times[name] / batch)))
    return rows


def report(rows: List[dict], markdown: bool) -> None:
    if markdown:
        print('| case | output | reference wall ms [p10-p90] | ours wall ms '
              '[p10-p90] | speed-up wall | reference CPU ms | ours CPU ms | '
              'speed-up CPU | max abs diff |')
        print('|---|---|---|---|---|---|---|---|---|')
    for row in rows:
        t = row['times']
        ref_w, our_w = (np.median(t[k][:, 0]) for k in ('reference', 'ours'))
        ref_c, our_c = (np.median(t[k][:, 1]) for k in ('reference', 'ours'))
        ratio_w, ratio_c = ref_w / our_w, ref_c / our_c
        if markdown:
            print(f"| {row['case']} | {row['shape']} | "
                  f"{_stats(t['reference'][:, 0])} | "
                  f"{_stats(t['ours'][:, 0])} | **{ratio_w:.1f}x** | "
                  f'{ref_c * 1e3:.2f} | {our_c * 1e3:.2f} | '
                  f"**{ratio_c:.1f}x** | {row['diff']:.1e} |")
        else:
            print(f"{row['case']} -> {row['shape']}, max|diff| "
                  f"{row['diff']:.1e}")
            for kind, col, ratio in (('wall', 0, ratio_w), ('cpu ', 1,
                                                            ratio_c)):
                print(f"  {kind} reference {_stats(t['reference'][:, col])}"
                      f"   ours {_stats(t['ours'][:, col])}   "
                      f'ratio {ratio:5.1f}x')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=12)
    parser.add_argument('--block', type=int, default=5)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch CPU threads (OpenMP threads spin when the cores are '
        'shared: 2 threads on 2 busy cores ran the CPU batch 8x slower)')
    parser.add_argument('--markdown', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f'numpy {np.__version__}, torch {torch.__version__} '
          f'({torch.get_num_threads()} threads), rounds {args.rounds} x '
          f'block {args.block}')
    rows = bench_numpy(args.rounds, args.block)
    rows += bench_batch(args.batch, max(3, args.rounds // 2), 1)
    report(rows, args.markdown)


if __name__ == '__main__':
    main()
