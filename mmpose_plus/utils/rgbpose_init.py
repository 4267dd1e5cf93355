"""The initial RGBPoseConv3D checkpoint, merged from two separately trained
SlowOnly recognisers (an RGB one and a pose-heatmap one).

The PoseC3D recipe fine-tunes RGBPoseConv3D from such a merge instead of
from scratch. The merge is pure renaming plus zero-padding:

* ``backbone.*`` of the RGB model becomes ``backbone.rgb_path.*``, that of
  the pose model ``backbone.pose_path.*``;
* ``cls_head.fc_cls.*`` becomes ``cls_head.fc_rgb.*`` / ``cls_head.fc_pose.*``;
* the first block of every stage that receives a lateral connection reads
  more input channels in RGBPoseConv3D (its own features concatenated with
  the lateral's, in that order: ``torch.cat((x, lateral), dim=1)``). Its
  ``conv1`` and ``downsample`` weights, ``(O, C, kt, kh, kw)`` in the source,
  become ``(O, C + E, kt, kh, kw)``: the source weights on the first ``C``
  input channels, zeros on the ``E`` lateral channels. With the default
  architecture these are the eight weights
  ``rgb_path.layer{3,4}.0.{conv1,downsample}.conv.weight`` and
  ``pose_path.layer{2,3}.0.{conv1,downsample}.conv.weight``;
* the laterals themselves (``*_lateral.*``) are not in the result: they keep
  the fresh initialisation of the model that loads it.

Because the lateral input channels see zero weights, each pathway of the
merged model computes exactly what its source backbone computes, whatever
the laterals output; training then learns to use them.

Example:
    >>> merged = merge_rgbpose_init(rgb_ckpt['state_dict'],
    ...                             pose_ckpt['state_dict'])
    >>> merged['backbone.rgb_path.layer3.0.conv1.conv.weight'].shape
    torch.Size([256, 640, 3, 1, 1])
"""
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn

from mmpose_plus.engine.checkpoint import get_state_dict
from mmpose_plus.engine.checks import CheckpointMismatchError

__all__ = [
    'STREAMS', 'MergeReport', 'default_widened_keys', 'merge_rgbpose_init',
    'merge_rgbpose_init_with_report', 'is_lateral_key'
]

STREAMS = ('rgb', 'pose')

# Lateral settings of the default RGBPoseConv3D (speed/channel ratio 4):
# which stages receive a lateral, and how its channel count follows from
# the stage's own input channels C (see ResNet3dPathway).
_DEFAULT_LATERALS = {
    # pose -> rgb conv laterals: E = C * lateral_infl // channel_ratio
    'rgb': dict(activate=(0, 0, 1, 1), inverse=False, infl=1, ratio=4),
    # rgb -> pose deconv laterals: E = C * channel_ratio // lateral_infl
    'pose': dict(activate=(0, 1, 1), inverse=True, infl=16, ratio=4),
}
_WIDENED_SUFFIXES = ('0.conv1.conv.weight', '0.downsample.conv.weight')
_LATERAL = re.compile(r'(^|\.)(conv1|layer\d+)_lateral\.')

Shape = Tuple[int, ...]
StateDict = Dict[str, torch.Tensor]


@dataclass
class MergeReport:
    """What :func:`merge_rgbpose_init_with_report` did.

    Attributes:
        copied (int): Tensors copied unchanged (after renaming).
        padded (list[tuple]): ``(key, source shape, merged shape)`` of the
            zero-padded weights.
        ignored (list[str]): Source keys that belong to neither the backbone
            nor the classifier (prefixed ``rgb:`` / ``pose:``).
        laterals (list[str]): Keys of ``target_model`` left to its
            initialisation (empty without a target model).
    """

    copied: int = 0
    padded: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)
    laterals: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'copied {self.copied} tensors, zero-padded '
                 f'{len(self.padded)} widened weights:']
        lines += [f'  {k}: {list(a)} -> {list(b)}' for k, a, b in self.padded]
        if self.laterals:
            lines.append(f'{len(self.laterals)} lateral tensors keep their '
                         'fresh initialisation (not in the merged file)')
        if self.ignored:
            lines.append(f'ignored {len(self.ignored)} source keys: '
                         f'{self.ignored[:6]}')
        return '\n'.join(lines)


def is_lateral_key(key: str) -> bool:
    """Whether ``key`` belongs to a lateral connection of RGBPoseConv3D.

    Example:
        >>> is_lateral_key('backbone.pose_path.layer1_lateral.bn.weight')
        True
    """
    return _LATERAL.search(key) is not None


