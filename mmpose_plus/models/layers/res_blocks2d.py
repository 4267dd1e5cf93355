"""2D residual blocks shared by the pose backbones (ResNet for
SimpleBaseline, HRNet) and the HigherHRNet head.

The blocks hold plain ``nn.Conv2d`` / norm submodules under the torchvision
names (``conv1, bn1, conv2, bn2[, conv3, bn3], downsample.{0,1}``) so that
the released SimpleBaseline / HRNet / HigherHRNet checkpoints and mmpose
checkpoints load key for key. ``conv_cfg`` / ``norm_cfg`` still choose the
layer types (``build_conv_layer`` / ``build_norm_layer`` return bare layers,
not ``ConvModule`` wrappers, so the key names do not change).
"""
from typing import Optional, Type

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer

__all__ = ['BasicBlock', 'Bottleneck', 'make_res_layer']


def _norm(norm_cfg: dict, channels: int) -> nn.Module:
    return build_norm_layer(norm_cfg, channels)[1]


class _ResBlockBase(nn.Module):
    """Residual wrapper: ``relu(residual_fn(x) + shortcut(x))`` with
    optional activation checkpointing of the residual branch.

    Takes the arguments of :class:`BasicBlock`; subclasses create their
    branch layers in :meth:`_build_branch`.
    """

    expansion = 1

    def __init__(self,
                 in_channels: int,
                 planes: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 with_cp: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.with_cp = with_cp
        self.relu = nn.ReLU(inplace=True)
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        self._build_branch(in_channels, planes, stride, conv_cfg, norm_cfg)
        # Registered after the branch layers: the official state-dict order.
        self.downsample = downsample

    def _build_branch(self, in_channels: int, planes: int, stride: int,
                      conv_cfg: Optional[dict], norm_cfg: dict) -> None:
        """Create the ``conv*`` / ``bn*`` layers of the residual branch."""
        raise NotImplementedError

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self._residual(x) + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            # Recompute the block in backward instead of storing its
            # activations; the outer ReLU stays outside so it may be in-place.
            out = cp.checkpoint(self._inner, x, use_reentrant=False)
        else:
            out = self._inner(x)
        return self.relu(out)

    @property
    def last_norm(self) -> nn.Module:
        """Norm layer whose zero-init turns the block into an identity."""
        raise NotImplementedError


class BasicBlock(_ResBlockBase):
    """Two 3x3 convs (stride on the first), ``expansion = 1``.

    Args:
        in_channels (int): Input channels.
        planes (int): Width of the block; output channels are
            ``planes * expansion``.
        stride (int): Stride of ``conv1``. Defaults to 1.
        downsample (nn.Module, optional): Shortcut projection applied to the
            block input. Defaults to None (identity).
        with_cp (bool): Checkpoint the residual branch. Defaults to False.
        conv_cfg (dict, optional): Conv layer config. Defaults to None
            (``nn.Conv2d``).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.

    Example:
        >>> block = BasicBlock(32, 32)
        >>> tuple(block(torch.rand(2, 32, 8, 8)).shape)
        (2, 32, 8, 8)
    """

    expansion = 1

    def _build_branch(self, in_channels: int, planes: int, stride: int,
                      conv_cfg: Optional[dict], norm_cfg: dict) -> None:
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, planes, 3, stride=stride, padding=1,
            bias=False)
        self.bn1 = _norm(norm_cfg, planes)
        self.conv2 = build_conv_layer(
            conv_cfg, planes, planes, 3, padding=1, bias=False)
        self.bn2 = _norm(norm_cfg, planes)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))

    @property
    def last_norm(self) -> nn.Module:
        return self.bn2


class Bottleneck(_ResBlockBase):
    """1x1 reduce, 3x3 (carries the stride, 'pytorch' style), 1x1 expand;
    ``expansion = 4``.

    Takes the arguments of :class:`BasicBlock`, except that ``planes`` is
    the bottleneck width (the block outputs ``planes * 4`` channels) and
    ``stride`` is the stride of the 3x3 ``conv2``.

    Example:
        >>> block = Bottleneck(256, 64)
        >>> tuple(block(torch.rand(2, 256, 8, 8)).shape)
        (2, 256, 8, 8)
    """

    expansion = 4

    def _build_branch(self, in_channels: int, planes: int, stride: int,
                      conv_cfg: Optional[dict], norm_cfg: dict) -> None:
        out_channels = planes * self.expansion
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, planes, 1, bias=False)
        self.bn1 = _norm(norm_cfg, planes)
        self.conv2 = build_conv_layer(
            conv_cfg, planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = _norm(norm_cfg, planes)
        self.conv3 = build_conv_layer(
            conv_cfg, planes, out_channels, 1, bias=False)
        self.bn3 = _norm(norm_cfg, out_channels)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3


def make_res_layer(block: Type[_ResBlockBase],
                   in_channels: int,
                   planes: int,
                   num_blocks: int,
                   stride: int = 1,
                   with_cp: bool = False,
                   conv_cfg: Optional[dict] = None,
                   norm_cfg: Optional[dict] = None) -> nn.Sequential:
    """Stack ``num_blocks`` blocks; the first one changes stride/width and
    gets a 1x1 conv + norm shortcut (``<i>.downsample.{0,1}``) when the
    shape changes.

    Example:
        >>> layer = make_res_layer(Bottleneck, 64, 64, 3)
        >>> tuple(layer(torch.rand(1, 64, 8, 8)).shape)
        (1, 256, 8, 8)
    """
    if num_blocks < 1:
        raise ValueError(f'num_blocks must be >= 1, got {num_blocks}')
    norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            build_conv_layer(
                conv_cfg, in_channels, out_channels, 1, stride=stride,
                bias=False), _norm(norm_cfg, out_channels))
    common = dict(with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
    blocks = [block(in_channels, planes, stride, downsample, **common)]
    blocks += [
        block(out_channels, planes, **common) for _ in range(1, num_blocks)
    ]
    return nn.Sequential(*blocks)
