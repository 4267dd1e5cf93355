"""HRNet backbone (Sun et al., "Deep High-Resolution Representation Learning
for Human Pose Estimation", CVPR 2019).

A stem of two stride-2 3x3 convs (1/4 resolution), a residual stage
(``layer1``) and three multi-resolution stages. Every stage adds one lower
resolution branch (``transitionN``) and repeats high-resolution modules
(``HRModule``) that run residual blocks per branch and then exchange
information between all branches (``fuse_layers``).

The submodule names follow the official implementation, so the released
HRNet / HigherHRNet checkpoints and mmpose checkpoints load key for key::

    conv1, bn1, conv2, bn2, layer1.{0..3}.*,
    transition1.0.0 [32,256,3,3]  (branch 0: 3x3 conv + BN + ReLU)
    transition1.1.0.0 [64,256,3,3] (new branch: chain of stride-2 convs)
    stage2.0.branches.{b}.{i}.*, stage2.0.fuse_layers.{i}.{j}.*, ...
    stage4.2.fuse_layers.0.*       (last module: only branch 0 unless
                                    ``multiscale_output``)
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer

from mmpose_plus.registry import MODELS
from ..layers.res_blocks2d import BasicBlock, Bottleneck, make_res_layer
from .base_backbone2d import ResidualBackbone2d

__all__ = ['HRNet', 'HRModule', 'hrnet_extra']

BLOCKS = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}

# Branch widths of the published variants; everything else is shared.
arch_settings: Dict[int, Tuple[int, int, int, int]] = {
    18: (18, 36, 72, 144),
    32: (32, 64, 128, 256),
    48: (48, 96, 192, 384),
}


def hrnet_extra(width: int = 32, multiscale_output: bool = False) -> dict:
    """The standard ``extra`` stage dict of HRNet-W{width}.

    Args:
        width (int): 18, 32 or 48 (the ``arch_settings`` keys).
        multiscale_output (bool): Put ``multiscale_output`` in stage4.

    Example:
        >>> hrnet_extra(32)['stage4']['num_channels']
        (32, 64, 128, 256)
    """
    if width not in arch_settings:
        raise ValueError(f'HRNet width must be one of '
                         f'{sorted(arch_settings)}, got {width!r}')
    widths = arch_settings[width]
    # (stage, block, modules, branch widths); four blocks per branch.
    stages = ((1, 'BOTTLENECK', 1, (64, )), (2, 'BASIC', 1, widths[:2]),
              (3, 'BASIC', 4, widths[:3]), (4, 'BASIC', 3, widths))
    extra = {
        f'stage{s}': dict(
            num_modules=modules,
            num_branches=len(channels),
            block=block,
            num_blocks=(4, ) * len(channels),
            num_channels=channels)
        for s, block, modules, channels in stages
    }
    extra['stage4']['multiscale_output'] = multiscale_output
    return extra


def _conv_bn(in_c: int, out_c: int, kernel: int, stride: int, relu: bool,
             conv_cfg: Optional[dict], norm_cfg: dict) -> nn.Sequential:
    """``Sequential(conv, norm[, ReLU])``: keys ``0.weight``, ``1.*``."""
    layers = [
        build_conv_layer(
            conv_cfg,
            in_c,
            out_c,
            kernel,
            stride=stride,
            padding=kernel // 2,
            bias=False),
        build_norm_layer(norm_cfg, out_c)[1]
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HRModule(nn.Module):
    """One high-resolution module: residual blocks on every branch, then a
    fusion that sums, for each output branch ``i``, every input branch ``j``
    brought to branch ``i``'s resolution and width.

    * ``j > i`` (lower resolution): 1x1 conv + norm, then upsampling to the
      exact size of branch ``i`` (so odd input sizes work too);
    * ``j < i`` (higher resolution): ``i - j`` stride-2 3x3 conv + norm
      steps, ReLU between steps;
    * ``j == i``: identity.

    Args:
        block (type): ``BasicBlock`` or ``Bottleneck``.
        num_blocks (Sequence[int]): Blocks per branch.
        in_channels (Sequence[int]): Input width per branch.
        num_channels (Sequence[int]): Block width per branch (output width
            is ``num_channels * block.expansion``).
        multiscale_output (bool): Output every branch, or only branch 0.
        with_cp (bool): Checkpoint the residual blocks.
        conv_cfg (dict, optional): Conv layer config.
        norm_cfg (dict): Norm layer config.
        upsample_cfg (dict): ``mode`` / ``align_corners`` of the upsampling.

    Example:
        >>> m = HRModule(BasicBlock, (1, 1), (8, 16), (8, 16), True)
        >>> outs = m([torch.rand(1, 8, 16, 16), torch.rand(1, 16, 8, 8)])
        >>> [tuple(o.shape) for o in outs]
        [(1, 8, 16, 16), (1, 16, 8, 8)]
    """

    def __init__(self,
                 block: type,
                 num_blocks: Sequence[int],
                 in_channels: Sequence[int],
                 num_channels: Sequence[int],
                 multiscale_output: bool = True,
                 with_cp: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 upsample_cfg: Optional[dict] = None) -> None:
        super().__init__()
        if not len(num_blocks) == len(in_channels) == len(num_channels):
            raise ValueError(
                'HRModule: num_blocks, in_channels and num_channels need one '
                f'entry per branch, got {tuple(num_blocks)}, '
                f'{tuple(in_channels)}, {tuple(num_channels)}')
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        upsample = dict(mode='nearest', align_corners=None)
        upsample.update(upsample_cfg or {})
        self.num_branches = len(num_blocks)
        self.multiscale_output = multiscale_output
        self.upsample_mode = upsample['mode']
        self.align_corners = upsample['align_corners']
        self.branches = nn.ModuleList(
            make_res_layer(block, in_channels[b], num_channels[b],
                           num_blocks[b], 1, with_cp, conv_cfg, norm_cfg)
            for b in range(self.num_branches))
        self.out_channels = [c * block.expansion for c in num_channels]

        if self.num_branches == 1:
            self.fuse_layers = None
        else:
            num_out = self.num_branches if multiscale_output else 1
            self.fuse_layers = nn.ModuleList(
                nn.ModuleList(
                    self._fuse_path(j, i, conv_cfg, norm_cfg)
                    for j in range(self.num_branches))
                for i in range(num_out))
        self.relu = nn.ReLU(inplace=True)

    def _fuse_path(self, src: int, dst: int, conv_cfg: Optional[dict],
                   norm_cfg: dict) -> nn.Module:
        c = self.out_channels
        if src == dst:
            return nn.Identity()
        if src > dst:
            # Upsampling is applied in forward, to the destination's size.
            return _conv_bn(c[src], c[dst], 1, 1, False, conv_cfg, norm_cfg)
        steps = []
        for k in range(dst - src):
            last = k == dst - src - 1
            steps.append(
                _conv_bn(c[src], c[dst] if last else c[src], 3, 2, not last,
                         conv_cfg, norm_cfg))
        return nn.Sequential(*steps)

    def forward(self, xs: List[torch.Tensor]) -> List[torch.Tensor]:
        if len(xs) != self.num_branches:
            raise ValueError(f'HRModule expects {self.num_branches} inputs, '
                             f'got {len(xs)}')
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        if self.fuse_layers is None:
            return xs
        outs = []
        for i, paths in enumerate(self.fuse_layers):
            y = None
            for j, path in enumerate(paths):
                z = path(xs[j])
                if j > i:
                    z = F.interpolate(
                        z,
                        size=xs[i].shape[-2:],
                        mode=self.upsample_mode,
                        align_corners=self.align_corners)
                y = z if y is None else y + z
            outs.append(self.relu(y))
        return outs


@MODELS.register_module()
class HRNet(ResidualBackbone2d):
    """HRNet backbone for top-down (HRNet) and bottom-up (HigherHRNet) pose
    estimation.

    Args:
        extra (dict, optional): Stage configuration with keys ``stage1`` ..
            ``stage4``, each a dict of ``num_modules``, ``num_branches``,
            ``block`` (``'BASIC'`` / ``'BOTTLENECK'``), ``num_blocks`` and
            ``num_channels`` (one entry per branch); ``stage4`` may carry
            ``multiscale_output`` and ``extra`` may carry ``upsample``
            (``mode``, ``align_corners``). Give this or ``arch``.
        arch (str | int, optional): ``'w18'``, ``'w32'`` or ``'w48'`` (or the
            width as an int): the standard ``extra`` of that width
            (see :func:`hrnet_extra`). Defaults to None.
        in_channels (int): Input image channels. Defaults to 3.
        multiscale_output (bool, optional): Output all four branches
            (highest resolution first) instead of branch 0 only. None reads
            ``extra['stage4']['multiscale_output']`` (default False).
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        with_cp (bool): Checkpoint the residual blocks. Defaults to False.
        zero_init_residual (bool): Zero the last norm of every residual block
            after init (skipped when initialising from a checkpoint).
            Defaults to False.
        frozen_stages (int): -1 freezes nothing, 0 the stem, ``n >= 1`` also
            stages 1..n (stage 1 = ``layer1`` + ``transition1``, stage 2 =
            ``stage2`` + ``transition2``, stage 3 likewise, stage 4 =
            ``stage4``). Defaults to -1.
        init_cfg (dict | list[dict], optional): Defaults to normal(std=0.001)
            convs and constant(1) norms, as in the official code.

    Returns (forward):
        tuple[Tensor]: ``(N, C0, H/4, W/4)`` only, or one map per branch
        (``C0..C3`` at 1/4, 1/8, 1/16, 1/32) when multi-scale.

    Example:
        >>> net = HRNet(arch='w32').eval()
        >>> outs = net(torch.rand(1, 3, 256, 192))
        >>> [tuple(o.shape) for o in outs]
        [(1, 32, 64, 48)]
    """

    blocks_dict = BLOCKS
    arch_settings = arch_settings

    def __init__(self,
                 extra: Optional[dict] = None,
                 arch: Optional[Union[str, int]] = None,
                 in_channels: int = 3,
                 multiscale_output: Optional[bool] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = False,
                 frozen_stages: int = -1,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Normal', std=0.001, layer=['Conv2d']),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        extra = self._resolve_extra(extra, arch)
        self.extra = extra
        if not -1 <= frozen_stages <= 4:
            raise ValueError('HRNet: frozen_stages must be in [-1, 4], got '
                             f'{frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        if multiscale_output is None:
            multiscale_output = bool(extra['stage4'].get(
                'multiscale_output', False))
        self.multiscale_output = multiscale_output
        layer_kw = dict(with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        upsample_cfg = dict(extra.get('upsample', {}))

        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, 64, 3, stride=2, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.conv2 = build_conv_layer(
            conv_cfg, 64, 64, 3, stride=2, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)

        s1 = extra['stage1']
        block = BLOCKS[s1['block']]
        self.layer1 = make_res_layer(block, 64, s1['num_channels'][0],
                                     s1['num_blocks'][0], **layer_kw)
        channels = [s1['num_channels'][0] * block.expansion]

        for idx in (2, 3, 4):
            cfg = extra[f'stage{idx}']
            block = BLOCKS[cfg['block']]
            cur = [c * block.expansion for c in cfg['num_channels']]
            self.add_module(
                f'transition{idx - 1}',
                self._make_transition(channels, cur, conv_cfg, norm_cfg))
            modules = []
            for m in range(cfg['num_modules']):
                last = idx == 4 and m == cfg['num_modules'] - 1
                module = HRModule(
                    block,
                    cfg['num_blocks'],
                    cur,
                    cfg['num_channels'],
                    multiscale_output=multiscale_output or not last,
                    upsample_cfg=upsample_cfg,
                    **layer_kw)
                cur = module.out_channels
                modules.append(module)
            self.add_module(f'stage{idx}', nn.Sequential(*modules))
            channels = cur
        self.out_channels = channels if multiscale_output else channels[:1]
        self._freeze_stages()

    @staticmethod
    def _resolve_extra(extra: Optional[dict],
                       arch: Optional[Union[str, int]]) -> dict:
        if (extra is None) == (arch is None):
            raise ValueError('HRNet needs exactly one of `extra` (stage dict) '
                             'or `arch` (w18 / w32 / w48)')
        if arch is not None:
            width = arch
            if isinstance(arch, str):
                digits = arch.lower().lstrip('w')
                width = int(digits) if digits.isdigit() else arch
            return hrnet_extra(width)
        extra = copy.deepcopy(dict(extra))
        prev = 1
        for idx in (1, 2, 3, 4):
            key = f'stage{idx}'
            if key not in extra:
                raise KeyError(f'HRNet extra: missing {key!r}; expected keys '
                               'stage1..stage4')
            cfg = extra[key]
            for field in ('num_modules', 'num_branches', 'block',
                          'num_blocks', 'num_channels'):
                if field not in cfg:
                    raise KeyError(f'HRNet extra[{key!r}]: missing {field!r}')
            if cfg['block'] not in BLOCKS:
                raise ValueError(f'HRNet extra[{key!r}]: block must be one of '
                                 f'{sorted(BLOCKS)}, got {cfg["block"]!r}')
            nb = cfg['num_branches']
            if len(cfg['num_blocks']) != nb or len(cfg['num_channels']) != nb:
                raise ValueError(
                    f'HRNet extra[{key!r}]: num_branches={nb} but '
                    f'num_blocks={tuple(cfg["num_blocks"])} and '
                    f'num_channels={tuple(cfg["num_channels"])}')
            if idx == 1 and (nb != 1 or cfg['num_modules'] != 1):
                raise ValueError('HRNet extra[stage1]: must have one module '
                                 'with one branch')
            if nb < prev:
                raise ValueError(f'HRNet extra[{key!r}]: num_branches={nb} is '
                                 f'fewer than the previous stage ({prev})')
            if cfg['num_modules'] < 1:
                raise ValueError(f'HRNet extra[{key!r}]: num_modules must be '
                                 '>= 1')
            prev = nb
        return extra

    @staticmethod
    def _make_transition(pre: List[int], cur: List[int],
                         conv_cfg: Optional[dict],
                         norm_cfg: dict) -> nn.ModuleList:
        """Existing branches: identity, or a 3x3 conv when the width
        changes. New branches: a chain of stride-2 3x3 convs from the lowest
        existing resolution (keys ``<i>.<k>.0`` / ``<i>.<k>.1``)."""
        layers = []
        for i, c in enumerate(cur):
            if i < len(pre):
                layers.append(
                    nn.Identity() if c == pre[i] else _conv_bn(
                        pre[i], c, 3, 1, True, conv_cfg, norm_cfg))
                continue
            steps = i + 1 - len(pre)
            layers.append(
                nn.Sequential(*[
                    _conv_bn(pre[-1], c if k == steps - 1 else pre[-1], 3, 2,
                             True, conv_cfg, norm_cfg) for k in range(steps)
                ]))
        return nn.ModuleList(layers)

    @staticmethod
    def _transit(transition: nn.ModuleList,
                 ys: List[torch.Tensor]) -> List[torch.Tensor]:
        # New branches grow from the lowest-resolution existing branch.
        return [t(ys[min(i, len(ys) - 1)]) for i, t in enumerate(transition)]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        ys = [self.layer1(x)]
        ys = self.stage2(self._transit(self.transition1, ys))
        ys = self.stage3(self._transit(self.transition2, ys))
        ys = self.stage4(self._transit(self.transition3, ys))
        return tuple(ys)

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        mods = [self.conv1, self.bn1, self.conv2, self.bn2]
        for i in range(1, self.frozen_stages + 1):
            mods.append(self.layer1 if i == 1 else getattr(self, f'stage{i}'))
            if i < 4:
                mods.append(getattr(self, f'transition{i}'))
        return mods
