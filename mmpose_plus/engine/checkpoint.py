"""Checkpoint loading that works on torch >= 2.6.

torch 2.6 switched ``torch.load`` to ``weights_only=True``. mmengine
checkpoints carry more than tensors (the message hub's ``HistoryBuffer``,
numpy scalars, ``getattr`` references in pickled schedulers), so ``--resume``,
``load_from`` and ``tools/test.py CKPT`` fail with an ``UnpicklingError``.
Allow-listing single classes is not enough, so the choice made here is:

* a checkpoint *file the user names* (config ``load_from``, ``--resume``,
  ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``, ``tools/test.py``)
  is loaded as a full pickle (``weights_only=False``). A checkpoint is code:
  only load files you trust, exactly as with any pickle.
* everything else keeps torch's default.

Importing :mod:`mmpose_plus` installs this loader for local paths, so no
environment variable is needed.
"""
import os.path as osp
from typing import Any, Dict, Optional

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .checks import MissingDataError


def load_trusted_checkpoint(filename: str,
                            map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint file as a full pickle.

    Args:
        filename (str): Path of a checkpoint that the user chose to load.
        map_location: Passed to :func:`torch.load`.

    Returns:
        Whatever the file holds (usually a dict with ``state_dict``).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise MissingDataError(
            f'Checkpoint file "{filename}" does not exist. Published '
            'checkpoints are not downloaded at run time: pass the path of a '
            'file you have (see docs/checkpoints.md).')
    return torch.load(filename, map_location=map_location, weights_only=False)


def install_checkpoint_loader() -> None:
    """Route mmengine's local checkpoint loading through
    :func:`load_trusted_checkpoint` (idempotent)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_trusted_checkpoint, force=True)


def get_state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """Return the state dict held by a loaded checkpoint object.

    Accepts mmengine checkpoints (``{'state_dict': ...}``), bare state dicts
    and the ``{'model': ...}`` layout some official releases use.
    """
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
        return checkpoint
    raise TypeError(f'Unrecognised checkpoint object of type '
                    f'{type(checkpoint).__name__}; expected a dict.')
