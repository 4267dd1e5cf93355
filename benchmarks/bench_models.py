"""Forward and forward+backward time and peak memory: our action-recognition
backbones against mmaction2's, plus the CPU speed/memory options.

Cases (identical weights and inputs for ours and the reference):

* ``rgbpose``: RGBPoseConv3D, batch 2, ``imgs`` 3x8x224x224 and
  ``heatmap_imgs`` 17x32x56x56 (``--quick``: batch 1, 8x112x112 / 32x28x28).
* ``posec3d``: ResNet3dSlowOnly of PoseC3D (NTU60 keypoint), batch 2,
  17x48x56x56 heatmaps (``--quick``: batch 1, 17x24x56x56).

Variants: ``mmaction2`` (reference, fp32), ``ours`` (fp32), and options on
our model: ``ours+cl3d`` (``torch.channels_last_3d`` weights and inputs),
``ours+bf16`` (``torch.autocast('cpu', torch.bfloat16)``), ``ours+cp``
(``with_cp=True``: activation checkpointing in every residual block; only
meaningful with backward).

Timing: all variants of a case live in one process and run round-robin
(one call of each per round, after one warm-up call each), so a load spike
on the shared machine hits every variant alike; we report the median, the
spread (min..max) and the ratio to the mmaction2 median.

Memory: every (case, variant, mode) runs once in a fresh subprocess that
builds only that model and its inputs, then makes one call.
``peak`` is the process's peak RSS (``VmHWM`` of /proc/self/status: Python,
torch, the model and the largest transient working set); ``step`` is the
peak minus the peak reached right after building the model and inputs,
i.e. what one call adds (activations, gradients, allocator caches). Both are whole-process figures,
not allocator-level counts.

Usage::

    python benchmarks/bench_models.py                  # full sizes
    python benchmarks/bench_models.py --quick --repeats 3
    python benchmarks/bench_models.py --cases posec3d --no-memory
"""
import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

VARIANTS = ('mmaction2', 'ours', 'ours+cl3d', 'ours+bf16', 'ours+cp')
MODES = ('forward', 'fwd+bwd')

# PoseC3D SlowOnly-R50 keypoint backbone (NTU60 XSub): the backbone of our
# config, so the benchmark follows what training builds.
POSEC3D_CONFIG = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs',
    '_base_', 'models', 'slowonly_r50_pose.py')


def posec3d_keypoint_kwargs() -> dict:
    """``ResNet3dSlowOnly`` keyword arguments of the PoseC3D config."""
    from mmengine.config import Config
    backbone = Config.fromfile(POSEC3D_CONFIG).model.backbone.to_dict()
    backbone.pop('type')
    return backbone


def case_inputs(case: str, quick: bool) -> Dict[str, Tuple[int, ...]]:
    if case == 'rgbpose':
        if quick:
            return dict(imgs=(1, 3, 8, 112, 112),
                        heatmap_imgs=(1, 17, 32, 28, 28))
        return dict(imgs=(2, 3, 8, 224, 224), heatmap_imgs=(2, 17, 32, 56, 56))
    if case == 'posec3d':
        return dict(x=(1, 17, 24, 56, 56) if quick else (2, 17, 48, 56, 56))
    raise ValueError(f'unknown case {case!r}')


def build(case: str, impl: str) -> nn.Module:
    """Build the reference ('mmaction2') or our model of a case."""
    from mmengine.registry import DefaultScope
    if impl == 'mmaction2':
        import mmaction.models.backbones as ref
        with DefaultScope.overwrite_default_scope('mmaction'):
            if case == 'rgbpose':
                return ref.RGBPoseConv3D()
            return ref.ResNet3dSlowOnly(**posec3d_keypoint_kwargs())
    import mmpose_plus.models.backbones as ours
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        if case == 'rgbpose':
            return ours.RGBPoseConv3D()
        return ours.ResNet3dSlowOnly(**posec3d_keypoint_kwargs())


def make_variant(variant: str, ours: nn.Module,
                 inplace: bool = False) -> nn.Module:
    """Our model prepared for ``variant`` (a copy unless ``inplace``)."""
    model = ours if inplace else copy.deepcopy(ours)
    if variant == 'ours+cl3d':
        model = model.to(memory_format=torch.channels_last_3d)
    if variant == 'ours+cp':
        for module in model.modules():
            if hasattr(module, 'with_cp'):
                module.with_cp = True
    return model


