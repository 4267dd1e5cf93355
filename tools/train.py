"""Train a model from a config.

Example:
    python tools/train.py configs/rgbpose_ntu.py
    python tools/train.py CONFIG --work-dir work_dirs/exp1 --resume
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


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
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config entries, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_train_config(args: argparse.Namespace) -> Config:
    from mmpose_plus.engine.launch import (default_work_dir, enable_amp,
                                           prepare_launcher, resolve_resume)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or \
        default_work_dir(args.config)
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
    import mmpose_plus  # noqa: F401  (registers our modules)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmpose_plus.engine import (check_checkpoint, check_data_files,
                                    get_state_dict, load_trusted_checkpoint)

    cfg = build_train_config(args)
    splits = ('train', ) if cfg.get('val_dataloader') is None else \
        ('train', 'val')
    check_data_files(cfg, splits)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    if cfg.get('load_from') and not cfg.get('resume', False):
        model = getattr(runner.model, 'module', runner.model)
        state = get_state_dict(load_trusted_checkpoint(cfg.load_from, 'cpu'))
        for msg in check_checkpoint(model, state, cfg.load_from, 'finetune'):
            runner.logger.warning(msg)
    runner.train()


def main(argv=None) -> None:
    """Run the tool; problems with the user's files end it with a one-line
    message instead of a traceback."""
    from mmpose_plus.engine.checks import UserInputError
    try:
        return _main(argv)
    except UserInputError as err:
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
