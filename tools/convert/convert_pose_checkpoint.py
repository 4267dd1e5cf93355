"""Convert a released SimpleBaseline / HRNet / HigherHRNet checkpoint to the
``backbone.* / head.*`` layout of our pose estimators.

Usage::

    python tools/convert/convert_pose_checkpoint.py SRC DST
    python tools/convert/convert_pose_checkpoint.py SRC DST --config CONFIG

SRC may be an official checkpoint (bare state dict, e.g.
``pose_hrnet_w32_256x192.pth``, ``pose_higher_hrnet_w32_512.pth``) or an
mmpose 0.x / 1.x checkpoint. With ``--config`` the model of that config is
built and the converted keys must match it exactly (names and shapes);
otherwise the missing / unexpected / mis-shaped keys are listed and nothing
is written (``--no-strict`` writes anyway). DST holds only tensors and
strings, so it loads with ``torch.load(..., weights_only=True)`` and as
``load_from`` / ``init_cfg=dict(type='Pretrained', checkpoint=DST)``.

SRC is unpickled in full: a checkpoint is code, convert only files you
trust. See ``mmpose_plus.models.utils.pose_checkpoint`` for the key rules.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

import torch

import mmpose_plus  # noqa: F401  (registers our modules before building)
from mmpose_plus.engine.checkpoint import load_trusted_checkpoint
from mmpose_plus.models.utils.pose_checkpoint import (LAYOUTS,
                                                      check_state_dict,
                                                      convert_pose_state_dict)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an official / mmpose pose checkpoint to the '
        'mmpose_plus estimator layout.')
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='where to write the converted file')
    parser.add_argument(
        '--config',
        help='config whose model must match the converted keys exactly')
    parser.add_argument(
        '--layout',
        default='auto',
        choices=('auto', ) + LAYOUTS,
        help='source layout (default: detected from the keys)')
    parser.add_argument(
        '--no-strict',
        action='store_true',
        help='with --config: write DST even if keys do not match')
    return parser.parse_args(argv)


def build_model(config: str) -> torch.nn.Module:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose_plus.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose_plus'))
    return MODELS.build(cfg.model)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        checkpoint = load_trusted_checkpoint(args.src, map_location='cpu')
        state_dict, layout = convert_pose_state_dict(checkpoint, args.layout)
    except (FileNotFoundError, TypeError, ValueError) as err:
        print(f'error: cannot convert {args.src}: {err}', file=sys.stderr)
        return 1
    print(f'{args.src}: {layout} layout, {len(state_dict)} keys')

    if args.config:
        report = check_state_dict(build_model(args.config), state_dict,
                                  layout)
        print(report)
        if not report.ok and not args.no_strict:
            print(
                f'error: {args.src} does not match the model of '
                f'{args.config}; nothing written (use --no-strict to write '
                'anyway)',
                file=sys.stderr)
            return 1

    meta = dict(
        converted_from=osp.basename(args.src),
        source_layout=layout,
        converter='mmpose_plus tools/convert/convert_pose_checkpoint.py')
    dst_dir = osp.dirname(osp.abspath(args.dst))
    if not osp.isdir(dst_dir):
        print(f'error: output folder {dst_dir} does not exist',
              file=sys.stderr)
        return 1
    torch.save(dict(meta=meta, state_dict=state_dict), args.dst)
    print(f'wrote {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
