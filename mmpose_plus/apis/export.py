"""ONNX export of skeleton action recognisers and 2D pose networks.

Only the network is exported, without the data-sample plumbing, the data
preprocessor or any decoding:

* **recogniser** (``Recognizer3D`` + ``ResNet3dSlowOnly`` + ``I3DHead``,
  i.e. PoseC3D): input ``heatmaps`` ``(N, C, T, H, W)``, a heatmap volume
  as the test pipeline produces it (``FormatShape('NCTHW_Heatmap')``, one
  clip per batch item); output ``cls_score`` ``(N, num_classes)``, the
  head's logits (``softmax=True`` appends a softmax). An RGB recogniser
  (3 input channels) names its input ``imgs``. RGBPoseConv3D
  recognisers take ``imgs`` and ``heatmap_imgs`` (normalised as by their
  data preprocessor) and give ``rgb_score`` and ``pose_score``.
* **pose network** (backbone, optional neck, head; top-down HRNet /
  SimpleBaseline or bottom-up HigherHRNet): input ``image``
  ``(N, 3, H, W)``, normalised as by the data preprocessor (mean / std,
  RGB order); output ``heatmaps`` (top-down) or one output per resolution
  for HigherHRNet, named by stride: ``heatmaps_tags_s4``
  ``(N, K + K, H/4, W/4)`` and ``heatmaps_s2`` ``(N, K, H/2, W/2)``.

The batch axis is dynamic (and, with ``dynamic_hw``, the image size of
pose networks). Export uses the TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``): it needs only the ``onnx``
package, while the torch.export-based one also needs ``onnxscript``.

Example:
    >>> model = build_export_model(
    ...     'configs/tiny/slowonly_tiny_tinyntu-keypoint.py')
    >>> report = export_onnx(model, 'slowonly.onnx')  # doctest: +SKIP
    >>> report.input_shapes, report.output_shapes  # doctest: +SKIP
    ({'heatmaps': (1, 17, 16, 16, 16)}, {'cls_score': (1, 5)})
"""
import copy
import inspect
import os
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

__all__ = [
    'UntrainedWeightsWarning', 'RecognizerExportModel', 'PoseNetExportModel',
    'ExportReport', 'load_export_config', 'build_export_model',
    'infer_input_shapes', 'export_onnx', 'verify_onnx'
]

Shape = Tuple[int, ...]
ConfigLike = Union[str, Config, Mapping]

DEFAULT_OPSET = 17
# Defaults when the config's pipeline does not say (the PoseC3D / HRNet /
# HigherHRNet recipes).
_HEATMAP_DEFAULT = dict(clip_len=48, size=(56, 56))
_RGB_DEFAULT = dict(clip_len=8, size=(224, 224))
_TOPDOWN_DEFAULT = (256, 192)
_BOTTOMUP_DEFAULT = (512, 512)


class UntrainedWeightsWarning(UserWarning):
    """A model is exported (or run) with randomly initialised weights."""


def _forward_arity(module: nn.Module) -> int:
    params = inspect.signature(module.forward).parameters.values()
    return sum(1 for p in params
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               and p.default is p.empty)


