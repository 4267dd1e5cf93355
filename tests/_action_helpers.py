"""Small model-building helpers shared by the action-recognition tests:
backbone settings of PoseC3D and a weight randomiser that makes a wrong
mapping or a numerical slip visible in the outputs.

The settings are written out here (not read from our configs) so that the
tests that use them still compare against an outside reference.
"""
from typing import Any, Dict

import torch
import torch.nn as nn

# PoseC3D SlowOnly-R50 keypoint backbone (NTU60 XSub), as
# ``ResNet3dSlowOnly`` keyword arguments.
POSEC3D_KEYPOINT: Dict[str, Any] = dict(
    depth=50,
    pretrained=None,
    in_channels=17,
    base_channels=32,
    num_stages=3,
    out_indices=(2, ),
    stage_blocks=(4, 6, 3),
    conv1_stride_s=1,
    pool1_stride_s=1,
    inflate=(0, 1, 1),
    spatial_strides=(2, 2, 2),
    temporal_strides=(1, 1, 2),
    dilations=(1, 1, 1))

# The same layout shrunk for fast tests: width 8, one block per stage, and
# the 1x7x7 stem written out; a registry config dict.
SKELETON_BACKBONE: Dict[str, Any] = dict(
    POSEC3D_KEYPOINT,
    type='ResNet3dSlowOnly',
    base_channels=8,
    stage_blocks=(1, 1, 1),
    conv1_kernel=(1, 7, 7))


def randomize(model: nn.Module,
              seed: int = 0,
              bn_weight_offset: float = 0.0) -> nn.Module:
    """Fill a model's float state with O(1) random values, in place.

    The official inits give outputs of ~1e-3, which any tolerance would
    hide. Running variances fall in [0.5, 1.5); weights with more than one
    dimension get ``randn / sqrt(fan_in)``; every other float entry gets
    ``0.2 * randn``, plus ``bn_weight_offset`` for keys ending in
    ``bn.weight`` (the norms of mmcv ``ConvModule`` units).

    Args:
        model (nn.Module): The model to fill.
        seed (int): Seed of the generator. Defaults to 0.
        bn_weight_offset (float): Added to the ``bn.weight`` entries, e.g.
            1.0 to keep norms near identity. Defaults to 0.0.

    Returns:
        nn.Module: ``model`` itself.

    Example:
        >>> bn = randomize(nn.BatchNorm1d(4))
        >>> float(bn.running_var.min()) >= 0.5
        True
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            elif tensor.dim() > 1:
                fan_in = tensor[0].numel()
                tensor.copy_(
                    torch.randn(tensor.shape, generator=gen) / fan_in**0.5)
            else:
                offset = bn_weight_offset if name.endswith('bn.weight') \
                    else 0.0
                tensor.copy_(
                    torch.randn(tensor.shape, generator=gen) * 0.2 + offset)
    return model
