"""Top-down heatmap head: SimpleBaseline's deconvolution head, and (with no
deconvolution layers) HRNet's 1x1 output layer.

Layout (state-dict keys) of the official SimpleBaseline / HRNet and mmpose
1.x heads::

    deconv_layers.{0,3,6}.weight   ConvTranspose2d(k, stride 2, no bias)
    deconv_layers.{1,4,7}.*        BatchNorm2d   (ReLU at 2, 5, 8)
    conv_layers.{0,3,..}.*         optional extra conv + BN + ReLU
    final_layer.{weight,bias}      1x1 conv to K heatmaps

mmpose 0.x kept the extra convs inside ``final_layer.<n>``;
``mmpose_plus.models.utils.pose_checkpoint`` renames those.
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpose_plus.registry import MODELS

__all__ = [
    'HeatmapHead', 'deconv_padding', 'deconv_bn_relu', 'heatmap_head_init_cfg'
]

Feats = Union[Tensor, Sequence[Tensor]]


def deconv_padding(kernel_size: int) -> Tuple[int, int]:
    """``(padding, output_padding)`` of a stride-2 transposed conv that
    exactly doubles the input size.

    Example:
        >>> deconv_padding(4)
        (1, 0)
    """
    table = {4: (1, 0), 3: (1, 1), 2: (0, 0)}
    if kernel_size not in table:
        raise ValueError(f'deconv kernel size must be one of {sorted(table)}, '
                         f'got {kernel_size!r}')
    return table[kernel_size]


def deconv_bn_relu(in_channels: int, out_channels: int,
                   kernel_size: int) -> List[nn.Module]:
    """``[ConvTranspose2d (stride 2, no bias), BatchNorm2d, ReLU]`` that
    exactly doubles the input size: the upsampling step of both heatmap
    heads (a list, so that each head keeps its own key layout).

    Example:
        >>> up = nn.Sequential(*deconv_bn_relu(8, 4, 4))
        >>> tuple(up(torch.rand(1, 8, 5, 6)).shape)
        (1, 4, 10, 12)
    """
    padding, output_padding = deconv_padding(kernel_size)
    return [
        nn.ConvTranspose2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=2,
            padding=padding,
            output_padding=output_padding,
            bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True)
    ]


def heatmap_head_init_cfg() -> List[dict]:
    """Default ``init_cfg`` of the heatmap heads (the official init):
    normal(0.001) conv / deconv weights with zero bias, constant(1) norms.

    Example:
        >>> heatmap_head_init_cfg()[0]['std']
        0.001
    """
    return [
        dict(
            type='Normal',
            layer=['Conv2d', 'ConvTranspose2d'],
            std=0.001,
            bias=0),
        dict(type='Constant', layer='BatchNorm2d', val=1)
    ]


def select_feature(feats: Feats, in_index: int, owner: str) -> Tensor:
    """Pick one feature map out of a backbone's tuple output."""
    if isinstance(feats, Tensor):
        return feats
    feats = list(feats)
    if not feats:
        raise ValueError(f'{owner}: got an empty feature tuple')
    if not -len(feats) <= in_index < len(feats):
        raise IndexError(f'{owner}: in_index={in_index} but the backbone '
                         f'returned {len(feats)} feature maps')
    return feats[in_index]