def _lateral_extra(stream: str, channels: int) -> int:
    cfg = _DEFAULT_LATERALS[stream]
    if cfg['inverse']:
        return channels * cfg['ratio'] // cfg['infl']
    return channels * cfg['infl'] // cfg['ratio']


def default_widened_keys(stream: str) -> List[str]:
    """Source (SlowOnly) keys that the default RGBPoseConv3D widens.

    Example:
        >>> default_widened_keys('pose')[:2]
        ['backbone.layer2.0.conv1.conv.weight', \
'backbone.layer2.0.downsample.conv.weight']
    """
    keys = []
    for stage, active in enumerate(_DEFAULT_LATERALS[stream]['activate']):
        if active:
            keys += [
                f'backbone.layer{stage + 1}.{suffix}'
                for suffix in _WIDENED_SUFFIXES
            ]
    return keys


def _source_state(source: Any, stream: str) -> StateDict:
    """Unwrap a checkpoint, drop a DDP ``module.`` prefix and check that it
    is a single-stream recogniser's state dict."""
    try:
        state = get_state_dict(source)
    except TypeError as err:
        raise TypeError(f'{stream} source: {err}') from None
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    keys = list(state)
    if any(k.startswith(('backbone.rgb_path.', 'backbone.pose_path.'))
           for k in keys):
        raise ValueError(
            f'{stream} source is already an RGBPoseConv3D checkpoint '
            '(it has backbone.rgb_path.* / backbone.pose_path.* keys); pass '
            f'the {stream}-only SlowOnly recogniser checkpoint instead')
    if not any(k.startswith('backbone.') for k in keys):
        raise ValueError(
            f'{stream} source has no backbone.* keys (found e.g. '
            f'{keys[:3]}); expected the state dict of a recogniser '
            '(backbone + cls_head), e.g. a checkpoint saved by tools/train.py')
    return state


def _target_shapes(target_model: Union[nn.Module, Mapping[str, Any]]
                   ) -> Dict[str, Shape]:
    state = target_model.state_dict() if isinstance(target_model, nn.Module) \
        else target_model
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    if shapes and not any(k.startswith('backbone.') for k in shapes):
        # A bare RGBPoseConv3D backbone: compare at recogniser level.
        shapes = {f'backbone.{k}': s for k, s in shapes.items()}
    return shapes


