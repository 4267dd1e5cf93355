"""Per-stage output shapes, parameter counts and FLOPs of a video model.

The shape walk registers forward hooks on the stem and stage modules
(``conv1``, ``maxpool``, ``pool2``, ``layerN``, ``layerN_lateral``) of every
pathway of the backbone, runs one forward pass, and records what each
executed module returned. A pathway is a child module that has its own
``conv1`` and ``layer1`` (``rgb_path`` / ``pose_path`` of RGBPoseConv3D,
``slow_path`` / ``fast_path`` of SlowFast); a single-stream backbone is its
own (unnamed) pathway.

Running on ``device='meta'`` infers the shapes without computing anything,
which makes the 224x224 walkthrough instant.

Example:
    >>> from mmpose_plus.utils.model_summary import summarize_model
    >>> s = summarize_model(dict(type='RGBPoseConv3D'), device='meta')
    >>> s.shape_of('rgb_path', 'layer2')
    (4, 512, 8, 28, 28)
    >>> s.outputs
    {'x_rgb': (4, 2048, 8, 7, 7), 'x_pose': (4, 512, 32, 7, 7)}
"""
import inspect
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

__all__ = [
    'StageShape', 'ModelSummary', 'parse_shapes', 'default_input_shapes',
    'find_pathways', 'build_model', 'summarize_model', 'count_flops',
    'format_summary'
]

Shape = Tuple[int, ...]

# Stem and stage modules whose outputs we report.
_STAGE_NAME = re.compile(r'^(conv1|maxpool|pool1|pool2|layer\d+(_lateral)?)$')

# The walkthrough's inputs (reference shapes of RGBPoseConv3D); single
# stream backbones get the same batch and the clip their recipe uses.
DEFAULT_BATCH = 4
RGB_SHAPE = (3, 8, 224, 224)
POSE_FRAMES, POSE_SIZE = 32, 56
SKELETON_FRAMES = 48


@dataclass
class StageShape:
    """Output shape of one stage module of one pathway ('' = the whole
    backbone is the pathway)."""
    pathway: str
    module: str
    shape: Shape


@dataclass
class ModelSummary:
    """Everything ``print_shapes`` reports."""
    model_type: str
    backbone_type: str
    inputs: Dict[str, Shape]
    stages: List[StageShape]
    outputs: Dict[str, Shape]
    params_total: int
    params_trainable: int
    params_backbone: int
    flops: Optional[float] = None
    flops_note: str = ''

    def shape_of(self, pathway: str, module: str) -> Shape:
        """Recorded output shape of ``pathway.module``."""
        for rec in self.stages:
            if rec.pathway == pathway and rec.module == module:
                return rec.shape
        raise KeyError(f'no recorded output for {pathway}.{module}; recorded:'
                       f' {[f"{r.pathway}.{r.module}" for r in self.stages]}')


def parse_shapes(items: Sequence[str]) -> Dict[str, Shape]:
    """Parse ``['imgs=4,3,8,224,224', 'heatmap_imgs=4,17,32,56,56']``.

    Example:
        >>> parse_shapes(['imgs=1,3,8,64,64'])
        {'imgs': (1, 3, 8, 64, 64)}
    """
    shapes = {}
    for item in items:
        name, sep, dims = item.partition('=')
        try:
            if not sep or not name:
                raise ValueError
            shape = tuple(int(d) for d in dims.replace('x', ',').split(','))
            if not shape or min(shape) <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f'bad --shape item {item!r}: expected NAME=D1,D2,... with '
                'positive integers, e.g. imgs=4,3,8,224,224') from None
        shapes[name.strip()] = shape
    return shapes


def _backbone_of(model: nn.Module) -> nn.Module:
    backbone = getattr(model, 'backbone', None)
    return model if backbone is None else backbone


