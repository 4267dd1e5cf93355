"""2D ResNet backbone for SimpleBaseline (Xiao et al., "Simple Baselines for
Human Pose Estimation and Tracking", ECCV 2018).

The layout is torchvision's (``conv1, bn1, layer1..4``, first block of a
stage has ``downsample.{0,1}``), which is also the layout of the official
SimpleBaseline checkpoints and of mmpose's ResNet, so those weights and the
torchvision ImageNet weights load key for key.

Registered as ``'ResNet'`` in the ``mmpose_plus`` scope. mmaction2's own
``ResNet`` (``ConvModule`` layout, ``conv1.conv.weight``) stays what an
mmaction2-scoped config gets; ours shadows it only for configs with
``default_scope='mmpose_plus'`` or ``type='mmpose_plus.ResNet'``.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer

from mmpose_plus.registry import MODELS
from ..layers.res_blocks2d import BasicBlock, Bottleneck, make_res_layer
from .base_backbone2d import ResidualBackbone2d

__all__ = ['ResNet']


@MODELS.register_module()
class ResNet(ResidualBackbone2d):
    """ResNet-18/34/50/101/152 (torchvision layout, stride on the 3x3 conv).

    Args:
        depth (int): One of ``arch_settings``' keys.
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Width of the stem and of stage 1.
            Defaults to 64.
        num_stages (int): Stages to build, 1..4. Defaults to 4.
        strides (Sequence[int]): Stride of each stage. Defaults to
            ``(1, 2, 2, 2)``.
        out_indices (Sequence[int]): Stages (0-based) whose outputs are
            returned. Defaults to ``(3, )``, the last stage (1/32).
        frozen_stages (int): -1 freezes nothing, 0 the stem, ``n`` also
            ``layer1..layern``. Defaults to -1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        with_cp (bool): Checkpoint the residual blocks. Defaults to False.
        zero_init_residual (bool): Zero the last norm of each block after
            init (skipped when initialising from a checkpoint).
            Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to Kaiming convs
            and constant(1) norms.

    Returns (forward):
        tuple[Tensor]: one map per ``out_indices`` entry; stage ``i`` has
        ``base_channels * 2**i * expansion`` channels at ``1/2**(i+2)``.

    Example:
        >>> net = ResNet(50).eval()
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 256, 192))]
        [(1, 2048, 8, 6)]
    """

    arch_settings: Dict[int, Tuple[Type[nn.Module], Tuple[int, ...]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer=['Conv2d']),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        if depth not in self.arch_settings:
            raise KeyError(f'ResNet: invalid depth {depth!r}, choose from '
                           f'{sorted(self.arch_settings)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'ResNet: num_stages must be 1..4, got '
                             f'{num_stages}')
        if len(strides) < num_stages:
            raise ValueError(f'ResNet: need {num_stages} strides, got '
                             f'{tuple(strides)}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages
                                  for i in out_indices):
            raise ValueError(f'ResNet: out_indices {out_indices} must be in '
                             f'[0, {num_stages})')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'ResNet: frozen_stages must be in '
                             f'[-1, {num_stages}], got {frozen_stages}')
        self.depth = depth
        self.num_stages = num_stages
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        block, stage_blocks = self.arch_settings[depth]
        self.stage_blocks = stage_blocks[:num_stages]

        self.conv1 = build_conv_layer(
            conv_cfg,
            in_channels,
            base_channels,
            7,
            stride=2,
            padding=3,
            bias=False)
        self.bn1 = build_norm_layer(norm_cfg, base_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        channels = base_channels
        self.res_layers: List[str] = []
        self.out_channels: List[int] = []
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            layer = make_res_layer(
                block,
                channels,
                planes,
                num_blocks,
                stride=strides[i],
                with_cp=with_cp,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg)
            name = f'layer{i + 1}'
            self.add_module(name, layer)
            self.res_layers.append(name)
            channels = planes * block.expansion
            self.out_channels.append(channels)
        self.feat_dim = channels
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.conv1, self.bn1] + [
            getattr(self, f'layer{i}')
            for i in range(1, self.frozen_stages + 1)
        ]
