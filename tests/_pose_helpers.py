"""Small model-building helpers shared by the 2D pose tests: expected
state-dict layouts of residual blocks (official / torchvision), random state
dicts and a functional BatchNorm for reference forwards, and HRNet stage
dicts of small networks.

They describe the published layouts independently of the module code under
test, so the tests that use them still compare against an outside
reference.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

Shapes = Dict[str, Tuple[int, ...]]


def state_shapes(module: torch.nn.Module) -> Shapes:
    """Key -> shape of a module's state dict.

    Example:
        >>> state_shapes(torch.nn.Linear(2, 3))
        {'weight': (3, 2), 'bias': (3,)}
    """
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def conv_shapes(name: str, out_c: int, in_c: int, kernel: int) -> Shapes:
    """A bias-free square conv: ``{name}.weight``.

    Example:
        >>> conv_shapes('conv1', 64, 3, 7)
        {'conv1.weight': (64, 3, 7, 7)}
    """
    return {f'{name}.weight': (out_c, in_c, kernel, kernel)}


def bn_shapes(name: str, channels: int) -> Shapes:
    """A BatchNorm2d: affine parameters, running statistics and counter.

    Example:
        >>> sorted(bn_shapes('bn1', 8))[:2]
        ['bn1.bias', 'bn1.num_batches_tracked']
    """
    shapes: Shapes = {
        f'{name}.{p}': (channels, )
        for p in ('weight', 'bias', 'running_mean', 'running_var')
    }
    shapes[f'{name}.num_batches_tracked'] = ()
    return shapes


def residual_block_shapes(name: str,
                          bottleneck: bool,
                          in_c: int,
                          planes: int,
                          strided: bool = False) -> Tuple[Shapes, int]:
    """The official (torchvision) BasicBlock / Bottleneck layout.

    A ``downsample`` (1x1 conv + BN) is there when the block changes the
    width or, with ``strided``, the resolution.

    Args:
        name (str): Key prefix of the block.
        bottleneck (bool): Bottleneck (1x1, 3x3, 1x1; expansion 4) rather
            than BasicBlock (3x3, 3x3).
        in_c (int): Input channels.
        planes (int): Block width.
        strided (bool): The block has stride 2.

    Returns:
        tuple: ``(shapes, out_channels)``.

    Example:
        >>> shapes, out_c = residual_block_shapes('layer1.0', True, 64, 64)
        >>> out_c, shapes['layer1.0.downsample.0.weight']
        (256, (256, 64, 1, 1))
    """
    shapes: Shapes = {}
    if bottleneck:
        out_c = planes * 4
        convs = ((planes, in_c, 1), (planes, planes, 3), (out_c, planes, 1))
    else:
        out_c = planes
        convs = ((planes, in_c, 3), (planes, planes, 3))
    for i, (o, c, k) in enumerate(convs, 1):
        shapes.update(conv_shapes(f'{name}.conv{i}', o, c, k))
        shapes.update(bn_shapes(f'{name}.bn{i}', o))
    if strided or in_c != out_c:
        shapes.update(conv_shapes(f'{name}.downsample.0', out_c, in_c, 1))
        shapes.update(bn_shapes(f'{name}.downsample.1', out_c))
    return shapes, out_c


def random_state_dict(shapes: Shapes, seed: int = 0) -> Dict[str, Tensor]:
    """A float64 state dict of the given layout with values that make a
    wrong mapping visible: norms with weights near 1, small biases and
    running means, running variances in [0.5, 1.5); conv weights scaled by
    ``1 / sqrt(fan_in)`` so that activations keep their size.

    Example:
        >>> sd = random_state_dict(bn_shapes('bn', 4))
        >>> float(sd['bn.running_var'].min()) >= 0.5
        True
    """
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            sd[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            sd[key] = torch.rand(shape, generator=g, dtype=torch.float64) + .5
        elif len(shape) == 1:
            sd[key] = torch.randn(shape, generator=g, dtype=torch.float64) * .1
            if key.endswith('.weight'):
                sd[key] = sd[key] + 1.
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            sd[key] = torch.randn(
                shape, generator=g, dtype=torch.float64) / fan_in**.5
    return sd


def ref_bn(sd: Mapping[str, Tensor], name: str, x: Tensor) -> Tensor:
    """Eval-mode BatchNorm of ``x`` with the ``{name}.*`` entries of a
    state dict (eps 1e-5).

    Example:
        >>> bn = torch.nn.BatchNorm2d(2)
        >>> sd = {f'bn.{k}': v for k, v in bn.state_dict().items()}
        >>> x = torch.rand(1, 2, 3, 3)
        >>> torch.allclose(ref_bn(sd, 'bn', x), x, atol=1e-4)
        True
    """
    return F.batch_norm(x, sd[f'{name}.running_mean'],
                        sd[f'{name}.running_var'], sd[f'{name}.weight'],
                        sd[f'{name}.bias'], False, 0., 1e-5)


def hrnet_stages(widths: Sequence[int],
                 stage1_width: int,
                 num_modules: Sequence[int] = (1, 1, 1),
                 num_blocks: Optional[Mapping[int, Sequence[int]]] = None
                 ) -> dict:
    """``extra`` of a small HRNet: stage 1 is one Bottleneck of
    ``stage1_width``; stage ``s`` = 2..4 has ``s`` BasicBlock branches of
    widths ``widths[:s]``, one block each unless ``num_blocks[s]`` says
    otherwise.

    Args:
        widths (Sequence[int]): The four branch widths.
        stage1_width (int): Width of the stage-1 Bottleneck.
        num_modules (Sequence[int]): Modules of stages 2, 3 and 4.
        num_blocks (Mapping[int, Sequence[int]], optional): Blocks per
            branch of some stages, by stage number.

    Example:
        >>> extra = hrnet_stages((4, 8, 16, 32), 8, num_modules=(1, 1, 2))
        >>> extra['stage4']['num_modules'], extra['stage3']['num_blocks']
        (2, (1, 1, 1))
    """
    num_blocks = num_blocks or {}
    # (stage, block, modules, branch widths)
    stages = [(1, 'BOTTLENECK', 1, (stage1_width, ))]
    stages += [(s, 'BASIC', m, tuple(widths[:s]))
               for s, m in zip((2, 3, 4), num_modules)]
    return {
        f'stage{s}': dict(
            num_modules=modules,
            num_branches=len(channels),
            block=block,
            num_blocks=tuple(num_blocks.get(s, (1, ) * len(channels))),
            num_channels=channels)
        for s, block, modules, channels in stages
    }
