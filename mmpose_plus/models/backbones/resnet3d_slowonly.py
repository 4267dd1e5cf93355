"""SlowOnly: the slow pathway of SlowFast used alone (also the PoseC3D
keypoint backbone). Only the defaults of :class:`ResNet3d` change."""
from typing import Sequence, Union

from mmpose_plus.registry import MODELS
from .resnet3d import ResNet3d

__all__ = ['ResNet3dSlowOnly']


@MODELS.register_module()
class ResNet3dSlowOnly(ResNet3d):
    """:class:`ResNet3d` with a purely spatial stem, no temporal pooling and
    temporal kernels only in the last two stages.

    Args:
        conv1_kernel (Sequence[int]): Stem kernel. Default ``(1, 7, 7)``.
        conv1_stride_t (int): Stem temporal stride. Default 1.
        pool1_stride_t (int): Stem pool temporal stride. Default 1.
        inflate (int | Sequence): Per-stage inflation. Default
            ``(0, 0, 1, 1)``.
        with_pool2 (bool): Temporal pool after ``layer1``. Default False.
        **kwargs: Other arguments of :class:`ResNet3d`.

    Example:
        >>> import torch
        >>> # PoseC3D keypoint backbone (17 heatmap channels)
        >>> model = ResNet3dSlowOnly(
        ...     depth=50, in_channels=17, base_channels=32, num_stages=3,
        ...     out_indices=(2, ), stage_blocks=(4, 6, 3), conv1_stride_s=1,
        ...     pool1_stride_s=1, inflate=(0, 1, 1), spatial_strides=(2, 2, 2),
        ...     temporal_strides=(1, 1, 2), dilations=(1, 1, 1))
        >>> tuple(model(torch.rand(1, 17, 8, 32, 32)).shape)
        (1, 512, 4, 4, 4)
    """

    def __init__(self,
                 conv1_kernel: Sequence[int] = (1, 7, 7),
                 conv1_stride_t: int = 1,
                 pool1_stride_t: int = 1,
                 inflate: Union[int, Sequence] = (0, 0, 1, 1),
                 with_pool2: bool = False,
                 **kwargs) -> None:
        super().__init__(
            conv1_kernel=conv1_kernel,
            conv1_stride_t=conv1_stride_t,
            pool1_stride_t=pool1_stride_t,
            inflate=inflate,
            with_pool2=with_pool2,
            **kwargs)
