"""Train a model from a config.

Example:
    python tools/train.py configs/rgbpose_ntu.py
    python tools/train.py CONFIG --work-dir work_dirs/exp1 --resume
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch
"""
import argparse

from mmengine.config import Config

# Importing mmpose_plus (any submodule) registers our modules.
from mmpose_plus.engine import (check_checkpoint, check_data_files,
                                get_state_dict, load_trusted_checkpoint)
from mmpose_plus.engine.launch import (add_launch_args, build_runner,
                                       enable_amp, exit_on_user_error,
                                       load_tool_config, parse_launch_args,
                                       prepare_launcher, resolve_resume)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CKPT',
        help='resume training: alone, from the latest checkpoint in the '
        'work dir; with a path, from that checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (fp16 on GPU, bf16 on CPU)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual batch '
                        'size relative to auto_scale_lr.base_batch_size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN / algorithms')
    add_launch_args(parser, 'train_dataloader.batch_size=4')
    return parse_launch_args(parser, argv)


def build_train_config(args: argparse.Namespace) -> Config:
    cfg = load_tool_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.no_validate:
        for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
            cfg[key] = None
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError('--auto-scale-lr: the config has no '
                             'auto_scale_lr.base_batch_size entry.')
        cfg.auto_scale_lr.enable = True
    if args.seed is not None or args.deterministic:
        randomness = cfg.setdefault('randomness', {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic
    resolve_resume(cfg, args.resume)
    prepare_launcher(cfg, args.launcher)
    return cfg


def _main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_train_config(args)
    splits = ('train', ) if cfg.get('val_dataloader') is None else \
        ('train', 'val')
    check_data_files(cfg, splits)
    runner = build_runner(cfg)
    if cfg.get('load_from') and not cfg.get('resume', False):
        model = getattr(runner.model, 'module', runner.model)
        state = get_state_dict(load_trusted_checkpoint(cfg.load_from, 'cpu'))
        for msg in check_checkpoint(model, state, cfg.load_from, 'finetune'):
            runner.logger.warning(msg)
    runner.train()


def main(argv=None) -> None:
    """Run the tool; problems with the user's files end it with a one-line
    message instead of a traceback."""
    return exit_on_user_error(_main, argv)


if __name__ == '__main__':
    main()
