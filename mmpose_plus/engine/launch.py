"""Shared setup for ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Callable, Optional, Sequence, TypeVar

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .checks import MissingDataError, UserInputError

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')

T = TypeVar('T')


def add_launch_args(parser: argparse.ArgumentParser,
                    cfg_example: str) -> None:
    """Add the options every launched tool ends with: ``--cfg-options``,
    ``--launcher`` and ``--local_rank`` / ``--local-rank``.

    Args:
        parser (ArgumentParser): The tool's parser, updated in place.
        cfg_example (str): A ``key=value`` override shown in the help of
            ``--cfg-options``.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_launch_args(parser, 'train_dataloader.batch_size=4')
        >>> parse_launch_args(parser, ['--launcher', 'pytorch']).launcher
        'pytorch'
    """
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help=f'override config entries, e.g. {cfg_example}')
    parser.add_argument('--launcher', default='none', choices=list(LAUNCHERS))
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser: argparse.ArgumentParser,
                      argv: Optional[Sequence[str]] = None
                      ) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` unless the launcher already
    set it (``torch.distributed.launch`` passes ``--local_rank`` instead).

    Args:
        parser (ArgumentParser): A parser given :func:`add_launch_args`.
        argv (Sequence[str], optional): Arguments; None reads ``sys.argv``.

    Returns:
        Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_tool_config(args: argparse.Namespace) -> Config:
    """Read ``args.config``, apply ``--cfg-options`` and pick the work dir
    (``--work-dir``, then the config's ``work_dir``, then
    :func:`default_work_dir`).

    Args:
        args (Namespace): Parsed arguments with ``config``, ``cfg_options``
            and ``work_dir``.

    Returns:
        Config: The config, to be completed by the tool.
    """
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or \
        default_work_dir(args.config)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's runner: ``runner_type`` from the registry if set,
    mmengine's :class:`Runner` otherwise."""
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)


def exit_on_user_error(main: Callable[[Optional[Sequence[str]]], T],
                       argv: Optional[Sequence[str]] = None) -> T:
    """Run a tool's ``main(argv)``; problems with the user's files end it
    with a one-line ``error: ...`` message instead of a traceback. A process
    group the run started is destroyed once every rank has finished: left to
    interpreter shutdown, a rank could abort ("terminate called without an
    active exception") after a successful run, failing the launcher.

    Example:
        >>> exit_on_user_error(lambda argv: len(argv), ['a', 'b'])
        2
    """
    try:
        result = main(argv)
    except UserInputError as err:
        raise SystemExit(f'error: {err}')
    # After a successful run only: on an error the other ranks may never
    # reach the barrier.
    if dist.is_available() and dist.is_initialized():
        dist.barrier()  # no rank tears down while another still talks
        dist.destroy_process_group()
    return result


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name>``, the OpenMMLab convention."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def prepare_launcher(cfg: Config, launcher: str) -> None:
    """Record the launcher and make a ``torchrun`` launch work without GPUs.

    mmengine initialises distributed runs through ``torch.cuda.set_device``
    and wraps the model with ``device_ids=[LOCAL_RANK]``; both fail on a CPU
    machine. On CPU we start the gloo process group here (mmengine then skips
    its own initialisation) and use a wrapper that accepts CPU modules.

    Args:
        cfg (Config): The config to update in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none':
        return
    cfg.setdefault('model_wrapper_cfg',
                   dict(type='DeviceAwareDistributedDataParallel'))
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs; on a CPU-only machine use '
            '`torchrun` (--launcher pytorch), e.g. tools/dist_train.sh.')
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision.

    Uses mmengine's ``AmpOptimWrapper`` (fp16, dynamic loss scale) on a GPU
    and :class:`CPUBf16OptimWrapper` otherwise.
    """
    wrapper = cfg.optim_wrapper
    current = wrapper.get('type', 'OptimWrapper')
    if current in ('AmpOptimWrapper', 'CPUBf16OptimWrapper'):
        return
    if current != 'OptimWrapper':
        raise ValueError(f'--amp cannot replace optim_wrapper type '
                         f'"{current}"; set mixed precision in the config.')
    if torch.cuda.is_available():
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        wrapper.type = 'CPUBf16OptimWrapper'


def resolve_resume(cfg: Config, resume: Optional[str]) -> None:
    """``--resume`` alone resumes from the latest checkpoint in the work
    dir; ``--resume PATH`` from that file."""
    if resume is None:
        return
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    else:
        if not osp.isfile(resume):
            raise MissingDataError(f'--resume: checkpoint "{resume}" does '
                                    'not exist.')
        cfg.resume = True
        cfg.load_from = resume
