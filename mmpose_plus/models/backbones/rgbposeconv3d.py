"""RGBPoseConv3D: two 3D-ResNet pathways (RGB frames, pose heatmaps) with
bidirectional lateral connections, and the lateral-capable pathway itself.

The RGB pathway sees few frames at high resolution, the pose pathway
``speed_ratio`` times more frames at a quarter of the resolution. After RGB
``layer2``/``layer3`` (pose ``layer1``/``layer2``) each pathway receives the
other's features through a temporal (de)convolution and concatenates them to
its own, which widens the input of its next stage. State dicts match
mmaction2 1.1.0 (``rgb_path.layer3.0.conv1.conv.weight [256, 640, 3, 1, 1]``,
``pose_path.layer1_lateral.{conv,bn}``, ...).
"""
import copy
from dataclasses import dataclass
from types import MappingProxyType
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, kaiming_init
from mmengine.runner.checkpoint import load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose_plus.registry import MODELS
from .resnet3d import OptMultiConfig, ResNet3d

__all__ = ['LateralSpec', 'ResNet3dPathway', 'RGBPoseConv3D']


@dataclass(frozen=True)
class LateralSpec:
    """How a pathway turns its sibling's features into extra input channels.

    A lateral feeds a stage whose own input has ``C`` channels. Forward
    laterals (the sibling is faster) read ``C // channel_ratio`` channels
    and shrink time by ``speed_ratio`` with a strided Conv3d; inverse ones
    (the sibling is slower) read ``C * channel_ratio`` channels and stretch
    time by ``speed_ratio`` with a ConvTranspose3d + norm + ReLU.

    Args:
        inverse (bool): Upsample time (``lateral_inv``).
        with_norm (bool): Norm + activation after forward laterals
            (``lateral_norm``).
        inflation (int): Channel inflation (``lateral_infl``).
        kernel (int): Temporal kernel (``fusion_kernel``).
        speed_ratio (int): Frame-rate ratio between the pathways.
        channel_ratio (int): Channel ratio between the pathways.

    Example:
        >>> spec = LateralSpec(inverse=False, with_norm=False, inflation=1,
        ...                    kernel=7, speed_ratio=4, channel_ratio=4)
        >>> spec.channels(512)
        (128, 128)
    """
    inverse: bool
    with_norm: bool
    inflation: int
    kernel: int
    speed_ratio: int
    channel_ratio: int

    def channels(self, stage_in: int) -> Tuple[int, int]:
        """(in, out) channels of the lateral into a stage whose own input
        has ``stage_in`` channels."""
        if self.inverse:
            wide = stage_in * self.channel_ratio
            return wide, wide // self.inflation
        return (stage_in // self.channel_ratio,
                stage_in * self.inflation // self.channel_ratio)

    def build(self, stage_in: int, conv_cfg: Dict, norm_cfg: Dict,
              act_cfg: Dict) -> ConvModule:
        """The lateral into a stage whose own input has ``stage_in``
        channels, as a ConvModule (``.conv`` [+ ``.bn``])."""
        k = self.kernel
        in_channels, out_channels = self.channels(stage_in)
        if self.inverse:
            # The transposed conv must output exactly ``speed_ratio * T``
            # frames.
            out_pad = self.speed_ratio - k + 2 * ((k - 1) // 2)
            if not 0 <= out_pad < self.speed_ratio:
                raise ValueError(f'fusion_kernel={k} cannot upsample time '
                                 f'by speed_ratio={self.speed_ratio}')
            layers = dict(
                conv_cfg=dict(
                    type=nn.ConvTranspose3d, output_padding=(out_pad, 0, 0)),
                norm_cfg=norm_cfg,
                act_cfg=dict(type='ReLU'))
        else:
            layers = dict(
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg if self.with_norm else None,
                act_cfg=act_cfg if self.with_norm else None)
        return ConvModule(
            in_channels,
            out_channels,
            kernel_size=(k, 1, 1),
            stride=(self.speed_ratio, 1, 1),
            padding=((k - 1) // 2, 0, 0),
            bias=False,
            **layers)


@MODELS.register_module()
class ResNet3dPathway(ResNet3d):
    """A :class:`ResNet3d` that can receive lateral features from a sibling
    pathway (SlowFast / RGBPoseConv3D).

    The lateral feeding stage ``i + 1`` is named ``layer{i}_lateral``
    (``conv1_lateral`` feeds ``layer1``); its geometry is a
    :class:`LateralSpec` (:attr:`lateral_spec`). Stages whose
    ``lateral_activate`` flag is set get the lateral's output channels added
    to their input: for a stage whose own input has ``C`` channels that is
    ``C * lateral_infl // channel_ratio``, or ``C * channel_ratio //
    lateral_infl`` with ``lateral_inv``. The lateral modules are applied by
    the owner of both pathways; this class's own :meth:`forward` is the
    plain ResNet3d one.

    Args:
        lateral (bool): Build lateral connections. Default False.
        lateral_activate (Sequence[int]): Per stage, whether the stage input
            receives a lateral. Default ``(1, 1, 1, 1)``.
        lateral_inv (bool): Laterals upsample time (deconv). Default False.
        lateral_norm (bool): Norm + activation after non-inverse laterals.
            Default False.
        lateral_infl (int): Channel inflation of the laterals. Default 2.
        fusion_kernel (int): Temporal kernel of the laterals. Default 5.
        speed_ratio (int): Frame-rate ratio between the pathways. Default 8.
        channel_ratio (int): Channel ratio between the pathways. Default 8.
        **kwargs: Arguments of :class:`ResNet3d`.

        All arguments are keyword-only.

    Example:
        >>> path = ResNet3dPathway(
        ...     depth=50, lateral=True, speed_ratio=4, channel_ratio=4,
        ...     lateral_infl=1, lateral_activate=(0, 0, 1, 1),
        ...     fusion_kernel=7, base_channels=64)
        >>> path.lateral_connections
        ['layer2_lateral', 'layer3_lateral']
        >>> tuple(path.layer3[0].conv1.conv.weight.shape)
        (256, 640, 3, 1, 1)
    """

    def __init__(self,
                 *,
                 lateral: bool = False,
                 lateral_activate: Sequence[int] = (1, 1, 1, 1),
                 lateral_inv: bool = False,
                 lateral_norm: bool = False,
                 lateral_infl: int = 2,
                 fusion_kernel: int = 5,
                 speed_ratio: int = 8,
                 channel_ratio: int = 8,
                 **kwargs) -> None:
        num_stages = kwargs.get('num_stages', 4)
        if lateral and len(lateral_activate) != num_stages:
            raise ValueError(f'lateral_activate {tuple(lateral_activate)} '
                             f'needs one flag per stage (num_stages='
                             f'{num_stages})')
        # Read by ``_extra_stage_inplanes`` while ResNet3d builds the stages.
        self.lateral = lateral
        self.lateral_activate = tuple(lateral_activate)
        self.lateral_spec = LateralSpec(
            inverse=lateral_inv,
            with_norm=lateral_norm,
            inflation=lateral_infl,
            kernel=fusion_kernel,
            speed_ratio=speed_ratio,
            channel_ratio=channel_ratio)
        super().__init__(**kwargs)

        # Every point that can feed a lateral: the stem, then each stage but
        # the last, with the channels it hands to the next stage.
        self.lateral_connections: List[str] = []
        feeders = ['conv1'] + self.res_layers[:-1]
        widths = [self.base_channels] + [
            self.base_channels * 2**i * self.block.expansion
            for i in range(self.num_stages - 1)
        ]
        active = self.lateral_activate if lateral else ()
        for feeder, width, on in zip(feeders, widths, active):
            if not on:
                continue
            name = f'{feeder}_lateral'
            self.add_module(
                name,
                self.lateral_spec.build(width, self.conv_cfg, self.norm_cfg,
                                        self.act_cfg))
            if feeder != 'conv1':
                self.lateral_connections.append(name)

    def _extra_stage_inplanes(self, stage_idx: int,
                              stage_inplanes: int) -> int:
        if not (self.lateral and self.lateral_activate[stage_idx]):
            return 0
        return self.lateral_spec.channels(stage_inplanes)[1]

    def _named_inflatable_modules(self) -> Iterator[Tuple[str, ConvModule]]:
        # Laterals have no 2D counterpart; they keep their own init.
        for name, module in super()._named_inflatable_modules():
            if '_lateral' not in name:
                yield name, module

    def _lateral_modules(self) -> List[nn.Module]:
        names = self.lateral_connections + (
            ['conv1_lateral'] if hasattr(self, 'conv1_lateral') else [])
        return [getattr(self, n) for n in names]

    def _frozen_modules(self) -> List[nn.Module]:
        """The stem with ``conv1_lateral`` and each frozen stage ``i`` with
        ``layer{i}_lateral`` (the lateral fused into its output)."""
        modules = super()._frozen_modules()
        if self.frozen_stages < 0:
            return modules
        names = ['conv1_lateral'] + [
            f'layer{i}_lateral' for i in range(1, self.frozen_stages + 1)
        ]
        return modules + [getattr(self, n) for n in names if hasattr(self, n)]

    def init_weights(self, pretrained: Optional[str] = None) -> None:
        """Initialise like :class:`ResNet3d`; laterals are (re)initialised
        unless they came from a 3D checkpoint."""
        super().init_weights(pretrained)
        if self.pretrained is not None and not self.pretrained2d:
            return
        for module in self._lateral_modules():
            kaiming_init(module.conv)
            if module.with_norm:
                constant_init(module.norm, 1)


def _pathway_defaults(**overrides) -> Mapping:
    """Read-only defaults of one RGBPoseConv3D pathway.

    Both pathways are SlowOnly-like :class:`ResNet3dPathway` s (purely
    spatial stem kernel, no temporal pool after ``layer1``) with laterals of
    temporal kernel 7; ``overrides`` hold what differs.
    """
    cfg = dict(
        lateral=True,
        fusion_kernel=7,
        conv1_kernel=(1, 7, 7),
        with_pool2=False)
    cfg.update(overrides)
    return MappingProxyType(cfg)


def _stage_table(names: Sequence[str],
                 rows: Sequence[Sequence[int]]) -> Dict[str, tuple]:
    """Turn one row per stage into per-stage keyword arguments."""
    return dict(zip(names, zip(*rows)))


DEFAULT_RGB_PATHWAY: Mapping = _pathway_defaults(
    num_stages=4,
    base_channels=64,
    inflate=(0, 0, 1, 1),
    # pose -> RGB laterals into layer3 and layer4
    lateral_activate=(0, 0, 1, 1),
    lateral_infl=1)

DEFAULT_POSE_PATHWAY: Mapping = _pathway_defaults(
    num_stages=3,
    in_channels=17,
    base_channels=32,
    out_indices=(2, ),
    # Heatmaps are small already: no spatial stride in the stem.
    conv1_stride_s=1,
    pool1_stride_s=1,
    # RGB -> pose laterals upsample time.
    lateral_inv=True,
    lateral_infl=16,
    **_stage_table(
        ('stage_blocks', 'inflate', 'lateral_activate', 'spatial_strides',
         'temporal_strides', 'dilations'),
        [(4, 0, 0, 2, 1, 1),
         (6, 1, 1, 2, 1, 1),
         (3, 1, 1, 2, 1, 1)]))


@MODELS.register_module()
class RGBPoseConv3D(BaseModule):
    """Two-stream RGB + pose-heatmap 3D CNN with lateral fusion (PoseC3D).

    RGB ``layer(k+1)`` runs alongside pose ``layer(k)``; after the pairs
    (layer2, layer1) and (layer3, layer2) each pathway concatenates the
    other's lateral output to its features. Pose inputs must have
    ``speed_ratio`` times the frames and a quarter of the spatial size of the
    RGB inputs (with the default strides).

    Args:
        pretrained (str, optional): Local checkpoint of the whole backbone,
            loaded strictly in :meth:`init_weights`. Default None.

        The remaining arguments are keyword-only.

        speed_ratio (int): Pose frames per RGB frame. Default 4.
        channel_ratio (int): RGB channels per pose channel. Default 4.
        rgb_pathway (dict, optional): :class:`ResNet3dPathway` kwargs of the
            RGB pathway; None uses ``DEFAULT_RGB_PATHWAY``.
        pose_pathway (dict, optional): Same for the pose pathway; None uses
            ``DEFAULT_POSE_PATHWAY``.
        rgb_detach (bool): Stop gradients from the RGB pathway into the pose
            pathway through the pose->RGB laterals. Default False.
        rgb_drop_path (float): Training-time probability of zeroing the
            pose->RGB lateral features (per forward). Default 0.
        pose_detach (bool): Stop gradients from the pose pathway into the RGB
            pathway through the RGB->pose laterals. Default False.
        pose_drop_path (float): Same for the RGB->pose laterals. Default 0.
        init_cfg (dict or list[dict], optional): Init config. Default None.

    Example:
        >>> model = RGBPoseConv3D().eval()
        >>> x_rgb, x_pose = model(torch.rand(1, 3, 8, 64, 64),
        ...                       torch.rand(1, 17, 32, 16, 16))
        >>> tuple(x_rgb.shape), tuple(x_pose.shape)
        ((1, 2048, 8, 2, 2), (1, 512, 32, 2, 2))
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 *,
                 speed_ratio: int = 4,
                 channel_ratio: int = 4,
                 rgb_pathway: Optional[Dict] = None,
                 pose_pathway: Optional[Dict] = None,
                 rgb_detach: bool = False,
                 rgb_drop_path: float = 0,
                 pose_detach: bool = False,
                 pose_drop_path: float = 0,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, p in (('rgb_drop_path', rgb_drop_path),
                        ('pose_drop_path', pose_drop_path)):
            if not 0 <= p <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {p}')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError('pretrained must be a file path (str) or None')
        self.pretrained = pretrained
        self.speed_ratio, self.channel_ratio = speed_ratio, channel_ratio
        # Per stream: stop its gradients through the lateral it receives /
        # zero that lateral with this probability while training.
        self.rgb_detach, self.rgb_drop_path = rgb_detach, rgb_drop_path
        self.pose_detach, self.pose_drop_path = pose_detach, pose_drop_path

        paths = {}
        for name, cfg, default in (('rgb', rgb_pathway, DEFAULT_RGB_PATHWAY),
                                   ('pose', pose_pathway,
                                    DEFAULT_POSE_PATHWAY)):
            cfg = copy.deepcopy(dict(default if cfg is None else cfg))
            if cfg.get('lateral', False):
                cfg.update(
                    speed_ratio=speed_ratio, channel_ratio=channel_ratio)
            # A temporal pool after layer1 would break the frame ratio the
            # laterals rely on: refuse it, and do not build it by default.
            if cfg.setdefault('with_pool2', False):
                raise ValueError(f'{name}_pathway: with_pool2=True is not '
                                 'supported by RGBPoseConv3D')
            paths[name] = ResNet3dPathway(**cfg)
        self.rgb_path = paths['rgb']
        self.pose_path = paths['pose']
        if self.rgb_path.num_stages != self.pose_path.num_stages + 1:
            raise ValueError('the RGB pathway needs exactly one stage more '
                             'than the pose pathway, got '
                             f'{self.rgb_path.num_stages} and '
                             f'{self.pose_path.num_stages}')

    def init_weights(self) -> None:
        """Load ``pretrained`` strictly, or initialise both pathways."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, _BatchNorm):
                constant_init(m, 1)
        if self.pretrained is None:
            self.rgb_path.init_weights()
            self.pose_path.init_weights()
            if self.init_cfg is not None:
                super().init_weights()
            return
        ResNet3d._check_local_file(self.pretrained)
        logger = MMLogger.get_current_instance()
        logger.info(f'load model from: {self.pretrained}')
        load_checkpoint(
            self,
            self.pretrained,
            strict=True,
            map_location='cpu',
            logger=logger)

    @staticmethod
    def _fuse(x: torch.Tensor, lateral: torch.Tensor, drop: bool,
              where: str) -> torch.Tensor:
        if drop:
            lateral = torch.zeros_like(lateral)
        if x.shape[2:] != lateral.shape[2:]:
            raise ValueError(
                f'{where}: features {tuple(x.shape)} and lateral '
                f'{tuple(lateral.shape)} differ in (T, H, W); heatmap_imgs '
                'need speed_ratio x the frames of imgs and, with the default '
                'strides, 1/4 of their height and width')
        return torch.cat((x, lateral), dim=1)

    def forward(
            self, imgs: torch.Tensor,
            heatmap_imgs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Extract features of both streams.

        Args:
            imgs (Tensor): RGB clip ``(N, 3, T, H, W)``.
            heatmap_imgs (Tensor): Heatmaps
                ``(N, K, speed_ratio * T, H / 4, W / 4)``.

        Returns:
            tuple[Tensor, Tensor]: ``x_rgb`` of the last RGB stage and
            ``x_pose`` of the last pose stage.
        """
        rgb, pose = self.rgb_path, self.pose_path
        if self.training:
            # One draw per forward for the whole batch (as mmaction2).
            drop_rgb = bool(torch.rand(1) < self.rgb_drop_path)
            drop_pose = bool(torch.rand(1) < self.pose_drop_path)
        else:
            drop_rgb = drop_pose = False

        x_rgb = rgb.forward_stem(imgs)
        x_pose = pose.forward_stem(heatmap_imgs)
        x_rgb = getattr(rgb, rgb.res_layers[0])(x_rgb)

        for rgb_name, pose_name in zip(rgb.res_layers[1:], pose.res_layers):
            x_rgb = getattr(rgb, rgb_name)(x_rgb)
            x_pose = getattr(pose, pose_name)(x_pose)
            to_rgb = getattr(rgb, f'{rgb_name}_lateral', None)
            to_pose = getattr(pose, f'{pose_name}_lateral', None)
            # Both laterals read the features from before either fusion.
            lat_rgb = lat_pose = None
            if to_rgb is not None:
                lat_rgb = to_rgb(
                    x_pose.detach() if self.rgb_detach else x_pose)
            if to_pose is not None:
                lat_pose = to_pose(
                    x_rgb.detach() if self.pose_detach else x_rgb)
            if lat_rgb is not None:
                x_rgb = self._fuse(x_rgb, lat_rgb, drop_rgb,
                                   f'rgb_path.{rgb_name}_lateral')
            if lat_pose is not None:
                x_pose = self._fuse(x_pose, lat_pose, drop_pose,
                                    f'pose_path.{pose_name}_lateral')
        return x_rgb, x_pose