def make_inputs(shapes: Dict[str, Tuple[int, ...]], variant: str,
                seed: int = 0) -> Dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    tensors = {k: torch.rand(s, generator=gen) for k, s in shapes.items()}
    if variant == 'ours+cl3d':
        tensors = {
            k: v.contiguous(memory_format=torch.channels_last_3d)
            for k, v in tensors.items()
        }
    return tensors


def _call(model: nn.Module, inputs: Dict[str, torch.Tensor]):
    if list(inputs) == ['x']:
        return model(inputs['x'])
    return model(**inputs)


def runner(model: nn.Module, inputs: Dict[str, torch.Tensor], variant: str,
           mode: str) -> Callable[[], None]:
    """A zero-argument callable doing one forward or one training step."""
    autocast = variant == 'ours+bf16'

    def forward_only() -> None:
        model.eval()
        with torch.no_grad(), torch.autocast(
                'cpu', dtype=torch.bfloat16, enabled=autocast):
            _call(model, inputs)

    def train_step() -> None:
        model.train()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            outs = _call(model, inputs)
        outs = outs if isinstance(outs, (tuple, list)) else (outs, )
        loss = sum(o.float().mean() for o in outs)
        loss.backward()
        model.zero_grad(set_to_none=True)

    return forward_only if mode == 'forward' else train_step


def max_abs_diff(a, b) -> float:
    a = a if isinstance(a, (tuple, list)) else (a, )
    b = b if isinstance(b, (tuple, list)) else (b, )
    return max((x.float() - y.float()).abs().max().item()
               for x, y in zip(a, b))


def time_case(case: str, quick: bool, repeats: int,
              variants: Sequence[str]) -> Tuple[Dict, Dict]:
    """Median/min/max seconds per (variant, mode), and output checks."""
    torch.manual_seed(0)
    ref = build(case, 'mmaction2')
    ref.init_weights()
    ours = build(case, 'ours')
    ours.load_state_dict(ref.state_dict(), strict=True)
    shapes = case_inputs(case, quick)
    models = {'mmaction2': ref, 'ours': ours}
    for variant in variants:
        if variant not in models:
            models[variant] = make_variant(variant, ours)

    checks = {}
    base_inputs = make_inputs(shapes, 'ours')
    with torch.no_grad():
        ref.eval()
        expected = _call(ref, base_inputs)
        for variant in variants:
            if variant == 'mmaction2':
                continue
            model = models[variant].eval()
            with torch.autocast(
                    'cpu', dtype=torch.bfloat16,
                    enabled=variant == 'ours+bf16'):
                got = _call(model, make_inputs(shapes, variant))
            checks[variant] = max_abs_diff(got, expected)

    jobs = []
    for mode in MODES:
        for variant in variants:
            if variant == 'ours+cp' and mode == 'forward':
                continue  # checkpointing only acts when gradients are taken
            jobs.append((variant, mode,
                         runner(models[variant], make_inputs(shapes, variant),
                                variant, mode)))
    times: Dict[Tuple[str, str], List[float]] = {
        (v, m): []
        for v, m, _ in jobs
    }
    for _, _, fn in jobs:  # warm-up
        fn()
    for _ in range(repeats):
        for variant, mode, fn in jobs:
            start = time.perf_counter()
            fn()
            times[(variant, mode)].append(time.perf_counter() - start)
    stats = {
        key: dict(median=statistics.median(v), lo=min(v), hi=max(v))
        for key, v in times.items()
    }
    return stats, checks