class RecognizerExportModel(nn.Module):
    """Backbone (+ neck) + classification head of a recogniser as a plain
    tensor-in, tensor-out module.

    Args:
        recognizer (nn.Module): A recogniser with ``backbone`` and
            ``cls_head`` (and optionally ``neck``).
        softmax (bool): Append a softmax over classes. Defaults to False.

    Example:
        >>> wrapper = RecognizerExportModel(recognizer).eval(
        ...     )  # doctest: +SKIP
        >>> tuple(wrapper(torch.rand(2, 17, 16, 16, 16)).shape
        ...       )  # doctest: +SKIP
        (2, 5)
    """

    kind = 'recognizer'

    def __init__(self, recognizer: nn.Module, softmax: bool = False) -> None:
        super().__init__()
        for part in ('backbone', 'cls_head'):
            if getattr(recognizer, part, None) is None:
                raise ValueError(f'{type(recognizer).__name__} has no '
                                 f'{part}; cannot export it as a recogniser')
        self.backbone = recognizer.backbone
        self.neck = getattr(recognizer, 'neck', None)
        self.cls_head = recognizer.cls_head
        self.softmax = softmax
        self.two_stream = _forward_arity(self.backbone) == 2
        if self.two_stream:
            self.input_names = ['imgs', 'heatmap_imgs']
            self.output_names = ['rgb_score', 'pose_score']
        else:
            # An RGB recogniser (3 input channels) reads frames, not heatmaps.
            rgb = getattr(self.backbone, 'in_channels', None) == 3
            self.input_names = ['imgs' if rgb else 'heatmaps']
            self.output_names = ['cls_score']

    def forward(self, *inputs: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        feats = self.backbone(*inputs)
        if self.neck is not None:
            # mmaction2 necks return (features, auxiliary losses).
            feats = self.neck(feats)[0]
        scores = self.cls_head(feats)
        if isinstance(scores, Mapping):
            scores = tuple(scores[name] for name in ('rgb', 'pose'))
        if self.softmax:
            if isinstance(scores, tuple):
                return tuple(s.softmax(dim=-1) for s in scores)
            return scores.softmax(dim=-1)
        return scores


class PoseNetExportModel(nn.Module):
    """Backbone (+ neck) + head of a 2D pose network, returning the raw head
    output (heatmaps, or heatmaps + tags per resolution).

    Args:
        backbone (nn.Module): E.g. ``HRNet``.
        head (nn.Module): E.g. ``HeatmapHead`` or ``AEHigherResolutionHead``.
        neck (nn.Module, optional): Defaults to None.

    Example:
        >>> wrapper = PoseNetExportModel(hrnet, heatmap_head).eval(
        ...     )  # doctest: +SKIP
        >>> tuple(wrapper(torch.rand(1, 3, 64, 48)).shape)  # doctest: +SKIP
        (1, 17, 16, 12)
    """

    kind = 'pose'

    def __init__(self,
                 backbone: nn.Module,
                 head: nn.Module,
                 neck: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.input_names = ['image']
        # Named after the first forward (they depend on the strides).
        self.output_names: List[str] = []

    def forward(self, image: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        feats = self.backbone(image)
        if self.neck is not None:
            feats = self.neck(feats)
        out = self.head(feats)
        return tuple(out) if isinstance(out, (list, tuple)) else out

    def name_outputs(self, image_hw: Sequence[int],
                     outputs: Sequence[torch.Tensor]) -> List[str]:
        """``heatmaps`` for one output, else ``heatmaps[_tags]_s{stride}``
        (``_tags`` when the output carries tag maps)."""
        if len(outputs) == 1:
            return ['heatmaps']
        num_joints = getattr(self.head, 'num_joints', None)
        names = []
        for i, out in enumerate(outputs):
            stride = max(1, round(image_hw[0] / out.shape[-2]))
            tags = num_joints is not None and out.shape[1] > num_joints
            name = f'heatmaps{"_tags" if tags else ""}_s{stride}'
            names.append(name if name not in names else f'{name}_{i}')
        return names


@dataclass
class ExportReport:
    """Result of :func:`export_onnx`.

    Attributes:
        out_file (str): The written ONNX file.
        opset (int): ONNX opset.
        input_shapes (dict): Input name -> shape used for tracing.
        output_shapes (dict): Output name -> shape for those inputs.
        dynamic_axes (dict): Per input / output name, axis -> symbol.
        max_abs_diff (dict): Per output, the max ``|onnxruntime - PyTorch|``
            on fresh random inputs (of another batch size when the batch
            is dynamic); empty when not verified.
        output_scale (dict): Per output, the max ``|PyTorch|`` of those
            runs (a difference means little when the outputs are tiny, e.g.
            with untrained weights).
        verify_shapes (dict): The input shapes used for verification.
        atol (float): Tolerance of the verification.
    """

    out_file: str
    opset: int
    input_shapes: Dict[str, Shape]
    output_shapes: Dict[str, Shape]
    dynamic_axes: Dict[str, Dict[int, str]] = field(default_factory=dict)
    max_abs_diff: Dict[str, float] = field(default_factory=dict)
    output_scale: Dict[str, float] = field(default_factory=dict)
    verify_shapes: Dict[str, Shape] = field(default_factory=dict)
    atol: float = 1e-4

    @property
    def verified(self) -> bool:
        return bool(self.max_abs_diff)

    @property
    def ok(self) -> bool:
        """Verified and every output within ``atol``."""
        return self.verified and max(self.max_abs_diff.values()) <= self.atol

    def __str__(self) -> str:
        lines = [f'{self.out_file} (opset {self.opset})']
        lines += [f'  input  {n}: {list(s)}'
                  for n, s in self.input_shapes.items()]
        lines += [f'  output {n}: {list(s)}'
                  for n, s in self.output_shapes.items()]
        if self.verified:
            diffs = ', '.join(
                f'{n} {d:.2e} (outputs up to '
                f'{self.output_scale.get(n, 0.):.2e})'
                for n, d in self.max_abs_diff.items())
            shapes = ', '.join(f'{n} {list(s)}'
                               for n, s in self.verify_shapes.items())
            verdict = 'OK' if self.ok else f'FAILED (atol {self.atol:g})'
            lines.append(f'  onnxruntime vs PyTorch on {shapes}: max |diff| '
                         f'{diffs}: {verdict}')
        return '\n'.join(lines)


def load_export_config(config: ConfigLike) -> Config:
    """A :class:`Config` from a file path, a Config, a full config dict or a
    bare model dict (one with ``type``)."""
    if isinstance(config, Config):
        return config
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file "{config}" does not exist')
        return Config.fromfile(config)
    if isinstance(config, Mapping):
        config = copy.deepcopy(dict(config))
        if 'model' not in config and 'type' in config:
            config = dict(model=config)
        return Config(config)
    raise TypeError('config must be a file path, a Config or a dict, got '
                    f'{type(config).__name__}')


def _warn_untrained(what: str) -> None:
    msg = (f'{what}: no checkpoint given, so the weights are UNTRAINED '
           '(random initialisation). Its outputs are meaningless; use this '
           'only to test the export / inference path.')
    MMLogger.get_current_instance().warning(msg)
    warnings.warn(msg, UntrainedWeightsWarning, stacklevel=3)


def _load_recognizer_checkpoint(model: nn.Module, checkpoint: str) -> None:
    from mmpose_plus.engine.checkpoint import (get_state_dict,
                                               load_trusted_checkpoint)
    from mmpose_plus.engine.checks import check_checkpoint
    state = get_state_dict(load_trusted_checkpoint(checkpoint, 'cpu'))
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    for message in check_checkpoint(model, state, checkpoint, 'test'):
        MMLogger.get_current_instance().warning(message)
    model.load_state_dict(state, strict=False)


def _without_pretrained(cfg: Any) -> Any:
    """A copy of a model config without ``Pretrained`` init configs and
    ``pretrained`` paths: those are training-time initialisations (often
    URLs), not the weights to export."""
    if isinstance(cfg, Mapping):
        out = {}
        for key, value in cfg.items():
            if key == 'pretrained' and isinstance(value, str):
                value = None
            elif key == 'init_cfg' and value is not None:
                items = value if isinstance(value, (list, tuple)) else [value]
                items = [
                    i for i in items if not (isinstance(i, Mapping) and str(
                        i.get('type', '')).endswith('Pretrained'))
                ]
                value = [_without_pretrained(i) for i in items] or None
                if value is not None and len(value) == 1:
                    value = value[0]
            else:
                value = _without_pretrained(value)
            out[key] = value
        return type(cfg)(out) if isinstance(cfg, ConfigDict) else out
    if isinstance(cfg, list):
        return [_without_pretrained(v) for v in cfg]
    return cfg


class _PoseParts(nn.Module):
    """``backbone`` / ``neck`` / ``head`` holder with the key layout of the
    pose estimators, for checkpoint loading."""

    def __init__(self, model_cfg: Mapping) -> None:
        super().__init__()
        from mmpose_plus.registry import MODELS
        self.backbone = MODELS.build(copy.deepcopy(model_cfg['backbone']))
        neck = model_cfg.get('neck')
        if neck:
            self.neck = MODELS.build(copy.deepcopy(neck))
        else:
            self.neck = None
        self.head = MODELS.build(copy.deepcopy(model_cfg['head']))

    def init_weights(self) -> None:
        for part in (self.backbone, self.neck, self.head):
            if part is not None and hasattr(part, 'init_weights'):
                part.init_weights()


def build_export_model(config: ConfigLike,
                       checkpoint: Optional[str] = None,
                       device: Union[str, torch.device] = 'cpu',
                       softmax: bool = False) -> nn.Module:
    """Build the exportable network of a config.

    A model with ``cls_head`` is a recogniser (built whole, then wrapped by
    :class:`RecognizerExportModel`); a model with ``head`` is a pose network
    (its backbone / neck / head are built and wrapped by
    :class:`PoseNetExportModel`, so any estimator type works).

    Args:
        config (str | Config | dict): Config file, Config, or (model) dict.
        checkpoint (str, optional): Checkpoint file; every weight must load
            (pose checkpoints may be in the official / mmpose 0.x / 1.x
            layouts). None uses the model's ``load_official`` if the config
            sets one, else exports the initialised, untrained weights and
            emits an :class:`UntrainedWeightsWarning`. ``Pretrained`` init
            configs and ``pretrained`` paths (training-time initialisation
            of the backbone) are never loaded.
        device (str | torch.device): Where to build. Defaults to ``'cpu'``.
        softmax (bool): Recognisers only: output probabilities.

    Returns:
        nn.Module: The wrapper in eval mode, with ``input_names``,
        ``output_names`` and ``cfg`` attributes.
    """
    cfg = load_export_config(config)
    init_default_scope(cfg.get('default_scope', 'mmpose_plus'))
    import mmpose_plus  # noqa: F401  (registers the modules)
    from mmpose_plus.registry import MODELS
    model_cfg = cfg.get('model')
    if not isinstance(model_cfg, Mapping):
        raise ValueError('the config has no `model` dict to export')
    if not checkpoint and model_cfg.get('load_official'):
        # Pose estimators may name their (official) weights in the config.
        checkpoint = model_cfg['load_official']
    model_cfg = _without_pretrained(model_cfg)
    if 'cls_head' in model_cfg:
        recognizer = MODELS.build(copy.deepcopy(model_cfg))
        if checkpoint:
            _load_recognizer_checkpoint(recognizer, checkpoint)
        else:
            recognizer.init_weights()
            _warn_untrained(type(recognizer).__name__)
        wrapper = RecognizerExportModel(recognizer, softmax=softmax)
    elif 'head' in model_cfg and 'backbone' in model_cfg:
        parts = _PoseParts(model_cfg)
        if checkpoint:
            from mmpose_plus.models.utils import load_pose_checkpoint
            load_pose_checkpoint(parts, checkpoint, strict=True)
        else:
            parts.init_weights()
            _warn_untrained(model_cfg.get('type', 'pose network'))
        wrapper = PoseNetExportModel(parts.backbone, parts.head, parts.neck)
    else:
        raise ValueError(
            'cannot export this model: expected a recogniser (backbone + '
            'cls_head) or a pose network (backbone + head), got keys '
            f'{sorted(model_cfg)}')
    wrapper.cfg = cfg
    return wrapper.to(device).eval()


def _leaf_dataset(cfg: Any) -> Mapping:
    while isinstance(cfg, Mapping) and 'dataset' in cfg:
        cfg = cfg['dataset']
    return cfg if isinstance(cfg, Mapping) else {}


def _test_pipeline(cfg: Config) -> List[Mapping]:
    for key in ('test_dataloader', 'val_dataloader'):
        pipeline = _leaf_dataset(cfg.get(key) or {}).get('pipeline')
        if pipeline:
            return list(pipeline)
    return list(cfg.get('test_pipeline') or cfg.get('val_pipeline') or [])


def _pipeline_hints(cfg: Config) -> Dict[str, Any]:
    """Clip length, frame size and heatmap scaling of the test pipeline."""
    hints: Dict[str, Any] = {}
    for step in _test_pipeline(cfg):
        kind = str(step.get('type', '')).split('.')[-1]
        if kind in ('UniformSampleFrames', 'MMUniformSampleFrames',
                    'SampleFrames'):
            hints['clip_len'] = step.get('clip_len')
        elif kind == 'Resize':
            scale = step.get('scale')
            if (isinstance(scale, (tuple, list)) and len(scale) == 2
                    and min(scale) > 0 and not step.get('keep_ratio', True)):
                hints['size'] = (int(scale[1]), int(scale[0]))  # (w, h)
        elif kind == 'CenterCrop':
            crop = step.get('crop_size')
            if isinstance(crop, int):
                hints['size'] = (crop, crop)
            elif isinstance(crop, (tuple, list)):
                hints['size'] = (int(crop[1]), int(crop[0]))
        elif kind == 'GeneratePoseTarget':
            hints['scaling'] = float(step.get('scaling', 1.))
    preproc = cfg.model.get('data_preprocessor') or {}
    if str(preproc.get('type', '')).endswith('HeatmapDataPreprocessor'):
        hints['scaling'] = float(preproc.get('scaling', 1.))
    return hints


def _clip_len(value: Any, key: str, default: int) -> int:
    if isinstance(value, Mapping):
        value = value.get(key)
    return int(value) if value else default


def infer_input_shapes(model: nn.Module,
                       cfg: Optional[Config] = None,
                       batch_size: int = 1) -> Dict[str, Shape]:
    """Input shapes of an export wrapper, read from its config.

    Recognisers: channels from the backbone, frames from the test pipeline's
    frame sampler, size from its last fixed-size ``Resize`` / ``CenterCrop``
    times the ``GeneratePoseTarget`` scaling (defaults: 48 x 56 x 56
    heatmaps, 8 x 224 x 224 RGB). Pose networks: ``codec.input_size`` (w, h)
    of the model or config (defaults: 256 x 192 top-down, 512 x 512
    bottom-up).

    Example:
        >>> infer_input_shapes(wrapper, cfg)  # doctest: +SKIP
        {'heatmaps': (1, 17, 48, 56, 56)}
    """
    cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
    cfg = cfg if cfg is not None else Config(dict(model=dict()))
    if isinstance(model, PoseNetExportModel):
        codec = cfg.model.get('codec') or cfg.get('codec') or {}
        size = codec.get('input_size')
        if size:
            h, w = int(size[1]), int(size[0])
        else:
            bottom_up = hasattr(model.head, 'split_outputs')
            h, w = _BOTTOMUP_DEFAULT if bottom_up else _TOPDOWN_DEFAULT
        channels = getattr(model.backbone, 'in_channels', 3)
        return {'image': (batch_size, int(channels), h, w)}
    if not isinstance(model, RecognizerExportModel):
        raise TypeError('expected a RecognizerExportModel or '
                        f'PoseNetExportModel, got {type(model).__name__}')
    hints = _pipeline_hints(cfg)
    backbone = model.backbone
    if model.two_stream:
        h, w = hints.get('size', _RGB_DEFAULT['size'])
        scaling = hints.get('scaling', 0.25)
        t_rgb = _clip_len(hints.get('clip_len'), 'RGB',
                          _RGB_DEFAULT['clip_len'])
        ratio = int(getattr(backbone, 'speed_ratio', 4))
        t_pose = _clip_len(hints.get('clip_len'), 'Pose', t_rgb * ratio)
        return {
            'imgs': (batch_size, backbone.rgb_path.in_channels, t_rgb, h, w),
            'heatmap_imgs': (batch_size, backbone.pose_path.in_channels,
                             t_pose, int(h * scaling), int(w * scaling))
        }
    channels = int(getattr(backbone, 'in_channels', 17))
    default = _RGB_DEFAULT if channels == 3 else _HEATMAP_DEFAULT
    h, w = hints.get('size', default['size'])
    scaling = hints.get('scaling', 1.)
    clip_len = _clip_len(hints.get('clip_len'), 'Pose', default['clip_len'])
    return {
        model.input_names[0]:
        (batch_size, channels, clip_len, int(h * scaling), int(w * scaling))
    }


def _as_tuple(out: Any) -> Tuple[torch.Tensor, ...]:
    return tuple(out) if isinstance(out, (tuple, list)) else (out, )


def _random_inputs(model: nn.Module, shapes: Mapping[str, Shape],
                   seed: int) -> List[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    # Heatmaps are in [0, 1]; normalised images are roughly N(0, 1).
    draw = torch.randn if isinstance(model, PoseNetExportModel) else torch.rand
    return [
        draw(tuple(shapes[name]), generator=gen).to(device)
        for name in model.input_names
    ]


def verify_onnx(onnx_file: str,
                model: nn.Module,
                inputs: Sequence[torch.Tensor],
                output_names: Optional[Sequence[str]] = None
                ) -> Dict[str, float]:
    """Max abs difference between onnxruntime and PyTorch per output.

    Args:
        onnx_file (str): The exported model.
        model (nn.Module): The PyTorch module it was exported from.
        inputs (Sequence[Tensor]): One tensor per model input.
        output_names (Sequence[str], optional): Names for the result keys.

    Returns:
        dict[str, float]: Output name -> ``max |ort - torch|``.
    """
    return _compare_with_ort(onnx_file, model, inputs, output_names)[0]


def _compare_with_ort(
    onnx_file: str,
    model: nn.Module,
    inputs: Sequence[torch.Tensor],
    output_names: Optional[Sequence[str]] = None
) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Per output: ``max |ort - torch|`` and ``max |torch|``."""
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ImportError('verifying an ONNX export needs onnxruntime '
                          '(pip install onnxruntime)') from err
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    feeds = {
        node.name: tensor.detach().cpu().numpy()
        for node, tensor in zip(session.get_inputs(), inputs)
    }
    got = session.run(None, feeds)
    with torch.no_grad():
        expected = _as_tuple(model(*inputs))
    names = list(output_names or [o.name for o in session.get_outputs()])
    if len(got) != len(expected):
        raise RuntimeError(f'{onnx_file} has {len(got)} outputs, the PyTorch '
                           f'model {len(expected)}')
    diffs, scales = {}, {}
    for name, ours, ref in zip(names, got, expected):
        ref = ref.detach().cpu().numpy()
        if ours.shape != ref.shape:
            raise RuntimeError(f'{onnx_file}: output {name} has shape '
                               f'{ours.shape}, PyTorch gives {ref.shape}')
        diffs[name] = float(np.abs(ours - ref).max()) if ref.size else 0.
        scales[name] = float(np.abs(ref).max()) if ref.size else 0.
    return diffs, scales


def export_onnx(model: nn.Module,
                out_file: str,
                input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
                opset: int = DEFAULT_OPSET,
                dynamic_batch: bool = True,
                dynamic_hw: bool = False,
                verify: bool = True,
                atol: float = 1e-4) -> ExportReport:
    """Export an export wrapper to ONNX and (optionally) check it with
    onnxruntime.

    Args:
        model (nn.Module): From :func:`build_export_model` (or a
            :class:`RecognizerExportModel` / :class:`PoseNetExportModel`).
        out_file (str): Where to write the ``.onnx`` file.
        input_shapes (dict, optional): Input name -> shape used for tracing;
            defaults to :func:`infer_input_shapes`.
        opset (int): ONNX opset. Defaults to 17.
        dynamic_batch (bool): Make axis 0 of every input and output
            dynamic. Defaults to True.
        dynamic_hw (bool): Pose networks: also make the image height and
            width dynamic. Defaults to False.
        verify (bool): Run the file with onnxruntime on new random inputs
            (batch size + 1 when the batch is dynamic, and a different image
            size with ``dynamic_hw``) and compare with PyTorch. A difference
            above ``atol`` is warned about and shows in
            :attr:`ExportReport.ok`. Defaults to True.
        atol (float): Tolerance of the verification. Defaults to 1e-4.

    Returns:
        ExportReport: Names, shapes and verification result.
    """
    import onnx
    if not hasattr(model, 'input_names'):
        raise TypeError('export_onnx expects a model from build_export_model '
                        f'(got {type(model).__name__})')
    if dynamic_hw and not isinstance(model, PoseNetExportModel):
        raise ValueError('dynamic_hw is only supported for pose networks')
    model.eval()
    shapes = {k: tuple(int(d) for d in v)
              for k, v in (input_shapes or infer_input_shapes(model)).items()}
    unknown = set(shapes) - set(model.input_names)
    absent = [n for n in model.input_names if n not in shapes]
    if unknown or absent:
        raise ValueError(f'input shapes must be given for exactly '
                         f'{model.input_names}; missing {absent}, unknown '
                         f'{sorted(unknown)}')
    inputs = _random_inputs(model, shapes, seed=0)
    with torch.no_grad():
        outputs = _as_tuple(model(*inputs))
    if isinstance(model, PoseNetExportModel):
        model.output_names = model.name_outputs(shapes['image'][-2:], outputs)
    output_names = list(model.output_names)

    dynamic_axes: Dict[str, Dict[int, str]] = {}
    for name in model.input_names + output_names:
        axes = {0: 'batch'} if dynamic_batch else {}
        if dynamic_hw:
            axes.update({2: f'{name}_height', 3: f'{name}_width'})
        if axes:
            dynamic_axes[name] = axes
    if dynamic_hw:
        dynamic_axes['image'].update({2: 'height', 3: 'width'})

    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter announces its own deprecation, and the
        # tracer flags shape checks that are constant for a given input
        # layout (only the batch, or the image size, varies).
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            tuple(inputs),
            out_file,
            dynamo=False,
            opset_version=opset,
            input_names=list(model.input_names),
            output_names=output_names,
            dynamic_axes=dynamic_axes or None,
            do_constant_folding=True)
    onnx.checker.check_model(out_file)

    report = ExportReport(
        out_file=out_file,
        opset=opset,
        input_shapes=shapes,
        output_shapes={n: tuple(o.shape)
                       for n, o in zip(output_names, outputs)},
        dynamic_axes=dynamic_axes,
        atol=atol)
    if verify:
        check_shapes = dict(shapes)
        for name, shape in shapes.items():
            shape = list(shape)
            if dynamic_batch:
                shape[0] += 1
            if dynamic_hw:
                # Another multiple of 32 keeps every HRNet branch aligned.
                shape[2] += 32
                shape[3] += 64
            check_shapes[name] = tuple(shape)
        check_inputs = _random_inputs(model, check_shapes, seed=1)
        report.verify_shapes = check_shapes
        report.max_abs_diff, report.output_scale = _compare_with_ort(
            out_file, model, check_inputs, output_names)
        if not report.ok:
            warnings.warn(f'ONNX export differs from PyTorch: {report}')
    return report
