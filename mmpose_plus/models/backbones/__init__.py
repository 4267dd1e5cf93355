# Each module below registers its classes on import.
from .resnet3d import BasicBlock3d, Bottleneck3d, ResNet3d  # noqa: F401
from .resnet3d_slowonly import ResNet3dSlowOnly  # noqa: F401
from .rgbposeconv3d import RGBPoseConv3D, ResNet3dPathway  # noqa: F401
from .resnet2plus1d import ResNet2Plus1d  # noqa: F401
from .hrnet import HRModule, HRNet, hrnet_extra  # noqa: F401
from .resnet import ResNet  # noqa: F401