@MODELS.register_module()
class HeatmapHead(BaseModule):
    """Deconvolution layers, optional conv layers, then a 1x1 conv to one
    heatmap per joint.

    Args:
        in_channels (int): Channels of the selected backbone feature.
        out_channels (int): Number of keypoints K.
        deconv_out_channels (Sequence[int], optional): Width of each
            ``ConvTranspose2d + BN + ReLU`` layer (each doubles the
            resolution). None or ``()`` for none (HRNet). Defaults to
            ``(256, 256, 256)``.
        deconv_kernel_sizes (Sequence[int], optional): Kernel of each deconv
            (4, 3 or 2); ignored without deconv layers. Defaults to
            ``(4, 4, 4)``.
        conv_out_channels (Sequence[int], optional): Width of extra
            ``Conv2d + BN + ReLU`` layers before the final conv. Defaults to
            None.
        conv_kernel_sizes (Sequence[int], optional): Their kernels (odd,
            'same' padding). Defaults to None.
        has_final_layer (bool): Build the final 1x1 conv. Defaults to True.
        in_index (int): Which backbone output to use. Defaults to -1 (the
            last; backbones returning one map are unaffected).
        loss (dict): Loss config. Defaults to
            ``dict(type='KeypointMSELoss', use_target_weight=True)``.
        init_cfg (dict | list[dict], optional): Defaults to normal(0.001)
            conv / deconv weights with zero bias and constant(1) norms.

    Returns (forward):
        Tensor: ``(N, K, H * 2**D, W * 2**D)`` heatmaps for D deconv layers.

    Example:
        >>> head = HeatmapHead(2048, 17)
        >>> tuple(head((torch.rand(2, 2048, 8, 6), )).shape)
        (2, 17, 64, 48)
        >>> hrnet_head = HeatmapHead(32, 17, deconv_out_channels=None)
        >>> tuple(hrnet_head(torch.rand(2, 32, 64, 48)).shape)
        (2, 17, 64, 48)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 deconv_out_channels: Optional[Sequence[int]] = (256, 256,
                                                                 256),
                 deconv_kernel_sizes: Optional[Sequence[int]] = (4, 4, 4),
                 conv_out_channels: Optional[Sequence[int]] = None,
                 conv_kernel_sizes: Optional[Sequence[int]] = None,
                 has_final_layer: bool = True,
                 in_index: int = -1,
                 loss: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if init_cfg is None:
            init_cfg = heatmap_head_init_cfg()
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        if loss is None:
            loss = dict(type='KeypointMSELoss', use_target_weight=True)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_index = in_index
        self.loss_module = MODELS.build(copy.deepcopy(loss))

        deconv_out_channels = tuple(deconv_out_channels or ())
        # Kernel sizes only matter when there are deconv layers (so
        # ``deconv_out_channels=None`` alone gives the HRNet head).
        deconv_kernel_sizes = tuple(deconv_kernel_sizes or ()) \
            if deconv_out_channels else ()
        if len(deconv_out_channels) != len(deconv_kernel_sizes):
            raise ValueError(
                'HeatmapHead: deconv_out_channels and deconv_kernel_sizes '
                f'differ in length: {deconv_out_channels} vs '
                f'{deconv_kernel_sizes}')
        conv_out_channels = tuple(conv_out_channels or ())
        conv_kernel_sizes = tuple(conv_kernel_sizes or ())
        if len(conv_out_channels) != len(conv_kernel_sizes):
            raise ValueError(
                'HeatmapHead: conv_out_channels and conv_kernel_sizes differ '
                f'in length: {conv_out_channels} vs {conv_kernel_sizes}')

        channels = in_channels
        layers = []
        for width, kernel in zip(deconv_out_channels, deconv_kernel_sizes):
            layers += deconv_bn_relu(channels, width, kernel)
            channels = width
        self.deconv_layers = nn.Sequential(*layers) if layers \
            else nn.Identity()

        layers = []
        for width, kernel in zip(conv_out_channels, conv_kernel_sizes):
            if kernel % 2 != 1:
                raise ValueError('HeatmapHead: conv_kernel_sizes must be odd, '
                                 f'got {conv_kernel_sizes}')
            layers += [
                nn.Conv2d(channels, width, kernel, padding=kernel // 2),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True)
            ]
            channels = width
        self.conv_layers = nn.Sequential(*layers) if layers \
            else nn.Identity()

        self.final_layer = nn.Conv2d(channels, out_channels, 1) \
            if has_final_layer else nn.Identity()

    def forward(self, feats: Feats) -> Tensor:
        """Heatmaps from the ``in_index``-th backbone feature (or a tensor).
        """
        x = select_feature(feats, self.in_index, type(self).__name__)
        return self.final_layer(self.conv_layers(self.deconv_layers(x)))

    def loss_by_feat(self, heatmaps: Tensor, target: Tensor,
                     target_weight: Optional[Tensor] = None) -> dict:
        """Loss of already computed heatmaps.

        Args:
            heatmaps (Tensor): ``(N, K, H, W)`` predictions.
            target (Tensor): ``(N, K, H, W)`` target heatmaps.
            target_weight (Tensor, optional): ``(N, K)`` or ``(N, K, 1)``
                per-joint weights.

        Returns:
            dict: ``{'loss_kpt': scalar}``.
        """
        return dict(loss_kpt=self.loss_module(heatmaps, target,
                                              target_weight))

    def loss(self, feats: Feats, target: Tensor,
             target_weight: Optional[Tensor] = None) -> dict:
        """``loss_by_feat(self(feats), target, target_weight)``."""
        return self.loss_by_feat(self.forward(feats), target, target_weight)