def _peak_rss_mib() -> float:
    """High-water mark of this process's resident memory.

    ``VmHWM`` belongs to the process's own address space. ``ru_maxrss`` is
    not used: Linux carries the parent's high-water mark across
    fork+exec, so a child started by a big parent reports the parent's peak.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024  # kB -> MiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(case: str, variant: str, mode: str, quick: bool) -> Dict:
    """Runs inside a fresh process: build one model, make one call, report
    peak RSS."""
    torch.manual_seed(0)
    if variant == 'mmaction2':
        model = build(case, 'mmaction2')
    else:
        model = make_variant(variant, build(case, 'ours'), inplace=True)
    model.init_weights()
    fn = runner(model, make_inputs(case_inputs(case, quick), variant), variant,
                mode)
    after_build = _peak_rss_mib()
    fn()
    peak = _peak_rss_mib()
    return dict(after_build=after_build, peak=peak, step=peak - after_build)


def memory_case(case: str, quick: bool, threads: int,
                variants: Sequence[str]) -> Dict:
    results = {}
    for mode in MODES:
        for variant in variants:
            if variant == 'ours+cp' and mode == 'forward':
                continue
            cmd = [
                sys.executable,
                os.path.abspath(__file__), '--memory-child', case, variant,
                mode, '--threads',
                str(threads)
            ] + (['--quick'] if quick else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                results[(variant, mode)] = dict(
                    error=proc.stderr.strip().splitlines()[-1:])
                continue
            results[(variant, mode)] = json.loads(
                proc.stdout.strip().splitlines()[-1])
    return results


def fmt_table(case: str, quick: bool, stats: Dict, memory: Optional[Dict],
              checks: Dict, variants: Sequence[str]) -> str:
    shapes = case_inputs(case, quick)
    title = f'### {case}: ' + ', '.join(
        f'{k} {"x".join(map(str, v))}' for k, v in shapes.items())
    lines = [
        title, '',
        '| variant | mode | median s | spread s | ours/ref | '
        'peak RSS MiB | step RSS MiB | max abs diff vs ref |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for mode in MODES:
        ref = stats.get(('mmaction2', mode))
        for variant in variants:
            s = stats.get((variant, mode))
            if s is None:
                continue
            ratio = f'{s["median"] / ref["median"]:.2f}' if ref else '-'
            mem = (memory or {}).get((variant, mode), {})
            if 'error' in mem:
                peak = step = 'failed'
            elif mem:
                peak, step = f'{mem["peak"]:.0f}', f'{mem["step"]:.0f}'
            else:
                peak = step = '-'
            diff = checks.get(variant)
            diff = '-' if diff is None else f'{diff:.1e}'
            lines.append(f'| {variant} | {mode} | {s["median"]:.3f} | '
                         f'{s["lo"]:.3f}..{s["hi"]:.3f} | {ratio} | {peak} | '
                         f'{step} | {diff} |')
    return '\n'.join(lines)


def environment(threads: int, repeats: int) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    import mmaction
    return (f'torch {torch.__version__}, mmaction2 {mmaction.__version__}, '
            f'{threads} threads, {repeats} timed rounds, CPU: {cpu}, '
            f'bf16 kernels: {torch.backends.mkldnn.is_available()}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed rounds per variant (after 1 warm-up)')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch intra-op threads')
    parser.add_argument('--quick', action='store_true',
                        help='smaller inputs (see the module docstring)')
    parser.add_argument('--cases', default='rgbpose,posec3d',
                        help='comma-separated: rgbpose, posec3d')
    parser.add_argument('--variants', default=','.join(VARIANTS),
                        help='comma-separated subset of ' + ','.join(VARIANTS))
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the per-process peak memory runs')
    parser.add_argument('--memory-child', nargs=3,
                        metavar=('CASE', 'VARIANT', 'MODE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    import mmpose_plus  # noqa: F401  (registers our modules)
    if args.memory_child:
        case, variant, mode = args.memory_child
        print(json.dumps(memory_child(case, variant, mode, args.quick)))
        return
    variants = [v for v in args.variants.split(',') if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown or 'mmaction2' not in variants or 'ours' not in variants:
        raise SystemExit(f'--variants must include mmaction2 and ours, from '
                         f'{VARIANTS}; unknown: {sorted(unknown)}')
    print(environment(args.threads, args.repeats))
    for case in [c for c in args.cases.split(',') if c]:
        start = time.perf_counter()
        stats, checks = time_case(case, args.quick, args.repeats, variants)
        memory = None if args.no_memory else memory_case(
            case, args.quick, args.threads, variants)
        print()
        print(fmt_table(case, args.quick, stats, memory, checks, variants))
        print(f'({time.perf_counter() - start:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
