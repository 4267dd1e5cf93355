from .checkpoint import (get_state_dict, install_checkpoint_loader,  # noqa
                         load_trusted_checkpoint)
from .checks import check_checkpoint, check_data_files  # noqa: F401
from .model_wrapper import DeviceAwareDistributedDataParallel  # noqa: F401
from .optim_wrapper import CPUBf16OptimWrapper  # noqa: F401

install_checkpoint_loader()
