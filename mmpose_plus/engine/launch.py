"""Shared setup for ``tools/train.py`` and ``tools/test.py``."""
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config

from .checks import MissingDataError


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
