"""Loading released 2D pose checkpoints into our estimators.

Our top-down and bottom-up estimators keep their weights under
``backbone.*`` and ``head.*``. The released checkpoints come in three
layouts, all converted here by renaming only (no tensor is changed):

* **official** (SimpleBaseline, HRNet, HigherHRNet repositories): a bare
  state dict without prefixes, e.g. ``conv1.weight``, ``layer1.0.*``,
  ``stage4.*`` (backbone) and ``deconv_layers.*``, ``final_layer.*``,
  ``final_layers.{0,1}.*`` (head). Keys whose first component is one of
  :data:`HEAD_ROOTS` go to ``head.``, every other key to ``backbone.``.
  A ``module.`` prefix left by ``DataParallel`` is dropped.
* **mmpose 0.x**: ``backbone.*`` and ``keypoint_head.*``; the latter becomes
  ``head.*``. Its ``TopdownHeatmapSimpleHead`` stored the extra conv layers
  inside ``final_layer.<n>``; the last of those is our ``final_layer`` and
  the others are ``conv_layers.<n>`` (same indices).
* **mmpose 1.x** (and our own checkpoints): ``backbone.*`` and ``head.*``,
  kept as they are.

The wrapper dict of a checkpoint file (``state_dict`` / ``model`` / bare) is
unwrapped first. BatchNorm ``num_batches_tracked`` buffers, which
checkpoints saved by old PyTorch versions lack, are filled with 0 and listed
as filled, not missing. Everything else must match by name and shape:
:func:`load_pose_checkpoint` raises :class:`CheckpointMismatchError` listing
missing, unexpected and mis-shaped keys unless ``strict=False``.

Example:
    >>> from mmpose_plus.models.utils import convert_pose_state_dict
    >>> sd = {'conv1.weight': torch.zeros(1),
    ...       'final_layer.bias': torch.zeros(1)}
    >>> converted, layout = convert_pose_state_dict(sd)
    >>> layout, list(converted)
    ('official', ['backbone.conv1.weight', 'head.final_layer.bias'])
"""
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn

from mmpose_plus.engine.checkpoint import load_trusted_checkpoint
# One error type for "checkpoint does not fit the model" across the package
# (a ValueError that the tools print as a one-line message).
from mmpose_plus.engine.checks import CheckpointMismatchError

__all__ = [
    'HEAD_ROOTS', 'LAYOUTS', 'CheckpointMismatchError', 'KeyReport',
    'detect_pose_layout', 'convert_pose_state_dict', 'check_state_dict',
    'load_pose_checkpoint'
]

# First key components that belong to a head in the official layouts.
HEAD_ROOTS = ('deconv_layers', 'conv_layers', 'final_layer', 'final_layers')
LAYOUTS = ('official', 'mmpose0.x', 'mmpose1.x')

_OLD_FINAL = re.compile(r'^head\.final_layer\.(\d+)\.(.+)$')
_BN_COUNTER = 'num_batches_tracked'


@dataclass
class KeyReport:
    """Result of matching a converted state dict against a model.

    Attributes:
        layout (str): Detected source layout (see :data:`LAYOUTS`).
        matched (int): Keys present in both with equal shapes.
        missing (list[str]): Model keys absent from the checkpoint.
        unexpected (list[str]): Checkpoint keys the model does not have.
        shape_mismatch (list[tuple]): ``(key, checkpoint shape, model
            shape)``.
        filled (list[str]): ``num_batches_tracked`` buffers filled with 0.
    """

    layout: str = 'unknown'
    matched: int = 0
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatch: List[Tuple[str, tuple, tuple]] = field(
        default_factory=list)
    filled: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatch)

    def __str__(self) -> str:
        lines = [f'checkpoint layout: {self.layout}; {self.matched} keys '
                 'matched']

        def section(title: str, items: List[str]) -> None:
            if not items:
                return
            shown = items[:20]
            lines.append(f'{title} ({len(items)}):')
            lines.extend(f'  {item}' for item in shown)
            if len(items) > len(shown):
                lines.append(f'  ... and {len(items) - len(shown)} more')

        section('missing in checkpoint', self.missing)
        section('unexpected in checkpoint', self.unexpected)
        section('shape mismatch (checkpoint vs model)', [
            f'{k}: {tuple(a)} vs {tuple(b)}'
            for k, a, b in self.shape_mismatch
        ])
        if self.filled:
            lines.append(f'filled {len(self.filled)} BatchNorm '
                         f'{_BN_COUNTER} buffers with 0')
        return '\n'.join(lines)


