"""R(2+1)D (Tran et al., "A Closer Look at Spatiotemporal Convolutions for
Action Recognition", CVPR 2018): a :class:`ResNet3d` whose every convolution
(stem, blocks, shortcuts) is a factorised :class:`Conv2plus1d`.

State-dict layout with the defaults (identical to mmaction2's
``ResNet2Plus1d``): ``conv1.conv.{conv_s,bn_s,conv_t}.*``, ``conv1.bn.*``,
``layerN.i.convK.conv.{conv_s,bn_s,conv_t}.*``, ``layerN.i.convK.bn.*``,
``layerN.0.downsample.conv.{conv_s,bn_s,conv_t}.*``,
``layerN.0.downsample.bn.*``.

``stem_mid_channels=45`` gives the stem of the paper / torchvision
(``conv_s`` (1,7,7) stride (1,2,2) 3->45, BN, ReLU, ``conv_t`` (3,1,1)
45->64, BN, ReLU) under the same keys, with
``conv1.conv.conv_s.weight`` of shape ``(45, 3, 1, 7, 7)`` and
``conv1.conv.conv_t.weight`` of shape ``(64, 45, 3, 1, 1)``; torchvision's
stem has no max-pool, so add ``with_pool1=False`` to match it fully.
"""
from typing import Dict, Optional

from mmpose_plus.models.layers.conv2plus1d import Conv2plus1d
from mmpose_plus.registry import MODELS
from .resnet3d import ResNet3d

__all__ = ['ResNet2Plus1d']


def _conv_type_name(conv_type) -> str:
    name = conv_type if isinstance(conv_type, str) else getattr(
        conv_type, '__name__', repr(conv_type))
    return name.rpartition('.')[2]


@MODELS.register_module()
class ResNet2Plus1d(ResNet3d):
    """:class:`ResNet3d` built from (2+1)D convolutions.

    Differences from :class:`ResNet3d` (all defaults, as in mmaction2):
    ``conv_cfg=dict(type='Conv2plus1d')``, ``pretrained2d=False`` (a 2D
    ResNet cannot be inflated into factorised convs) and no temporal pool
    after ``layer1`` (``with_pool2=False``; mmaction2 ignores ``with_pool2``
    altogether, we honour an explicit True).

    Args:
        conv_cfg (dict): Must be a ``Conv2plus1d`` config; extra keys
            (``norm_cfg`` of the inner norm, ``mid_channels_t``) reach every
            conv. A plain ``'Conv2plus1d'`` name is bound to our class so the
            model builds in any registry scope.
            Default ``dict(type='Conv2plus1d')``.
        pretrained2d (bool): Must stay False. Default False.
        with_pool2 (bool): Halve time after ``layer1``. Default False.
        stem_mid_channels (int, optional): Width between the spatial and the
            temporal conv of the stem. None uses the (2+1)D formula, like
            every other conv (83 for 3->64, mmaction2's layout); 45 is the
            stem of the paper and torchvision. Default None.
        **kwargs: Other arguments of :class:`ResNet3d`.

    Example:
        >>> # R(2+1)D-34 of mmaction2's Kinetics-400 config
        >>> model = ResNet2Plus1d(
        ...     depth=34, conv1_kernel=(3, 7, 7), inflate=(1, 1, 1, 1),
        ...     spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2),
        ...     norm_cfg=dict(type='BN3d', eps=1e-3), zero_init_residual=False)
        >>> tuple(model(torch.rand(1, 3, 8, 64, 64)).shape)
        (1, 512, 1, 2, 2)
        >>> paper = ResNet2Plus1d(depth=18, stem_mid_channels=45)
        >>> tuple(paper.conv1.conv.conv_s.weight.shape)
        (45, 3, 1, 7, 7)
    """

    #: Stem width of the paper / torchvision (3 -> 45 -> 64).
    PAPER_STEM_MID_CHANNELS = 45

    def __init__(self,
                 conv_cfg: Dict = dict(type='Conv2plus1d'),
                 pretrained2d: bool = False,
                 with_pool2: bool = False,
                 stem_mid_channels: Optional[int] = None,
                 **kwargs) -> None:
        conv_cfg = dict(conv_cfg)
        conv_type = conv_cfg.get('type')
        if _conv_type_name(conv_type) != 'Conv2plus1d':
            raise ValueError('ResNet2Plus1d needs conv_cfg of type '
                             f"'Conv2plus1d', got {conv_type!r}")
        if isinstance(conv_type, str) and '.' not in conv_type:
            conv_cfg['type'] = Conv2plus1d
        if pretrained2d:
            raise ValueError('ResNet2Plus1d cannot inflate a 2D checkpoint '
                             '(pretrained2d=True); load a 3D checkpoint of '
                             'this model with pretrained2d=False')
        if stem_mid_channels is not None and stem_mid_channels < 1:
            raise ValueError('stem_mid_channels must be a positive int, got '
                             f'{stem_mid_channels}')
        # Read by _make_stem_layer, which ResNet3d.__init__ calls.
        self.stem_mid_channels = stem_mid_channels
        super().__init__(
            conv_cfg=conv_cfg,
            pretrained2d=pretrained2d,
            with_pool2=with_pool2,
            **kwargs)

    def _make_stem_layer(self) -> None:
        """The :class:`ResNet3d` stem, with a fixed middle width if
        ``stem_mid_channels`` is set."""
        if self.stem_mid_channels is None:
            super()._make_stem_layer()
            return
        network_conv_cfg = self.conv_cfg
        self.conv_cfg = dict(
            network_conv_cfg, mid_channels=self.stem_mid_channels)
        try:
            super()._make_stem_layer()
        finally:
            self.conv_cfg = network_conv_cfg
