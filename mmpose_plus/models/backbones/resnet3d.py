"""3D ResNet backbones (I3D / SlowOnly / PoseC3D family).

A 3D ResNet is a 2D ResNet whose convolutions carry an extra temporal axis.
Which blocks get a temporal kernel ("inflation") is data: one flag per block.
The state-dict layout matches mmaction2 1.1.0 (``conv1.conv.weight``,
``conv1.bn.*``, ``layer1.0.conv1.conv.weight``,
``layer1.0.downsample.conv.*``), so checkpoints trained with mmaction2 load
with ``strict=True``.

How the code is organised:

* every convolution of the network (stem, residual branches, shortcuts) is
  described by a :class:`ConvSpec` and built by one function,
  :func:`build_conv_unit`, from ``conv_cfg``/``norm_cfg``/``act_cfg`` --
  so ``conv_cfg=dict(type=Conv2plus1d)`` turns the network into R(2+1)D;
* a residual block only declares its branch as a list of specs
  (:meth:`BasicBlock3d.branch_specs`), the shared base class builds and
  runs it;
* the per-stage options of :class:`ResNet3d` are turned into one
  :class:`StageSpec` row per stage, and :meth:`ResNet3d.make_res_layer`
  builds one stage from a row (subclasses that add lateral connections hook
  in through ``_extra_stage_inplanes``).
"""
import os
from collections import OrderedDict
from typing import (Dict, Iterator, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn
import torch.utils.checkpoint as checkpoint
from mmcv.cnn import ConvModule, NonLocal3d, build_activation_layer
from mmengine.logging import MMLogger
from mmengine.model import BaseModule, Sequential
from mmengine.model.weight_init import constant_init, kaiming_init
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.utils import _triple

from mmpose_plus.registry import MODELS

from ..utils.frozen_stages import FrozenStagesMixin

__all__ = [
    'BasicBlock3d', 'Bottleneck3d', 'ConvSpec', 'ResNet3d', 'StageSpec',
    'build_conv_unit'
]

ConfigType = Dict
OptMultiConfig = Optional[Union[Dict, List[Dict]]]
IntOrSeq = Union[int, Sequence[int]]
Triple = Tuple[int, int, int]

_STYLES = ('pytorch', 'caffe')
_INFLATE_STYLES = ('3x1x1', '3x3x3')


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {list(choices)}, '
                         f'got {value!r}')


def _per_block_flags(value: IntOrSeq, num_blocks: int,
                     what: str) -> Tuple[bool, ...]:
    """Expand a stage-level flag (int) or a per-block tuple into bools."""
    if isinstance(value, int):
        return (bool(value), ) * num_blocks
    value = tuple(value)
    if len(value) != num_blocks:
        raise ValueError(f'{what} has {len(value)} entries {value} but the '
                         f'stage has {num_blocks} blocks')
    return tuple(bool(v) for v in value)


def _per_stage(value: Union[int, Sequence], num_stages: int,
               name: str) -> tuple:
    """Broadcast an int to every stage, or check a per-stage sequence."""
    if isinstance(value, int):
        return (value, ) * num_stages
    value = tuple(value)
    if len(value) != num_stages:
        raise ValueError(f'{name} has {len(value)} entries {value} but '
                         f'num_stages={num_stages}; give one entry per stage')
    return value


def _thw(temporal: int, spatial: int) -> Triple:
    """A (t, h, w) triple with the same value on both spatial axes."""
    return (temporal, spatial, spatial)


class ConvSpec(NamedTuple):
    """Geometry of one conv + norm (+ activation) unit.

    Padding is not part of the spec: :func:`build_conv_unit` always pads
    ``dilation * (kernel - 1) // 2`` per axis, which keeps odd kernels
    "same"-sized and is what every conv of a 3D ResNet uses.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel (tuple[int]): ``(t, h, w)`` kernel size.
        stride (tuple[int]): ``(t, h, w)`` stride. Default ``(1, 1, 1)``.
        dilation (tuple[int]): ``(t, h, w)`` dilation. Default ``(1, 1, 1)``.
        activate (bool): Follow the norm with the activation. Default True.

    Example:
        >>> spec = ConvSpec(8, 16, (3, 3, 3), stride=(1, 2, 2))
        >>> unit = build_conv_unit(spec, dict(type='Conv3d'),
        ...                        dict(type='BN3d'), dict(type='ReLU'))
        >>> unit(torch.rand(1, 8, 4, 8, 8)).shape
        torch.Size([1, 16, 4, 4, 4])
    """
    in_channels: int
    out_channels: int
    kernel: Triple
    stride: Triple = (1, 1, 1)
    dilation: Triple = (1, 1, 1)
    activate: bool = True


