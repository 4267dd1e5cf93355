"""Build the initial RGBPoseConv3D checkpoint from a separately trained RGB
SlowOnly recogniser and a pose SlowOnly recogniser.

Usage::

    python tools/convert/merge_rgbpose_init.py RGB_CKPT POSE_CKPT OUT
    python tools/convert/merge_rgbpose_init.py RGB_CKPT POSE_CKPT OUT \\
        --config CONFIG   # e.g. configs/rgbpose_conv3d/rgbposeconv3d_*.py

The keys are renamed (``backbone.`` -> ``backbone.rgb_path.`` /
``backbone.pose_path.``, ``cls_head.fc_cls`` -> ``cls_head.fc_rgb`` /
``cls_head.fc_pose``) and the eight weights widened by the lateral
connections are zero-padded on their lateral input channels; the laterals
are left out and keep the initialisation of the model that loads OUT (see
``mmpose_plus.utils.rgbpose_init``). With ``--config`` the RGBPoseConv3D
recogniser of that config is built, OUT is checked to load into it with
every weight but the laterals present and of the right shape, and the
padding follows the config's architecture (otherwise the default lateral
layout is assumed). OUT holds only tensors and strings
(``torch.load(OUT, weights_only=True)`` works) and is meant for the config's
``load_from``.

The two sources are unpickled in full: a checkpoint is code, merge only
files you trust.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import Optional, Sequence

import torch
from mmengine.logging import MMLogger

import mmpose_plus  # noqa: F401  (registers our modules before building)
from mmpose_plus.engine.checkpoint import load_trusted_checkpoint
from mmpose_plus.engine.checks import UserInputError
from mmpose_plus.utils.rgbpose_init import (is_lateral_key,
                                            merge_rgbpose_init_with_report)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Merge an RGB and a pose SlowOnly checkpoint into the '
        'initial checkpoint of RGBPoseConv3D.')
    parser.add_argument('rgb', help='RGB SlowOnly recogniser checkpoint')
    parser.add_argument('pose', help='pose SlowOnly recogniser checkpoint')
    parser.add_argument('out', help='where to write the merged checkpoint')
    parser.add_argument(
        '--config',
        help='RGBPoseConv3D config: pad to its shapes and check that the '
        'merged weights load into its model')
    return parser.parse_args(argv)


def build_model(config: str) -> torch.nn.Module:
    """The (initialised) model of ``config``."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose_plus.registry import MODELS
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file "{config}" does not exist')
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose_plus'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def check_loads(model: torch.nn.Module, merged: dict) -> str:
    """Load ``merged`` into ``model``; only laterals may stay missing."""
    result = model.load_state_dict(merged, strict=False)
    missing = [k for k in result.missing_keys if not is_lateral_key(k)]
    if missing or result.unexpected_keys:
        raise UserInputError(f'merged weights do not load: missing {missing}'
                             f', unexpected {result.unexpected_keys}')
    return (f'loads into {type(model).__name__}: {len(merged)} tensors, '
            f'{len(result.missing_keys)} lateral tensors left to their '
            'initialisation')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    # mmengine logs every initialised parameter at INFO level; a new
    # WARNING-level logger becomes the current one for this run.
    MMLogger.get_instance(f'merge_rgbpose_{time.time_ns()}',
                          log_level='WARNING')
    try:
        model = build_model(args.config) if args.config else None
        rgb = load_trusted_checkpoint(args.rgb, map_location='cpu')
        pose = load_trusted_checkpoint(args.pose, map_location='cpu')
        merged, report = merge_rgbpose_init_with_report(rgb, pose, model)
        print(report)
        if model is not None:
            print(check_loads(model, merged))
    except (FileNotFoundError, TypeError, ValueError, UserInputError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    meta = dict(
        rgb_source=osp.basename(args.rgb),
        pose_source=osp.basename(args.pose),
        padded=[f'{k}: {list(a)} -> {list(b)}' for k, a, b in report.padded],
        note='laterals are not included; they keep the fresh '
        'initialisation of the model that loads this file')
    if args.config:
        meta['config'] = osp.basename(args.config)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(dict(state_dict=merged, meta=meta), args.out)
    print(f'wrote {args.out} ({len(merged)} tensors)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