def _forward_params(module: nn.Module) -> List[str]:
    params = inspect.signature(module.forward).parameters.values()
    return [
        p.name for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def find_pathways(backbone: nn.Module) -> Dict[str, nn.Module]:
    """Children that are pathways of their own, or ``{'': backbone}``."""
    paths = {
        name: child
        for name, child in backbone.named_children()
        if hasattr(child, 'conv1') and hasattr(child, 'layer1')
    }
    return paths or {'': backbone}


def default_input_shapes(model: nn.Module,
                         batch: int = DEFAULT_BATCH) -> Dict[str, Shape]:
    """Input shapes that fit the backbone of ``model``.

    A backbone whose ``forward`` takes ``imgs`` and ``heatmap_imgs`` gets the
    RGBPose walkthrough inputs; a single-input backbone gets an RGB clip
    (3 input channels) or a PoseC3D heatmap volume (any other count).
    """
    backbone = _backbone_of(model)
    names = _forward_params(backbone)
    if 'imgs' in names and 'heatmap_imgs' in names:
        pose_in = getattr(getattr(backbone, 'pose_path', None), 'in_channels',
                          17)
        return dict(
            imgs=(batch, ) + RGB_SHAPE,
            heatmap_imgs=(batch, pose_in, POSE_FRAMES, POSE_SIZE, POSE_SIZE))
    in_channels = getattr(backbone, 'in_channels', 3)
    if in_channels == 3:
        return dict(imgs=(batch, ) + RGB_SHAPE)
    return dict(heatmap_imgs=(batch, in_channels, SKELETON_FRAMES, POSE_SIZE,
                              POSE_SIZE))


def _make_inputs(backbone: nn.Module, shapes: Mapping[str, Shape],
                 device: Union[str, torch.device]) -> Tuple[tuple, dict]:
    """Positional (single-input backbone) or keyword tensors for
    ``backbone.forward``."""
    tensors = {
        name: torch.rand(shape, device=device)
        for name, shape in shapes.items()
    }
    sig = inspect.signature(backbone.forward).parameters
    params = _forward_params(backbone)
    backbone_name = type(backbone).__name__
    if len(params) == 1:
        if len(tensors) != 1:
            raise ValueError(f'{backbone_name}.forward takes one input, got '
                             f'shapes for {list(tensors)}')
        return (next(iter(tensors.values())), ), {}
    unknown = [n for n in tensors if n not in params]
    missing = [
        n for n in params
        if n not in tensors and sig[n].default is inspect.Parameter.empty
    ]
    if unknown or missing:
        raise ValueError(f'{backbone_name}.forward takes {params}; unknown '
                         f'input names {unknown}, missing {missing}')
    return (), tensors


def build_model(model_or_cfg: Union[nn.Module, Mapping, str],
                default_scope: str = 'mmpose_plus') -> nn.Module:
    """Build a model from a module, a model dict or a config file path.

    A config file's ``model`` may be a recognizer or a bare backbone; its
    ``default_scope`` (else ``default_scope``) picks the registry scope.
    """
    if isinstance(model_or_cfg, nn.Module):
        return model_or_cfg
    import mmpose_plus  # noqa: F401  (registers our modules)
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmpose_plus.registry import MODELS
    if isinstance(model_or_cfg, str):
        cfg = Config.fromfile(model_or_cfg)
        if 'model' not in cfg:
            raise KeyError(f'{model_or_cfg} defines no `model`')
        model_cfg = cfg.model
        default_scope = cfg.get('default_scope', default_scope)
    else:
        model_cfg = dict(model_or_cfg)
    if 'type' not in model_cfg:
        raise KeyError(f'model config has no `type`: {dict(model_cfg)}')
    with DefaultScope.overwrite_default_scope(default_scope):
        return MODELS.build(model_cfg)


def _record_stage_shapes(backbone: nn.Module, args: tuple,
                         kwargs: dict) -> Tuple[List[StageShape], object]:
    order: List[Tuple[int, StageShape]] = []
    handles = []
    pathways = find_pathways(backbone)
    path_rank = {name: i for i, name in enumerate(pathways)}

    def hook_for(pathway: str, module_name: str):

        def hook(_module, _inputs, output):
            if isinstance(output, torch.Tensor):
                order.append((len(order),
                              StageShape(pathway, module_name,
                                         tuple(output.shape))))

        return hook

    for path_name, path in pathways.items():
        for name, child in path.named_children():
            if _STAGE_NAME.match(name):
                handles.append(
                    child.register_forward_hook(hook_for(path_name, name)))
    try:
        with torch.no_grad():
            out = backbone(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    # Group by pathway (declaration order), then execution order within it.
    order.sort(key=lambda item: (path_rank[item[1].pathway], item[0]))
    return [rec for _, rec in order], out


def _name_outputs(out, pathways: Sequence[str]) -> Dict[str, Shape]:
    if isinstance(out, torch.Tensor):
        return {'out': tuple(out.shape)}
    outs = list(out)
    names = [p for p in pathways if p]
    if len(names) == len(outs):
        keys = ['x_' + re.sub(r'_?path(way)?$', '', n) for n in names]
    else:
        keys = [f'out{i}' for i in range(len(outs))]
    return {k: tuple(o.shape) for k, o in zip(keys, outs)}


def count_flops(backbone: nn.Module,
                shapes: Mapping[str, Shape]) -> Tuple[Optional[float], str]:
    """FLOPs (one multiply-add = 1, fvcore/mmengine convention) of one
    backbone forward at batch 1, or ``(None, reason)`` when the analysis
    fails (e.g. an op the tracer cannot handle)."""
    try:
        from mmengine.analysis import FlopAnalyzer
        one = {name: (1, ) + tuple(shape[1:])
               for name, shape in shapes.items()}
        args, kwargs = _make_inputs(backbone, one, 'cpu')
        params = _forward_params(backbone)
        inputs = args or tuple(kwargs[p] for p in params if p in kwargs)
        was_training = backbone.training
        backbone.eval()
        try:
            analyzer = FlopAnalyzer(backbone, inputs)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            total = float(analyzer.total())
        finally:
            backbone.train(was_training)
        return total, 'batch 1'
    except Exception as exc:  # the analysis is best-effort by design
        return None, f'FLOP analysis failed: {type(exc).__name__}: {exc}'


def summarize_model(model_or_cfg: Union[nn.Module, Mapping, str],
                    shapes: Optional[Mapping[str, Shape]] = None,
                    device: Union[str, torch.device] = 'cpu',
                    with_flops: bool = False) -> ModelSummary:
    """Build (if needed) and walk a model; see the module docstring.

    Args:
        model_or_cfg: A module, a model config dict, or a config file path.
        shapes: Input shapes by ``forward`` argument name of the backbone
            (``imgs``, ``heatmap_imgs``; any single name for a single-input
            backbone). Defaults to :func:`default_input_shapes`.
        device: ``'cpu'``, or ``'meta'`` to infer shapes without computing
            (this moves the backbone to the meta device: its weights are
            gone afterwards).
        with_flops: Also count FLOPs (on CPU, batch 1).
    """
    model = build_model(model_or_cfg)
    backbone = _backbone_of(model)
    if shapes is None:
        shapes = default_input_shapes(model)
    shapes = {k: tuple(v) for k, v in shapes.items()}

    params_total = sum(p.numel() for p in model.parameters())
    params_trainable = sum(p.numel() for p in model.parameters()
                           if p.requires_grad)
    params_backbone = sum(p.numel() for p in backbone.parameters())
    flops, note = (None, 'not computed')
    if with_flops:
        flops, note = count_flops(backbone, shapes)

    was_training = backbone.training
    backbone.eval()
    if str(device) != 'cpu':
        backbone.to(device)
    try:
        args, kwargs = _make_inputs(backbone, shapes, device)
        stages, out = _record_stage_shapes(backbone, args, kwargs)
    finally:
        backbone.train(was_training)
    return ModelSummary(
        model_type=type(model).__name__,
        backbone_type=type(backbone).__name__,
        inputs=dict(shapes),
        stages=stages,
        outputs=_name_outputs(out, list(find_pathways(backbone))),
        params_total=params_total,
        params_trainable=params_trainable,
        params_backbone=params_backbone,
        flops=flops,
        flops_note=note)


def _fmt_shape(shape: Shape) -> str:
    return '(' + ', '.join(str(d) for d in shape) + ')'


def format_summary(summary: ModelSummary) -> str:
    """Human-readable report, one stage per line."""
    head = summary.model_type
    if summary.backbone_type != summary.model_type:
        head += f' (backbone {summary.backbone_type})'
    lines = [
        f'model: {head}', 'inputs: ' + ', '.join(
            f'{k} {_fmt_shape(v)}' for k, v in summary.inputs.items()), ''
    ]
    width = max([len(r.pathway) for r in summary.stages] + [7])
    lines.append(f'{"pathway":<{width}}  {"module":<16}  output')
    for rec in summary.stages:
        lines.append(f'{rec.pathway or "-":<{width}}  {rec.module:<16}  '
                     f'{_fmt_shape(rec.shape)}')
    lines.append('')
    lines.append('backbone outputs: ' + ', '.join(
        f'{k} {_fmt_shape(v)}' for k, v in summary.outputs.items()))
    lines.append(
        f'parameters: {summary.params_total:,} total '
        f'({summary.params_total / 1e6:.2f}M), '
        f'{summary.params_trainable:,} trainable, '
        f'{summary.params_backbone:,} in the backbone')
    if summary.flops is not None:
        lines.append(f'FLOPs ({summary.flops_note}, backbone): '
                     f'{summary.flops / 1e9:.2f} G ({summary.flops:,.0f})')
    else:
        lines.append(f'FLOPs: {summary.flops_note}')
    return '\n'.join(lines)