def build_conv_unit(spec: ConvSpec, conv_cfg: Optional[ConfigType],
                    norm_cfg: Optional[ConfigType],
                    act_cfg: Optional[ConfigType]) -> ConvModule:
    """Build the bias-free ``ConvModule`` (``.conv`` + ``.bn``) of a spec.

    Args:
        spec (ConvSpec): What to build.
        conv_cfg (dict, optional): Conv layer config.
        norm_cfg (dict, optional): Norm layer config.
        act_cfg (dict, optional): Activation config; ignored when
            ``spec.activate`` is False.

    Returns:
        ConvModule: The unit.
    """
    padding = tuple(d * (k - 1) // 2
                    for k, d in zip(spec.kernel, spec.dilation))
    return ConvModule(
        spec.in_channels,
        spec.out_channels,
        spec.kernel,
        stride=spec.stride,
        padding=padding,
        dilation=spec.dilation,
        bias=False,
        conv_cfg=conv_cfg,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg if spec.activate else None)


class _ResBlock3d(BaseModule):
    """Residual block whose branch is declared by :meth:`branch_specs`.

    Subclasses set ``expansion`` and implement :meth:`branch_specs`; this
    class turns the specs into ``conv1``, ``conv2``, ... (registered before
    ``downsample`` and ``non_local_block``, the mmaction2 state-dict order)
    and runs them. The shortcut receives the block *input*, so
    ``downsample`` maps the input channels/strides to the branch output
    before the sum.

    Takes the arguments documented in :class:`Bottleneck3d`.
    """

    expansion = 1

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 *,
                 spatial_stride: int = 1,
                 temporal_stride: int = 1,
                 dilation: int = 1,
                 style: str = 'pytorch',
                 inflate: bool = True,
                 inflate_style: str = '3x1x1',
                 downsample: Optional[nn.Module] = None,
                 non_local: bool = False,
                 non_local_cfg: Optional[ConfigType] = None,
                 conv_cfg: ConfigType = dict(type='Conv3d'),
                 norm_cfg: ConfigType = dict(type='BN3d'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        _check_choice('style', style, _STYLES)
        _check_choice('inflate_style', inflate_style, _INFLATE_STYLES)
        super().__init__(init_cfg=init_cfg)
        self.inplanes, self.planes = inplanes, planes
        self.spatial_stride = spatial_stride
        self.temporal_stride = temporal_stride
        self.dilation, self.style = dilation, style
        self.inflate, self.inflate_style = inflate, inflate_style
        self.non_local = non_local
        self.non_local_cfg = dict(non_local_cfg or {})
        self.conv_cfg, self.norm_cfg = conv_cfg, norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = with_cp

        specs = self.branch_specs()
        self._branch_names = tuple(f'conv{i + 1}' for i in range(len(specs)))
        for name, spec in zip(self._branch_names, specs):
            self.add_module(
                name, build_conv_unit(spec, conv_cfg, norm_cfg, act_cfg))
        self.downsample = downsample
        self.relu = build_activation_layer(act_cfg)
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion,
                                              **self.non_local_cfg)

    @property
    def stride(self) -> Triple:
        """``(t, h, w)`` stride of the whole block."""
        return _thw(self.temporal_stride, self.spatial_stride)

    @property
    def temporal_kernel(self) -> int:
        """Temporal extent of the inflated conv (1 when not inflated)."""
        return 3 if self.inflate else 1

    def branch_specs(self) -> List[ConvSpec]:
        """The residual branch, first conv first; the last one must have
        ``activate=False`` (the activation follows the sum)."""
        raise NotImplementedError

    @property
    def last_norm(self) -> nn.Module:
        """Norm layer closing the residual branch (zero-init target)."""
        return getattr(self, self._branch_names[-1]).norm

    def _residual_sum(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for name in self._branch_names:
            out = getattr(self, name)(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return out + shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and torch.is_grad_enabled():
            # Non-reentrant checkpointing also yields parameter gradients
            # when ``x`` itself does not require grad (the first block).
            out = checkpoint.checkpoint(
                self._residual_sum, x, use_reentrant=False)
        else:
            out = self._residual_sum(x)
        out = self.relu(out)
        if self.non_local:
            out = self.non_local_block(out)
        return out


class BasicBlock3d(_ResBlock3d):
    """Two-conv residual block (ResNet-18/34) with optional inflation.

    Both convolutions are 3x3 spatially; an inflated block gives both a
    temporal extent of 3. The block's stride and dilation sit on the first
    conv whatever ``style`` is, and ``inflate_style`` is accepted but has no
    effect (as in mmaction2).

    Args:
        inplanes (int): Input channels.
        planes (int): Output channels (``expansion`` is 1).
        **kwargs: Keyword-only options shared by the 3D blocks:
            ``spatial_stride``, ``temporal_stride``, ``dilation``, ``style``,
            ``inflate`` (3x3x3 instead of 1x3x3 kernels, default True),
            ``inflate_style``, ``downsample``, ``non_local``,
            ``non_local_cfg``, ``conv_cfg``, ``norm_cfg``, ``act_cfg``,
            ``with_cp``, ``init_cfg`` (see :class:`Bottleneck3d`).

    Example:
        >>> block = BasicBlock3d(64, 64)
        >>> block(torch.rand(1, 64, 4, 8, 8)).shape
        torch.Size([1, 64, 4, 8, 8])
    """

    expansion = 1

    def branch_specs(self) -> List[ConvSpec]:
        kt, d = self.temporal_kernel, self.dilation
        return [
            ConvSpec(self.inplanes, self.planes, (kt, 3, 3), self.stride,
                     (1, d, d)),
            ConvSpec(
                self.planes,
                self.planes * self.expansion, (kt, 3, 3),
                activate=False),
        ]


class Bottleneck3d(_ResBlock3d):
    """1x1 -> 3x3 -> 1x1 residual block (ResNet-50/101/152), 3D.

    Inflation gives a temporal extent of 3 to the first conv
    (``inflate_style='3x1x1'``) or to the 3x3 conv (``'3x3x3'``). With
    ``style='pytorch'`` the block's stride sits on the 3x3 conv, with
    ``'caffe'`` on the first 1x1 conv.

    Args:
        inplanes (int): Input channels.
        planes (int): Bottleneck width; the output has ``4 * planes``.
        spatial_stride (int): Spatial stride of the block. Default 1.
        temporal_stride (int): Temporal stride of the block. Default 1.
        dilation (int): Spatial dilation of the 3x3 conv. Default 1.
        style (str): ``'pytorch'`` or ``'caffe'``. Default ``'pytorch'``.
        inflate (bool): Give the block a temporal kernel. Default True.
        inflate_style (str): ``'3x1x1'`` or ``'3x3x3'``. Default '3x1x1'.
        downsample (nn.Module, optional): Shortcut projection. Default None.
        non_local (bool): Append a NonLocal3d after the block. Default False.
        non_local_cfg (dict, optional): Kwargs of NonLocal3d. Default None.
        conv_cfg (dict): Conv layer config. Default ``dict(type='Conv3d')``.
        norm_cfg (dict): Norm layer config. Default ``dict(type='BN3d')``.
        act_cfg (dict): Activation config. Default ``dict(type='ReLU')``.
        with_cp (bool): Gradient checkpointing of the branch. Default False.
        init_cfg (dict or list[dict], optional): Init config. Default None.

        Everything after ``planes`` is keyword-only.

    Example:
        >>> block = Bottleneck3d(64, 16, spatial_stride=2,
        ...                      downsample=ConvModule(
        ...                          64, 64, 1, stride=(1, 2, 2), bias=False,
        ...                          conv_cfg=dict(type='Conv3d'),
        ...                          norm_cfg=dict(type='BN3d'),
        ...                          act_cfg=None))
        >>> block(torch.rand(1, 64, 4, 8, 8)).shape
        torch.Size([1, 64, 4, 4, 4])
    """

    expansion = 4

    def branch_specs(self) -> List[ConvSpec]:
        kt, d, width = self.temporal_kernel, self.dilation, self.planes
        # The inflated conv gets the temporal kernel, the other one stays
        # purely spatial.
        kt_in, kt_mid = (kt, 1) if self.inflate_style == '3x1x1' else (1, kt)
        stride_in, stride_mid = ((1, 1, 1), self.stride)
        if self.style == 'caffe':
            stride_in, stride_mid = stride_mid, stride_in
        return [
            ConvSpec(self.inplanes, width, (kt_in, 1, 1), stride_in),
            ConvSpec(width, width, (kt_mid, 3, 3), stride_mid, (1, d, d)),
            ConvSpec(
                width, width * self.expansion, (1, 1, 1), activate=False),
        ]


class StageSpec(NamedTuple):
    """One residual stage of a :class:`ResNet3d`.

    The field names (but ``blocks``) are keyword arguments of
    :meth:`ResNet3d.make_res_layer`.

    Args:
        blocks (int): Number of blocks.
        spatial_stride (int): Spatial stride of the first block.
        temporal_stride (int): Temporal stride of the first block.
        dilation (int): Spatial dilation of every block.
        inflate (int | tuple[int]): Inflation flag(s), per stage or block.
        non_local (int | tuple[int]): NonLocal3d flag(s), likewise.
    """
    blocks: int
    spatial_stride: int
    temporal_stride: int
    dilation: int
    inflate: IntOrSeq
    non_local: IntOrSeq


@MODELS.register_module()
class ResNet3d(FrozenStagesMixin, BaseModule):
    """3D ResNet backbone (I3D-style inflation), mmaction2-compatible.

    Layout: ``conv1`` (ConvModule stem) -> ``maxpool`` (if ``with_pool1``)
    -> ``layer1`` -> ``pool2`` (temporal /2, if ``with_pool2``) ->
    ``layer2`` ... ``layerN``. The per-stage options are collected into
    :attr:`stage_specs` (one :class:`StageSpec` per stage).

    Args:
        depth (int): One of 18, 34, 50, 101, 152. Default 50.
        pretrained (str, optional): Local checkpoint path; a 2D torchvision
            layout ResNet when ``pretrained2d`` (inflated), else a 3D
            checkpoint of this model. Default None.
        stage_blocks (Sequence[int], optional): Blocks per stage; default is
            the depth's table truncated to ``num_stages``.
        pretrained2d (bool): ``pretrained`` is a 2D ResNet. Default True.
        in_channels (int): Input channels. Default 3.
        num_stages (int): Number of residual stages, 1..4. Default 4.
        base_channels (int): Stem output channels. Default 64.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Default ``(3, )``.

        The remaining arguments are keyword-only. Stem:

        conv1_kernel (int | Sequence[int]): Stem kernel (t, h, w). Default
            ``(3, 7, 7)``.
        conv1_stride_t (int): Stem temporal stride. Default 1.
        conv1_stride_s (int): Stem spatial stride. Default 2.
        with_pool1 (bool): Use the stem max-pool. Default True.
        pool1_stride_t (int): Stem max-pool temporal stride. Default 1.
        pool1_stride_s (int): Stem max-pool spatial stride. Default 2.

        Stages (an int applies to every stage):

        style (str): ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'``
            (stride on the first 1x1). Default ``'pytorch'``.
        spatial_strides (int | Sequence[int]): Default ``(1, 2, 2, 2)``.
        temporal_strides (int | Sequence[int]): Default ``(1, 1, 1, 1)``.
        dilations (int | Sequence[int]): Default ``(1, 1, 1, 1)``.
        inflate (int | Sequence): An int for every block, or per stage an
            int or a tuple with one flag per block. Default 1.
        inflate_style (str): ``'3x1x1'`` or ``'3x3x3'``. Default '3x1x1'.
        non_local (int | Sequence): Like ``inflate``, flags for NonLocal3d
            after blocks. Default 0.
        non_local_cfg (dict, optional): Kwargs of NonLocal3d. Default None.
        with_pool2 (bool): Halve time after ``layer1``. Default True.

        Layers:

        conv_cfg (dict): Config of every conv (stem, blocks, shortcuts).
            Default ``dict(type='Conv3d')``.
        norm_cfg (dict): Norm config. Default
            ``dict(type='BN3d', requires_grad=True)``.
        act_cfg (dict): Activation config. Default
            ``dict(type='ReLU', inplace=True)``.

        Training and initialisation:

        frozen_stages (int): Freeze the stem (0) and stages ``1..k``;
            -1 freezes nothing. Default -1.
        norm_eval (bool): Keep BN layers in eval mode while training.
            Default False.
        with_cp (bool): Gradient checkpointing in every block. Default False.
        zero_init_residual (bool): Zero the last BN of every block in
            :meth:`init_weights`. Default True.
        init_cfg (dict or list[dict], optional): Applied by
            :meth:`init_weights` after the default init when no
            ``pretrained`` is given. Default None.

    Example:
        >>> model = ResNet3d(depth=18, base_channels=8, out_indices=(0, 3))
        >>> outs = model(torch.rand(1, 3, 8, 64, 64))
        >>> [tuple(o.shape) for o in outs]
        [(1, 8, 4, 16, 16), (1, 64, 4, 2, 2)]
    """

    arch_settings = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int = 50,
                 pretrained: Optional[str] = None,
                 stage_blocks: Optional[Sequence[int]] = None,
                 pretrained2d: bool = True,
                 in_channels: int = 3,
                 num_stages: int = 4,
                 base_channels: int = 64,
                 out_indices: Sequence[int] = (3, ),
                 *,
                 conv1_kernel: IntOrSeq = (3, 7, 7),
                 conv1_stride_t: int = 1,
                 conv1_stride_s: int = 2,
                 with_pool1: bool = True,
                 pool1_stride_t: int = 1,
                 pool1_stride_s: int = 2,
                 style: str = 'pytorch',
                 spatial_strides: IntOrSeq = (1, 2, 2, 2),
                 temporal_strides: IntOrSeq = (1, 1, 1, 1),
                 dilations: IntOrSeq = (1, 1, 1, 1),
                 inflate: Union[int, Sequence] = 1,
                 inflate_style: str = '3x1x1',
                 non_local: Union[int, Sequence] = 0,
                 non_local_cfg: Optional[ConfigType] = None,
                 with_pool2: bool = True,
                 conv_cfg: ConfigType = dict(type='Conv3d'),
                 norm_cfg: ConfigType = dict(type='BN3d', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU', inplace=True),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'invalid depth {depth!r} for '
                             f'{type(self).__name__}; valid depths: '
                             f'{sorted(self.arch_settings)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages must be in 1..4, got {num_stages}')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError('pretrained must be a file path (str) or None, '
                            f'got {type(pretrained).__name__}')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be in -1..{num_stages}, '
                             f'got {frozen_stages}')
        _check_choice('style', style, _STYLES)
        _check_choice('inflate_style', inflate_style, _INFLATE_STYLES)

        self.depth = depth
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.out_indices = tuple(out_indices)
        if not self.out_indices or not all(
                0 <= i < num_stages for i in self.out_indices):
            raise ValueError(f'out_indices {self.out_indices} must be '
                             f'non-empty, each in 0..{num_stages - 1}')

        # Stem geometry, kept as the (t, h, w) triples the layers take.
        self.conv1_kernel = _triple(conv1_kernel)
        if len(self.conv1_kernel) != 3:
            raise ValueError('conv1_kernel must be an int or (t, h, w), got '
                             f'{conv1_kernel}')
        self.conv1_stride = _thw(conv1_stride_t, conv1_stride_s)
        self.pool1_stride = _thw(pool1_stride_t, pool1_stride_s)
        self.with_pool1, self.with_pool2 = with_pool1, with_pool2

        # One row per stage; each option is broadcast or length-checked
        # under its constructor name so errors point at the argument.
        self.block, depth_blocks = self.arch_settings[depth]
        columns = (
            ('stage_blocks', depth_blocks[:num_stages]
             if stage_blocks is None else stage_blocks),
            ('spatial_strides', spatial_strides),
            ('temporal_strides', temporal_strides),
            ('dilations', dilations),
            ('inflate', inflate),
            ('non_local', non_local),
        )
        self.stage_specs: Tuple[StageSpec, ...] = tuple(
            StageSpec(*row) for row in zip(
                *(_per_stage(value, num_stages, name)
                  for name, value in columns)))
        self.stage_blocks = tuple(s.blocks for s in self.stage_specs)

        # Private copies: a config dict shared between models must not be
        # altered by one of them.
        self.conv_cfg = dict(conv_cfg)
        self.norm_cfg = dict(norm_cfg)
        self.act_cfg = dict(act_cfg)
        self.non_local_cfg = dict(non_local_cfg or {})
        self.style, self.inflate_style = style, inflate_style
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual

        self._make_stem_layer()
        self.res_layers: List[str] = []
        self.inplanes = base_channels
        for idx, stage in enumerate(self.stage_specs):
            self._add_stage(idx, stage)
        # Output width of the last stage (``_add_stage`` advances it).
        self.feat_dim = self.inplanes

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    def _extra_stage_inplanes(self, stage_idx: int,
                              stage_inplanes: int) -> int:
        """Channels concatenated to a stage's input (lateral fusion hook).

        Args:
            stage_idx (int): 0-based stage index.
            stage_inplanes (int): Channels produced by the previous stage
                (the stem for stage 0) of this network.

        Returns:
            int: Extra input channels of the stage's first block; 0 here.
        """
        return 0

    def _add_stage(self, idx: int, stage: StageSpec) -> None:
        """Build stage ``idx`` as ``layer{idx + 1}`` and advance
        ``self.inplanes`` to its output width."""
        planes = self.base_channels * 2**idx
        layer_kwargs = stage._asdict()
        num_blocks = layer_kwargs.pop('blocks')
        stage_in = self.inplanes + self._extra_stage_inplanes(
            idx, self.inplanes)
        layer = self.make_res_layer(
            self.block,
            stage_in,
            planes,
            num_blocks,
            style=self.style,
            inflate_style=self.inflate_style,
            non_local_cfg=self.non_local_cfg,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp,
            **layer_kwargs)
        name = f'layer{idx + 1}'
        self.add_module(name, layer)
        self.res_layers.append(name)
        self.inplanes = planes * self.block.expansion

    def _make_stem_layer(self) -> None:
        """Build ``conv1`` (conv + norm + act) and the two pooling layers."""
        stem = ConvSpec(self.in_channels, self.base_channels,
                        self.conv1_kernel, self.conv1_stride)
        self.conv1 = build_conv_unit(stem, self.conv_cfg, self.norm_cfg,
                                     self.act_cfg)
        self.maxpool = nn.MaxPool3d(
            kernel_size=(1, 3, 3), stride=self.pool1_stride, padding=(0, 1, 1))
        # Only time is halved; the stride defaults to the kernel size.
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1))

    def make_res_layer(self,
                       block: type,
                       inplanes: int,
                       planes: int,
                       blocks: int,
                       spatial_stride: int = 1,
                       temporal_stride: int = 1,
                       dilation: int = 1,
                       style: str = 'pytorch',
                       inflate: IntOrSeq = 1,
                       inflate_style: str = '3x1x1',
                       non_local: IntOrSeq = 0,
                       non_local_cfg: Optional[ConfigType] = None,
                       conv_cfg: Optional[ConfigType] = None,
                       norm_cfg: Optional[ConfigType] = None,
                       act_cfg: Optional[ConfigType] = None,
                       with_cp: bool = False) -> Sequential:
        """Build one residual stage.

        Only the first block strides and may change the channel count; it
        gets a 1x1x1 ``downsample`` shortcut (conv + norm, built from
        ``conv_cfg``) when its output shape differs from its input.

        Args:
            block (type): :class:`BasicBlock3d`, :class:`Bottleneck3d` or a
                subclass with the same constructor.
            inplanes (int): Input channels of the first block.
            planes (int): Block width; the stage outputs
                ``planes * block.expansion`` channels.
            blocks (int): Number of blocks.
            spatial_stride (int): Spatial stride of the first block.
            temporal_stride (int): Temporal stride of the first block.
            dilation (int): Spatial dilation of every block.
            style (str): ``'pytorch'`` or ``'caffe'``.
            inflate (int | Sequence[int]): One flag for all blocks or one per
                block.
            inflate_style (str): ``'3x1x1'`` or ``'3x3x3'``.
            non_local (int | Sequence[int]): Like ``inflate``, for NonLocal3d.
            non_local_cfg (dict, optional): Kwargs of NonLocal3d.
            conv_cfg (dict, optional): Conv config of every conv.
            norm_cfg (dict, optional): Norm config.
            act_cfg (dict, optional): Activation config.
            with_cp (bool): Gradient checkpointing.

        Returns:
            Sequential: The stage, blocks named ``0``, ``1``, ...
        """
        cfgs = dict(
            conv_cfg=dict(type='Conv3d') if conv_cfg is None else conv_cfg,
            norm_cfg=dict(type='BN3d') if norm_cfg is None else norm_cfg,
            act_cfg=dict(type='ReLU') if act_cfg is None else act_cfg)
        outplanes = planes * block.expansion
        first_stride = _thw(temporal_stride, spatial_stride)

        # A temporal stride alone also changes the shape of the branch
        # output, so it needs the projection too.
        shortcut = None
        if first_stride != (1, 1, 1) or inplanes != outplanes:
            shortcut = build_conv_unit(
                ConvSpec(inplanes, outplanes, (1, 1, 1), first_stride,
                         activate=False), **cfgs)

        shared = dict(
            planes=planes,
            dilation=dilation,
            style=style,
            inflate_style=inflate_style,
            non_local_cfg=non_local_cfg,
            with_cp=with_cp,
            **cfgs)
        # Only these differ between the blocks of a stage.
        rest = blocks - 1
        per_block = zip([inplanes] + [outplanes] * rest,
                        [first_stride] + [(1, 1, 1)] * rest,
                        [shortcut] + [None] * rest,
                        _per_block_flags(inflate, blocks, 'inflate'),
                        _per_block_flags(non_local, blocks, 'non_local'))
        return Sequential(*[
            block(
                block_in,
                temporal_stride=stride_t,
                spatial_stride=stride_s,
                downsample=downsample,
                inflate=block_inflate,
                non_local=block_non_local,
                **shared) for block_in, (stride_t, _, stride_s), downsample,
            block_inflate, block_non_local in per_block
        ])

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    @staticmethod
    def _check_local_file(path: str) -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f'pretrained checkpoint {path!r} is not a local file; '
                'only local paths are loaded (download it first)')

    def _named_inflatable_modules(self) -> Iterator[Tuple[str, ConvModule]]:
        """Conv modules that have a counterpart in a 2D ResNet."""
        for name, module in self.named_modules():
            if isinstance(module, ConvModule) and 'non_local' not in name:
                yield name, module

    @staticmethod
    def _torchvision_names(name: str) -> Tuple[str, str]:
        """Map a ConvModule name to the (conv, bn) names of a 2D ResNet.

        ``layer1.0.downsample`` -> ``layer1.0.downsample.0/.1``;
        ``layer1.0.conv2`` -> ``layer1.0.conv2`` / ``layer1.0.bn2``;
        ``conv1`` -> ``conv1`` / ``bn1``.
        """
        if name.endswith('downsample'):
            return f'{name}.0', f'{name}.1'
        head, _, last = name.rpartition('.')
        bn = last.replace('conv', 'bn')
        return name, f'{head}.{bn}' if head else bn

    @staticmethod
    def inflate_conv_weight(weight_2d: torch.Tensor,
                            shape_3d: Sequence[int]) -> torch.Tensor:
        """Inflate a 2D conv weight to a 3D shape.

        ``(O, I, h, w)`` becomes ``(O, I', t, h, w)``: repeated ``t`` times
        along time and divided by ``t`` (a static clip gives the 2D response).
        When ``I' > I`` (inputs widened by lateral connections) the extra
        input channels are zero.

        Args:
            weight_2d (Tensor): 2D weight ``(O, I, h, w)``.
            shape_3d (Sequence[int]): Target ``(O, I', t, h, w)``.

        Returns:
            Tensor: The inflated weight.

        Example:
            >>> w = torch.ones(4, 2, 3, 3)
            >>> ResNet3d.inflate_conv_weight(w, (4, 3, 5, 3, 3)).shape
            torch.Size([4, 3, 5, 3, 3])
        """
        out_c, in_c, t, h, w = shape_3d
        if (weight_2d.dim() != 4 or weight_2d.shape[0] != out_c
                or tuple(weight_2d.shape[2:]) != (h, w)
                or weight_2d.shape[1] > in_c):
            raise ValueError(f'cannot inflate a 2D weight of shape '
                             f'{tuple(weight_2d.shape)} to {tuple(shape_3d)}')
        weight = weight_2d.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        if weight_2d.shape[1] < in_c:
            pad = weight.new_zeros(out_c, in_c - weight_2d.shape[1], t, h, w)
            weight = torch.cat([weight, pad], dim=1)
        return weight

    def inflate_weights(self, logger: Optional[MMLogger] = None) -> List[str]:
        """Load ``self.pretrained``, a 2D ResNet, inflating its convs.

        The checkpoint uses the torchvision layout (``conv1.weight``,
        ``bn1.*``, ``layer1.0.conv1.weight``, ``layer1.0.downsample.0/1.*``),
        optionally wrapped in ``{'state_dict': ...}``.

        Args:
            logger (MMLogger, optional): Where to report skipped entries.

        Returns:
            list[str]: The 2D keys that were loaded.
        """
        logger = logger or MMLogger.get_current_instance()
        self._check_local_file(self.pretrained)
        ckpt = CheckpointLoader.load_checkpoint(
            self.pretrained, map_location='cpu')
        state_2d = ckpt
        for wrapper in ('state_dict', 'model'):
            if isinstance(state_2d, dict) and wrapper in state_2d:
                state_2d = state_2d[wrapper]
        state_2d = OrderedDict(
            (k[len('module.'):] if k.startswith('module.') else k, v)
            for k, v in state_2d.items())

        loaded: List[str] = []
        missing: List[str] = []
        for name, module in self._named_inflatable_modules():
            conv_name, bn_name = self._torchvision_names(name)
            w_key = f'{conv_name}.weight'
            conv = module.conv
            weight = getattr(conv, 'weight', None)
            if w_key not in state_2d:
                missing.append(w_key)
            elif not isinstance(weight, torch.Tensor) or weight.dim() != 5:
                logger.warning(f'{name}: {type(conv).__name__} has no 5D '
                               'weight, not inflated')
            else:
                try:
                    new_w = self.inflate_conv_weight(state_2d[w_key],
                                                     weight.shape)
                except ValueError as err:
                    logger.warning(f'{w_key}: {err}; not loaded')
                else:
                    with torch.no_grad():
                        weight.copy_(new_w)
                    loaded.append(w_key)
                    b_key = f'{conv_name}.bias'
                    if conv.bias is not None and b_key in state_2d:
                        with torch.no_grad():
                            conv.bias.copy_(state_2d[b_key])
                        loaded.append(b_key)
            if module.with_norm:
                loaded += self._load_norm(module.norm, bn_name, state_2d,
                                          logger)
        if missing:
            logger.warning(f'not in the 2D checkpoint: {missing}')
        unused = sorted(set(state_2d) - set(loaded))
        if unused:
            logger.info(f'2D checkpoint entries not used: {unused}')
        return loaded

    @staticmethod
    def _load_norm(norm: nn.Module, prefix: str, state_2d: Dict,
                   logger: MMLogger) -> List[str]:
        loaded = []
        tensors = dict(norm.named_parameters())
        tensors.update(norm.named_buffers())
        for key, dst in tensors.items():
            src = state_2d.get(f'{prefix}.{key}')
            if src is None:
                continue
            if src.shape != dst.shape:
                logger.warning(f'{prefix}.{key}: shape {tuple(src.shape)} '
                               f'!= {tuple(dst.shape)}; not loaded')
                continue
            with torch.no_grad():
                dst.copy_(src)
            loaded.append(f'{prefix}.{key}')
        return loaded

    def _default_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, _BatchNorm):
                constant_init(m, 1)

    def _zero_init_residual(self) -> None:
        for m in self.modules():
            if isinstance(m, _ResBlock3d):
                constant_init(m.last_norm, 0)

    def init_weights(self, pretrained: Optional[str] = None) -> None:
        """Initialise from ``pretrained`` or from scratch.

        Args:
            pretrained (str, optional): Overrides ``self.pretrained``.
        """
        if pretrained:
            self.pretrained = pretrained
        if self.pretrained is None:
            self._default_init()
            if self.init_cfg is not None:
                super().init_weights()
            if self.zero_init_residual:
                self._zero_init_residual()
            return
        if not isinstance(self.pretrained, str):
            raise TypeError('pretrained must be a file path (str) or None')
        logger = MMLogger.get_current_instance()
        logger.info(f'load model from: {self.pretrained}')
        if self.pretrained2d:
            self.inflate_weights(logger)
        else:
            self._check_local_file(self.pretrained)
            load_checkpoint(self, self.pretrained, strict=False,
                            map_location='cpu', logger=logger)

    # ------------------------------------------------------------------
    # forward / train mode
    # ------------------------------------------------------------------
    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """``conv1`` and, if enabled, the stem max-pool."""
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            # The usual cause is a config whose in_channels disagrees with
            # what the pipeline makes (for heatmaps: the keypoint and/or limb
            # channels of GeneratePoseTarget); say so instead of letting
            # conv3d fail with a weight-shape message.
            raise ValueError(
                f'{type(self).__name__} was built with in_channels='
                f'{self.in_channels} and expects (N, {self.in_channels}, T, '
                f'H, W) input, got {tuple(x.shape)}. For heatmap volumes the '
                'channel count is what GeneratePoseTarget produces (17 COCO '
                'keypoints with with_kp=True, 19 limbs with with_limb=True, '
                'their sum with both); make in_channels match the pipeline.')
        x = self.conv1(x)
        if self.with_pool1:
            x = self.maxpool(x)
        return x

    def forward(
            self,
            x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Extract features.

        Args:
            x (Tensor): ``(N, C, T, H, W)``.

        Returns:
            Tensor | tuple[Tensor]: The stage outputs of ``out_indices``
            (a single tensor when there is one).
        """
        x = self.forward_stem(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _frozen_modules(self) -> List[nn.Module]:
        """Modules frozen by ``frozen_stages`` (stem, then stages)."""
        if self.frozen_stages < 0:
            return []
        return [self.conv1] + [
            getattr(self, f'layer{i}')
            for i in range(1, self.frozen_stages + 1)
        ]
