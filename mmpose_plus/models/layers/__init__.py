# Each module below registers its classes on import.
from .conv2plus1d import Conv2plus1d, conv2plus1d_mid_channels  # noqa: F401
from .res_blocks2d import BasicBlock, Bottleneck, make_res_layer  # noqa: F401
