"""Test (evaluate) a checkpoint.

Example:
    python tools/test.py configs/rgbpose_ntu.py work_dirs/rgbpose_ntu/best.pth
    python tools/test.py CONFIG CKPT --dump results.pkl
"""
import argparse

from mmengine.config import Config

# Importing mmpose_plus (any submodule) registers our modules.
from mmpose_plus.engine import (check_checkpoint, check_data_files,
                                get_state_dict, load_trusted_checkpoint)
from mmpose_plus.engine.launch import (add_launch_args, build_runner,
                                       exit_on_user_error, load_tool_config,
                                       parse_launch_args, prepare_launcher)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--dump', metavar='FILE.pkl',
                        help='also dump the raw predictions to this pickle')
    parser.add_argument('--amp', action='store_true',
                        help='run inference under mixed precision autocast')
    add_launch_args(parser, 'test_dataloader.batch_size=4')
    return parse_launch_args(parser, argv)


def build_test_config(args: argparse.Namespace) -> Config:
    cfg = load_tool_config(args)
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
    cfg = build_test_config(args)
    check_data_files(cfg, ('test', ))
    # Fail before the test loop if the checkpoint cannot give real scores.
    state = get_state_dict(load_trusted_checkpoint(args.checkpoint, 'cpu'))
    runner = build_runner(cfg)
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
    return exit_on_user_error(_main, argv)


if __name__ == '__main__':
    main()