def _pad_input_channels(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """Zero-extend dim 1 of ``weight`` to ``channels``; the source weights
    stay on the first input channels (a stage's own features come first in
    the concatenation, the lateral's after them)."""
    padded = weight.new_zeros((weight.shape[0], channels) +
                              tuple(weight.shape[2:]))
    padded[:, :weight.shape[1]] = weight
    return padded


def merge_rgbpose_init_with_report(
        rgb_state: Any,
        pose_state: Any,
        target_model: Optional[Union[nn.Module, Mapping[str, Any]]] = None
) -> Tuple['OrderedDict[str, torch.Tensor]', MergeReport]:
    """:func:`merge_rgbpose_init` that also returns a :class:`MergeReport`.
    """
    report = MergeReport()
    target = None if target_model is None else _target_shapes(target_model)
    merged: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for stream, source in zip(STREAMS, (rgb_state, pose_state)):
        state = _source_state(source, stream)
        widened = set(default_widened_keys(stream))
        if target is None:
            absent = sorted(widened - set(state))
            if absent:
                raise ValueError(
                    f'{stream} source lacks {absent}: it does not have the '
                    f'stages of the default RGBPoseConv3D {stream} pathway '
                    '(were the two checkpoints swapped?). For another '
                    'architecture pass target_model / --config.')
        for key, value in state.items():
            if key.startswith('backbone.'):
                new_key = f'backbone.{stream}_path.{key[len("backbone."):]}'
            elif key.startswith('cls_head.fc_cls.'):
                new_key = f'cls_head.fc_{stream}.' + key[len(
                    'cls_head.fc_cls.'):]
            else:
                report.ignored.append(f'{stream}:{key}')
                continue
            if target is None:
                wanted = None
                if key in widened:
                    channels = value.shape[1]
                    wanted = (value.shape[0],
                              channels + _lateral_extra(stream, channels)) + \
                        tuple(value.shape[2:])
            else:
                wanted = target.get(new_key)
                if wanted is None or wanted == tuple(value.shape):
                    wanted = None
                elif not (len(wanted) == value.dim() >= 2
                          and wanted[0] == value.shape[0]
                          and wanted[2:] == tuple(value.shape[2:])
                          and wanted[1] > value.shape[1]
                          and new_key.endswith(_WIDENED_SUFFIXES)):
                    # Left for the shape check below, which names it.
                    wanted = None
            if wanted is not None:
                report.padded.append((new_key, tuple(value.shape), wanted))
                value = _pad_input_channels(value, wanted[1])
            else:
                report.copied += 1
            merged[new_key] = value
    if target is not None:
        _check_against_target(merged, target, report)
    return merged, report


def _check_against_target(merged: Mapping[str, torch.Tensor],
                          target: Mapping[str, Shape],
                          report: MergeReport) -> None:
    """Every target tensor but the laterals must come from the sources,
    with the target's shape; nothing else may be left over."""
    # BatchNorm fills a missing num_batches_tracked by itself.
    report.laterals = [
        k for k in target
        if is_lateral_key(k) and not k.endswith('num_batches_tracked')
    ]
    missing = [
        k for k in target if k not in merged and not is_lateral_key(k)
    ]
    unexpected = [k for k in merged if k not in target]
    mismatched = [(k, tuple(v.shape), target[k]) for k, v in merged.items()
                  if k in target and tuple(v.shape) != target[k]]
    if not (missing or unexpected or mismatched):
        return
    lines = ['the merged checkpoint does not fit the target RGBPoseConv3D:']
    if mismatched:
        lines.append(f'  {len(mismatched)} weights have other shapes, e.g. ' +
                     '; '.join(f'{k}: merged {list(a)} vs model {list(b)}'
                               for k, a, b in mismatched[:4]))
    if missing:
        lines.append(f'  {len(missing)} model weights are in neither source, '
                     f'e.g. {missing[:4]}')
    if unexpected:
        lines.append(f'  {len(unexpected)} source weights have no place in '
                     f'the model, e.g. {unexpected[:4]}')
    lines.append('Check that the RGB and pose SlowOnly configs match the '
                 'pathways of the RGBPoseConv3D config (depth, stage_blocks, '
                 'base_channels, in_channels, num_classes) and that the two '
                 'checkpoints are not swapped.')
    raise CheckpointMismatchError('\n'.join(lines))


def merge_rgbpose_init(
    rgb_state: Any,
    pose_state: Any,
    target_model: Optional[Union[nn.Module, Mapping[str, Any]]] = None
) -> 'OrderedDict[str, torch.Tensor]':
    """Merge an RGB and a pose SlowOnly recogniser into the initial state
    dict of an RGBPoseConv3D recogniser.

    Args:
        rgb_state: State dict (or loaded checkpoint: ``{'state_dict': ...}``)
            of the RGB SlowOnly recogniser (``backbone.*``,
            ``cls_head.fc_cls.*``).
        pose_state: Same for the pose-heatmap SlowOnly recogniser.
        target_model (nn.Module | dict, optional): The RGBPoseConv3D
            recogniser (or backbone, or its state dict) the result is meant
            for. Its shapes decide which weights are padded and by how much,
            and every one of its tensors except the laterals must then come
            out of the merge with its shape (else
            :class:`~mmpose_plus.engine.checks.CheckpointMismatchError`).
            Without it the default RGBPoseConv3D lateral layout is assumed
            (laterals into RGB stages 3, 4 and pose stages 2, 3; any depth
            and width).

    Returns:
        OrderedDict: ``backbone.rgb_path.*``, ``backbone.pose_path.*``,
        ``cls_head.fc_rgb.*``, ``cls_head.fc_pose.*``; no lateral keys.
        Source keys outside the backbone and ``fc_cls`` are dropped with a
        warning.

    Example:
        >>> rgb = MODELS.build(rgb_slowonly_cfg).state_dict()
        >>> pose = MODELS.build(pose_slowonly_cfg).state_dict()
        >>> sd = merge_rgbpose_init(rgb, pose)
        >>> sd['backbone.pose_path.layer2.0.conv1.conv.weight'].shape
        torch.Size([64, 160, 3, 1, 1])
    """
    merged, report = merge_rgbpose_init_with_report(rgb_state, pose_state,
                                                    target_model)
    if report.ignored:
        warnings.warn(f'merge_rgbpose_init dropped {len(report.ignored)} '
                      'source keys that are neither backbone nor fc_cls: '
                      f'{report.ignored[:6]}')
    return merged
