"""Peak memory of loading an NTU60-size skeleton pickle: mmpose_plus's
PoseDataset vs mmaction2's PoseDataset.

Generates a synthetic pickle shaped like NTU60 2D (56,880 samples, xsub split
40,320 / 16,560, 2 persons, 17 joints, float32 coordinates and scores,
30-300 frames, about 100 on average) in a temporary directory, then loads it
in fresh subprocesses, alternating ours and the reference, and reports each
process's peak RSS (``ru_maxrss``), the part of it added by the load (peak
minus the RSS after imports), the RSS left after loading, and load time.

Usage::

    python benchmarks/bench_dataset_memory.py                 # full size
    python benchmarks/bench_dataset_memory.py --samples 5000  # quick
    python benchmarks/bench_dataset_memory.py --protocol 4 --repeats 3

The file is written with ``mmengine.dump`` (pickle protocol 2), the way the
released PYSKL / mmaction2 pickles were written; ``--protocol 4`` writes
plain ``pickle.dump`` output instead. Needs about 3x the pickle's array size
in free RAM for the reference run (about 7 GB at full size).
"""
import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

NTU60_XSUB = (40320, 16560)

_LOADER = r'''
import gc, json, resource, sys, time

def rss_kib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * (resource.getpagesize() // 1024)

which, path, split = sys.argv[1], sys.argv[2], sys.argv[3]
if which == 'ours':
    from mmpose_plus.datasets import PoseDataset
else:
    from mmaction.datasets import PoseDataset
import numpy  # noqa: F401
gc.collect()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
ds = PoseDataset(path, [], split=split)
seconds = time.perf_counter() - start
item = ds.get_data_info(len(ds) - 1)
assert item['keypoint'].ndim == 4
print(json.dumps(dict(
    samples=len(ds), base_kib=base,
    peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    after_kib=rss_kib(), seconds=seconds)))
'''


def generate(path: str, samples: int, persons: int, seed: int,
             protocol: int) -> dict:
    """Write the synthetic pickle; runs in its own process so that the
    parent's memory stays small."""
    import mmengine
    import numpy as np
    rng = np.random.default_rng(seed)
    # Gamma-distributed lengths: mean ~100, long tail, within 30..300.
    frames = np.clip(30 + rng.gamma(2.0, 35.0, samples), 30, 300).astype(int)
    annos = []
    for i, t in enumerate(frames):
        setup, cam, person = i // 1896 + 1, i % 3 + 1, i % 40 + 1
        kp = rng.random((persons, t, 17, 2), dtype=np.float32)
        kp[..., 0] *= 1920
        kp[..., 1] *= 1080
        annos.append(
            dict(frame_dir=f'S{setup:03d}C{cam:03d}P{person:03d}'
                 f'R{i % 2 + 1:03d}A{i % 60 + 1:03d}_{i}',
                 label=i % 60,
                 img_shape=(1080, 1920),
                 original_shape=(1080, 1920),
                 total_frames=int(t),
                 keypoint=kp,
                 keypoint_score=rng.random((persons, t, 17),
                                           dtype=np.float32)))
    n_train = round(samples * NTU60_XSUB[0] / sum(NTU60_XSUB))
    names = [a['frame_dir'] for a in annos]
    data = dict(split=dict(xsub_train=names[:n_train],
                           xsub_val=names[n_train:]),
                annotations=annos)
    if protocol == 2:
        mmengine.dump(data, path)  # protocol 2, like the released files
    else:
        with open(path, 'wb') as f:
            pickle.dump(data, f, protocol=protocol)
    array_bytes = sum(a['keypoint'].nbytes + a['keypoint_score'].nbytes
                      for a in annos)
    return dict(samples=samples, mean_frames=float(frames.mean()),
                array_bytes=array_bytes, file_bytes=os.path.getsize(path))


def run_loader(which: str, path: str, split: str) -> dict:
    out = subprocess.run([sys.executable, '-c', _LOADER, which, path, split],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=sum(NTU60_XSUB))
    parser.add_argument('--persons', type=int, default=2)
    parser.add_argument('--protocol', type=int, default=2, choices=(2, 4, 5))
    parser.add_argument('--split', default='xsub_train')
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tmpdir', default=None,
                        help='where to write the pickle (default: system tmp)')
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        path = os.path.join(tmp, 'ntu60_synthetic.pkl')
        t0 = time.perf_counter()
        gen = subprocess.run(
            [sys.executable, __file__, '--_generate', path,
             str(args.samples), str(args.persons), str(args.seed),
             str(args.protocol)],
            check=True, capture_output=True, text=True)
        info = json.loads(gen.stdout.strip().splitlines()[-1])
        print(f"generated {info['samples']} samples, mean "
              f"{info['mean_frames']:.1f} frames, arrays "
              f"{info['array_bytes'] / 2**30:.2f} GiB, file "
              f"{info['file_bytes'] / 2**30:.2f} GiB (protocol "
              f'{args.protocol}) in {time.perf_counter() - t0:.0f} s')

        results = dict(ours=[], mmaction2=[])
        for _ in range(args.repeats):  # interleaved
            for which in ('ours', 'mmaction2'):
                results[which].append(run_loader(which, path, args.split))

    def med(which, key):
        return statistics.median(r[key] for r in results[which])

    gib = 2**20  # KiB per GiB
    rows = []
    for which in ('ours', 'mmaction2'):
        added = [r['peak_kib'] - r['base_kib'] for r in results[which]]
        rows.append((which, results[which][0]['samples'],
                     med(which, 'peak_kib') / gib,
                     statistics.median(added) / gib,
                     med(which, 'after_kib') / gib, med(which, 'seconds')))
    print(f"\nsplit {args.split!r}, median of {args.repeats} interleaved runs"
          ' per loader, each in a fresh process')
    print(f"{'loader':<10} {'samples':>8} {'peak RSS':>9} "
          f"{'added by load':>14} {'RSS after':>10} {'load time':>10}")
    for which, n, peak, added, after, secs in rows:
        print(f'{which:<10} {n:>8} {peak:>7.2f} G {added:>12.2f} G '
              f'{after:>8.2f} G {secs:>8.1f} s')
    print('runs (peak RSS G / load s): ' + '; '.join(
        f"{which} " + ', '.join(f"{r['peak_kib'] / gib:.2f}/{r['seconds']:.1f}"
                                for r in results[which])
        for which in ('ours', 'mmaction2')))
    ours, ref = rows
    print(f'\nmmaction2 / ours: peak RSS {ref[2] / ours[2]:.2f}x, added by '
          f'load {ref[3] / ours[3]:.2f}x, RSS after {ref[4] / ours[4]:.2f}x,'
          f' load time {ref[5] / ours[5]:.2f}x')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--_generate':
        path, samples, persons, seed, protocol = sys.argv[2:7]
        print(json.dumps(generate(path, int(samples), int(persons),
                                  int(seed), int(protocol))))
    else:
        main()