def _unwrap(checkpoint: Any) -> Dict[str, torch.Tensor]:
    if not isinstance(checkpoint, Mapping):
        raise TypeError('expected a checkpoint dict or state dict, got '
                        f'{type(checkpoint).__name__}')
    for key in ('state_dict', 'model'):
        inner = checkpoint.get(key)
        if isinstance(inner, Mapping):
            return dict(inner)
    return dict(checkpoint)


def _strip_module(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    if state_dict and all(k.startswith('module.') for k in state_dict):
        return {k[len('module.'):]: v for k, v in state_dict.items()}
    return state_dict


def detect_pose_layout(state_dict: Mapping[str, Any]) -> str:
    """``'mmpose0.x'`` (``keypoint_head.``), ``'mmpose1.x'`` (``backbone.`` /
    ``head.``; also ours) or ``'official'`` (no prefix).

    Example:
        >>> detect_pose_layout({'keypoint_head.final_layer.bias': 0})
        'mmpose0.x'
    """
    keys = list(_strip_module(dict(state_dict)))
    if any(k.startswith('keypoint_head.') for k in keys):
        return 'mmpose0.x'
    if any(k.startswith(('backbone.', 'head.')) for k in keys):
        return 'mmpose1.x'
    return 'official'


def _rename_old_final_layer(state_dict: Dict[str, Any]) -> Dict[str, Any]:
    """mmpose 0.x ``head.final_layer.<n>.*`` -> ``head.conv_layers.<n>.*``
    for the extra convs and ``head.final_layer.*`` for the last conv."""
    indices = [
        int(m.group(1)) for m in map(_OLD_FINAL.match, state_dict) if m
    ]
    if not indices:
        return state_dict
    last = max(indices)
    out = OrderedDict()
    for key, value in state_dict.items():
        m = _OLD_FINAL.match(key)
        if m is None:
            out[key] = value
        elif int(m.group(1)) == last:
            out[f'head.final_layer.{m.group(2)}'] = value
        else:
            out[f'head.conv_layers.{m.group(1)}.{m.group(2)}'] = value
    return out


def convert_pose_state_dict(
        checkpoint: Mapping[str, Any],
        layout: str = 'auto') -> Tuple['OrderedDict[str, Any]', str]:
    """Rename a released checkpoint to our ``backbone.* / head.*`` layout.

    Args:
        checkpoint (dict): A loaded checkpoint (``{'state_dict': ...}``,
            ``{'model': ...}`` or a bare state dict).
        layout (str): ``'auto'`` or one of :data:`LAYOUTS`.

    Returns:
        tuple: the converted ``OrderedDict`` and the layout it came from.
    """
    state_dict = _strip_module(_unwrap(checkpoint))
    if layout == 'auto':
        layout = detect_pose_layout(state_dict)
    if layout not in LAYOUTS:
        raise ValueError(f'unknown checkpoint layout {layout!r}; choose '
                         f"'auto' or one of {LAYOUTS}")
    out = OrderedDict()
    for key, value in state_dict.items():
        if layout == 'official':
            root = key.split('.', 1)[0]
            key = ('head.' if root in HEAD_ROOTS else 'backbone.') + key
        elif layout == 'mmpose0.x' and key.startswith('keypoint_head.'):
            key = 'head.' + key[len('keypoint_head.'):]
        out[key] = value
    if layout != 'mmpose1.x':
        out = _rename_old_final_layer(out)
    return out, layout


def check_state_dict(model: Union[nn.Module, Mapping[str, torch.Tensor]],
                     state_dict: Mapping[str, Any],
                     layout: str = 'unknown') -> KeyReport:
    """Compare names and shapes of ``state_dict`` with ``model``'s.

    ``num_batches_tracked`` keys missing from ``state_dict`` are not
    reported as missing (they are filled by :func:`load_pose_checkpoint`)
    but as ``filled``.
    """
    expected = model.state_dict() if isinstance(model, nn.Module) \
        else dict(model)
    report = KeyReport(layout=layout)
    for key, value in expected.items():
        if key not in state_dict:
            if key.endswith(_BN_COUNTER):
                report.filled.append(key)
            else:
                report.missing.append(key)
            continue
        got = tuple(getattr(state_dict[key], 'shape', ()))
        if got != tuple(value.shape):
            report.shape_mismatch.append((key, got, tuple(value.shape)))
        else:
            report.matched += 1
    report.unexpected = [k for k in state_dict if k not in expected]
    return report


def load_pose_checkpoint(model: nn.Module,
                         checkpoint: Union[str, Mapping[str, Any]],
                         strict: bool = True,
                         submodule: Optional[str] = None,
                         map_location: Union[str, torch.device] = 'cpu',
                         logger: Optional[logging.Logger] = None
                         ) -> KeyReport:
    """Load a SimpleBaseline / HRNet / HigherHRNet checkpoint (official,
    mmpose 0.x or 1.x layout) into ``model``.

    Args:
        model (nn.Module): An estimator with ``backbone`` and ``head``
            submodules, or (with ``submodule``) the submodule itself.
        checkpoint (str | dict): A file path (loaded as a trusted pickle:
            only load files you trust) or an already loaded checkpoint.
        strict (bool): Raise :class:`CheckpointMismatchError` on any
            missing, unexpected or mis-shaped key. When False, only the
            matching keys are loaded. Defaults to True.
        submodule (str, optional): Load only the keys under this prefix
            (e.g. ``'backbone'``) into ``model``, which is that submodule;
            other keys are ignored. Defaults to None.
        map_location: Passed to :func:`torch.load`. Defaults to ``'cpu'``.
        logger (logging.Logger, optional): Where to log the report.

    Returns:
        KeyReport: what matched, was missing, unexpected or filled.

    Example::

        # estimator: backbone HRNet(arch='w32'), head HeatmapHead(32, 17,
        # deconv_out_channels=None); the file is the official release.
        report = load_pose_checkpoint(estimator, 'pose_hrnet_w32_256x192.pth')
        assert report.ok and report.layout == 'official'
    """
    if isinstance(checkpoint, str):
        checkpoint = load_trusted_checkpoint(checkpoint, map_location)
    state_dict, layout = convert_pose_state_dict(checkpoint)
    if submodule:
        prefix = submodule.rstrip('.') + '.'
        state_dict = OrderedDict((k[len(prefix):], v)
                                 for k, v in state_dict.items()
                                 if k.startswith(prefix))
    report = check_state_dict(model, state_dict, layout)
    if strict and not report.ok:
        raise CheckpointMismatchError(
            f'checkpoint does not match {type(model).__name__}:\n{report}')
    expected = model.state_dict()
    to_load = OrderedDict(
        (k, v) for k, v in state_dict.items()
        if k in expected and tuple(v.shape) == tuple(expected[k].shape))
    for key in report.filled:
        to_load[key] = torch.zeros_like(expected[key])
    # Non-strict: the report already names everything that was skipped.
    model.load_state_dict(to_load, strict=False)
    if logger is not None:
        logger.info(str(report))
    return report
