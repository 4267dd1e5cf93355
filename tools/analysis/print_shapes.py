"""Print every stage's output shape per pathway, the parameter count and
the FLOPs of a model.

Usage::

    python tools/analysis/print_shapes.py configs/rgbpose_ntu.py
    python tools/analysis/print_shapes.py CONFIG \\
        --shape imgs=1,3,8,224,224 heatmap_imgs=1,17,32,56,56
    python tools/analysis/print_shapes.py "dict(type='RGBPoseConv3D')"

CONFIG is a config file (its ``model`` may be a recognizer or a bare
backbone; ``default_scope`` is taken from it) or an inline model dict.
Without ``--shape`` the inputs follow the model: RGBPoseConv3D gets the
walkthrough inputs ``imgs=4,3,8,224,224 heatmap_imgs=4,17,32,56,56``, a
single-input backbone an RGB clip or a PoseC3D heatmap volume
(``4,C,48,56,56``) depending on its ``in_channels``.
"""
import argparse
import ast
import os.path as osp
import sys
from typing import Optional, Sequence, Union

import mmpose_plus  # noqa: F401  (registers our modules before building)
from mmpose_plus.utils.model_summary import (format_summary, parse_shapes,
                                             summarize_model)


def _model_arg(text: str) -> Union[str, dict]:
    """A config path, or an inline ``dict(...)`` / ``{...}`` model dict."""
    if osp.isfile(text):
        return text
    stripped = text.strip()
    if stripped.startswith(('dict(', '{')):
        try:
            if stripped.startswith('dict('):
                node = ast.parse(stripped, mode='eval').body
                if not isinstance(node, ast.Call) or node.args:
                    raise ValueError
                return {
                    kw.arg: ast.literal_eval(kw.value)
                    for kw in node.keywords
                }
            return dict(ast.literal_eval(stripped))
        except (ValueError, SyntaxError):
            raise argparse.ArgumentTypeError(
                f'cannot read the model dict {text!r}: use literal values, '
                "e.g. \"dict(type='RGBPoseConv3D')\"") from None
    raise argparse.ArgumentTypeError(
        f'{text!r} is neither an existing config file nor a model dict')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print per-stage output shapes, parameters and FLOPs.')
    parser.add_argument(
        'config', type=_model_arg, help='config file or inline model dict')
    parser.add_argument(
        '--shape',
        nargs='+',
        default=None,
        metavar='NAME=D1,D2,...',
        help='input shapes by backbone forward argument, e.g. '
        'imgs=4,3,8,224,224 heatmap_imgs=4,17,32,56,56')
    parser.add_argument(
        '--device',
        default='cpu',
        choices=['cpu', 'meta'],
        help="'meta' infers shapes without computing (instant)")
    parser.add_argument(
        '--no-flops', action='store_true', help='skip the FLOP count')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        shapes = parse_shapes(args.shape) if args.shape else None
        summary = summarize_model(
            args.config,
            shapes=shapes,
            device=args.device,
            with_flops=not args.no_flops)
    except (ValueError, KeyError) as exc:
        print(f'print_shapes: {exc}', file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
