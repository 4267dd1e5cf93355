"""(2+1)D factorised convolution (Tran et al., "A Closer Look at
Spatiotemporal Convolutions for Action Recognition", CVPR 2018).

A ``t x k x k`` 3D convolution is replaced by a ``1 x k x k`` spatial
convolution into ``M`` channels, a norm + ReLU, and a ``t x 1 x 1``
temporal convolution, with ``M`` chosen so that the parameter count stays
close to the full 3D kernel's.

The module mimics the attribute surface of ``nn.Conv3d`` so that mmcv's
``ConvModule`` / ``build_conv_layer`` accept it as a conv layer, either by
registered name or by class::

    ConvModule(64, 64, 3, padding=1, conv_cfg=dict(type=Conv2plus1d),
               norm_cfg=dict(type='BN3d'))
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model.weight_init import constant_init, kaiming_init
from torch.nn.modules.utils import _triple

from mmpose_plus.registry import MODELS

__all__ = ['Conv2plus1d', 'conv2plus1d_mid_channels']

IntOr3 = Union[int, Sequence[int]]


def conv2plus1d_mid_channels(in_channels: int, out_channels: int,
                             kernel_t: int, kernel_h: int,
                             kernel_w: int) -> int:
    """Width of the middle plane that keeps a (2+1)D pair's parameter count
    close to a full ``t x h x w`` conv (the paper's Eq. for ``M_i``).

    ``M = floor(t*h*w*Cin*Cout / (h*w*Cin + t*Cout))``.

    Example:
        >>> conv2plus1d_mid_channels(64, 64, 3, 3, 3)
        144
    """
    numerator = kernel_t * kernel_h * kernel_w * in_channels * out_channels
    denominator = kernel_h * kernel_w * in_channels + kernel_t * out_channels
    return max(1, math.floor(numerator / denominator))


@MODELS.register_module()
class Conv2plus1d(nn.Module):
    """Factorised (2+1)D convolution with the call signature of
    ``nn.Conv3d``.

    Layout (state-dict keys): ``conv_s`` (spatial ``1 x kh x kw`` conv,
    spatial stride/padding/dilation), ``bn_s`` (norm over the middle plane),
    ReLU, ``conv_t`` (temporal ``kt x 1 x 1`` conv, temporal
    stride/padding/dilation).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int | tuple[int]): ``(t, h, w)`` of the 3D kernel being
            factorised.
        stride (int | tuple[int]): ``(t, h, w)`` stride. Defaults to 1.
        padding (int | tuple[int]): ``(t, h, w)`` padding. Defaults to 0.
        dilation (int | tuple[int]): ``(t, h, w)`` dilation. Defaults to 1.
        groups (int): Only 1 is supported (the middle plane width does not
            in general divide by the group count). Defaults to 1.
        bias (bool | str): Bias of both convs. ``ConvModule`` resolves
            ``'auto'`` before building us; ``'auto'`` here means False
            because ``bn_s`` follows ``conv_s``. Defaults to True.
        norm_cfg (dict): Norm between the two convs.
            Defaults to ``dict(type='BN3d')``.
        mid_channels (int, optional): Explicit middle-plane width; overrides
            the formula. Defaults to None.
        mid_channels_t (int, optional): The ``t`` used in the middle-plane
            formula. mmaction2 always uses 3 here, whatever the kernel's own
            temporal size (so a ``1x1x1`` downsample conv also gets the
            3-based width); keeping 3 is what makes mmaction2 checkpoints
            load. ``None`` uses the kernel's own ``t``, i.e. the paper's
            formula applied literally. Both agree for ``3 x k x k`` kernels.
            Defaults to 3.

    Example:
        >>> import torch
        >>> conv = Conv2plus1d(3, 64, (3, 7, 7), stride=(1, 2, 2),
        ...                    padding=(1, 3, 3), bias=False)
        >>> conv.conv_s.out_channels
        83
        >>> conv(torch.rand(1, 3, 8, 32, 32)).shape
        torch.Size([1, 64, 8, 16, 16])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntOr3,
                 stride: IntOr3 = 1,
                 padding: IntOr3 = 0,
                 dilation: IntOr3 = 1,
                 groups: int = 1,
                 bias: Union[bool, str] = True,
                 norm_cfg: Optional[dict] = None,
                 mid_channels: Optional[int] = None,
                 mid_channels_t: Optional[int] = 3) -> None:
        super().__init__()
        if groups != 1:
            raise ValueError(
                f'Conv2plus1d supports groups=1 only, got groups={groups}')
        if isinstance(padding, str):
            raise ValueError('Conv2plus1d needs numeric padding, got '
                             f'padding={padding!r}')
        kt, kh, kw = _triple(kernel_size)
        st, sh, sw = _triple(stride)
        pt, ph, pw = _triple(padding)
        dt, dh, dw = _triple(dilation)
        if bias == 'auto':
            bias = False
        if norm_cfg is None:
            norm_cfg = dict(type='BN3d')

        if mid_channels is None:
            formula_t = kt if mid_channels_t is None else mid_channels_t
            mid_channels = conv2plus1d_mid_channels(in_channels, out_channels,
                                                    formula_t, kh, kw)

        # nn.Conv3d-like attributes that ConvModule re-exports.
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mid_channels = mid_channels
        self.kernel_size: Tuple[int, int, int] = (kt, kh, kw)
        self.stride: Tuple[int, int, int] = (st, sh, sw)
        self.padding: Tuple[int, int, int] = (pt, ph, pw)
        self.dilation: Tuple[int, int, int] = (dt, dh, dw)
        self.groups = groups
        self.bias = bool(bias)
        self.transposed = False
        self.output_padding = (0, 0, 0)
        self.norm_cfg = dict(norm_cfg)

        self.conv_s = nn.Conv3d(
            in_channels,
            mid_channels,
            kernel_size=(1, kh, kw),
            stride=(1, sh, sw),
            padding=(0, ph, pw),
            dilation=(1, dh, dw),
            bias=self.bias)
        _, self.bn_s = build_norm_layer(self.norm_cfg, mid_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = nn.Conv3d(
            mid_channels,
            out_channels,
            kernel_size=(kt, 1, 1),
            stride=(st, 1, 1),
            padding=(pt, 0, 0),
            dilation=(dt, 1, 1),
            bias=self.bias)
        self.init_weights()

    def init_weights(self) -> None:
        """Kaiming-normal convs, unit-scale norm. ``ConvModule`` sees this
        method and leaves the weights to us."""
        kaiming_init(self.conv_s)
        kaiming_init(self.conv_t)
        constant_init(self.bn_s, 1, bias=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, Cin, T, H, W) -> (N, Cout, T', H', W')."""
        return self.conv_t(self.relu(self.bn_s(self.conv_s(x))))

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, '
                f'kernel_size={self.kernel_size}, stride={self.stride}, '
                f'mid_channels={self.mid_channels}')
