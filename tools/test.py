"""Test (evaluate) a checkpoint.

Example:
    python tools/test.py configs/rgbpose_ntu.py work_dirs/rgbpose_ntu/best.pth
    python tools/test.py CONFIG CKPT --dump results.pkl
"""
import argparse
import os

from mmengine.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--dump', metavar='FILE.pkl',
                        help='also dump the raw predictions to this pickle')
    parser.add_argument('--amp', action='store_true',
                        help='run inference under mixed precision autocast')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config entries, e.g. test_dataloader.batch_size=4')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_test_config(args: argparse.Namespace) -> Config:
    from mmpose_plus.engine.launch import default_work_dir, prepare_launcher
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or \
        default_work_dir(args.config)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.dump:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must name a .pkl file, got '
                             f'"{args.dump}"')
        dump = dict(type='DumpResults', out_file_path=args.dump)
        evaluator = cfg.test_evaluator
        cfg.test_evaluator = (list(evaluator) if isinstance(
            evaluator, (list, tuple)) else [evaluator]) + [dump]
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    prepare_launcher(cfg, args.launcher)
    return cfg


def _main(argv=None) -> dict:
    args = parse_args(argv)
    import mmpose_plus  # noqa: F401  (registers our modules)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmpose_plus.engine import (check_checkpoint, check_data_files,
                                    get_state_dict, load_trusted_checkpoint)

    cfg = build_test_config(args)
    check_data_files(cfg, ('test', ))
    # Fail before the test loop if the checkpoint cannot give real scores.
    state = get_state_dict(load_trusted_checkpoint(args.checkpoint, 'cpu'))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    model = getattr(runner.model, 'module', runner.model)
    for msg in check_checkpoint(model, state, args.checkpoint, 'test'):
        runner.logger.warning(msg)
    del state
    if args.amp:
        from mmpose_plus.engine.optim_wrapper import keep_head_outputs_fp32
        keep_head_outputs_fp32(runner.model)
    metrics = runner.test()
    if runner.rank == 0:
        print('Test results of ' + args.checkpoint + ':')
        for key, value in metrics.items():
            shown = f'{value:.4f}' if isinstance(value, float) else value
            print(f'  {key:<32} {shown}')
    return metrics


def main(argv=None) -> dict:
    """Run the tool; problems with the user's files end it with a one-line
    message instead of a traceback."""
    from mmpose_plus.engine.checks import UserInputError
    try:
        return _main(argv)
    except UserInputError as err:
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
