"""Export a skeleton action recogniser or a 2D pose network to ONNX and
check the file against PyTorch with onnxruntime.

Usage::

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT] --out FILE.onnx
        [--shape NAME=N,C,T,H,W ...] [--opset 17] [--softmax]
        [--dynamic-hw] [--static-batch] [--no-verify] [--atol 1e-4]

Recognisers (``cls_head``; e.g. PoseC3D SlowOnly) take a heatmap volume
``heatmaps (N, C, T, H, W)`` and give ``cls_score (N, num_classes)``;
RGBPoseConv3D takes ``imgs`` + ``heatmap_imgs`` and gives ``rgb_score`` +
``pose_score``. Pose networks (``head``; HRNet, SimpleBaseline, HigherHRNet)
take a normalised ``image (N, 3, H, W)`` and give ``heatmaps``, or
``heatmaps_tags_s4`` + ``heatmaps_s2`` for HigherHRNet. The batch axis is
dynamic. Input shapes come from the config (test pipeline / codec) unless
``--shape`` gives them. Without CHECKPOINT the untrained weights are
exported, with a loud warning: useful only to test the deployment path.
See ``mmpose_plus.apis.export`` and docs/deployment.md.

CHECKPOINT is unpickled in full: a checkpoint is code, export only files you
trust.
"""
import argparse
import os.path as osp
import sys
import time
import warnings
from typing import Dict, Optional, Sequence, Tuple

from mmengine.logging import MMLogger

import mmpose_plus  # noqa: F401  (registers our modules before building)
from mmpose_plus.apis.export import (DEFAULT_OPSET, UntrainedWeightsWarning,
                                     build_export_model, export_onnx,
                                     infer_input_shapes)
from mmpose_plus.engine.checks import UserInputError

BANNER = '!' * 78


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a skeleton recogniser or a pose network to ONNX.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (omit to export untrained weights)')
    parser.add_argument(
        '--out',
        help='output .onnx file (default: work_dirs/onnx/<config name>.onnx)')
    parser.add_argument(
        '--shape',
        nargs='+',
        default=[],
        help='input shape(s) with batch first: NAME=D1,D2,... (or just '
        'D1,D2,... for a single input), e.g. heatmaps=1,17,48,56,56')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument(
        '--softmax',
        action='store_true',
        help='recognisers: output class probabilities instead of logits')
    parser.add_argument(
        '--dynamic-hw',
        action='store_true',
        help='pose networks: dynamic image height and width')
    parser.add_argument(
        '--static-batch',
        action='store_true',
        help='fix the batch size to the one of --shape')
    parser.add_argument(
        '--no-verify',
        action='store_true',
        help='skip the onnxruntime vs PyTorch comparison')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='tolerance of the comparison (default 1e-4)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def parse_shapes(items: Sequence[str],
                 input_names: Sequence[str]) -> Dict[str, Tuple[int, ...]]:
    """``NAME=D1,D2,...`` items (a bare ``D1,D2,...`` for one input)."""
    shapes = {}
    for item in items:
        name, sep, dims = item.rpartition('=')
        if not sep:
            if len(input_names) != 1:
                raise ValueError(f'--shape {item!r}: this model has inputs '
                                 f'{list(input_names)}; use NAME=D1,D2,...')
            name = input_names[0]
        try:
            shape = tuple(int(d) for d in dims.replace('x', ',').split(','))
            if not shape or min(shape) <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(f'--shape {item!r}: dimensions must be positive '
                             'integers, e.g. heatmaps=1,17,48,56,56') from None
        if name not in input_names:
            raise ValueError(f'--shape {item!r}: unknown input {name!r}; the '
                             f'model has {list(input_names)}')
        shapes[name] = shape
    return shapes


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    # mmengine logs every initialised parameter at INFO level; a new
    # WARNING-level logger becomes the current one for this run.
    MMLogger.get_instance(f'export_onnx_{time.time_ns()}', log_level='WARNING')
    out = args.out or osp.join(
        'work_dirs', 'onnx',
        osp.splitext(osp.basename(args.config))[0] + '.onnx')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UntrainedWeightsWarning)
            model = build_export_model(
                args.config,
                args.checkpoint,
                device=args.device,
                softmax=args.softmax)
        if not args.checkpoint:
            print(f'{BANNER}\nWARNING: no checkpoint given: exporting '
                  'UNTRAINED, randomly initialised weights.\nThe ONNX file '
                  'only tests the deployment path; its outputs are '
                  f'meaningless.\n{BANNER}', file=sys.stderr)
        shapes = infer_input_shapes(model)
        shapes.update(parse_shapes(args.shape, model.input_names))
        report = export_onnx(
            model,
            out,
            input_shapes=shapes,
            opset=args.opset,
            dynamic_batch=not args.static_batch,
            dynamic_hw=args.dynamic_hw,
            verify=not args.no_verify,
            atol=args.atol)
    except (FileNotFoundError, ValueError, TypeError, KeyError,
            UserInputError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(report)
    if report.verified and not report.ok:
        print('error: the ONNX outputs differ from PyTorch beyond --atol',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
