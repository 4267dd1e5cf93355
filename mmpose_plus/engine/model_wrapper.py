"""A DistributedDataParallel wrapper that also runs on CPU (gloo)."""
from typing import List, Optional

import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS as ENGINE_MODEL_WRAPPERS

from mmpose_plus.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` that drops ``device_ids`` for a
    module living on the CPU.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which torch
    rejects for CPU modules; with this wrapper ``torchrun`` works on machines
    without a GPU (gloo backend), e.g. for CI or debugging.

    Args:
        module (nn.Module): The model to wrap.
        device_ids (list[int], optional): GPU ids; ignored on CPU.
        **kwargs: Other :class:`DistributedDataParallel` arguments.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[List[int]] = None,
                 **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        super().__init__(
            module=module, device_ids=None if on_cpu else device_ids,
            **kwargs)


# mmengine's Runner looks wrappers up in its *root* registry, whose scoped
# lookup only reaches direct children; ours is a grandchild (under
# mmaction2's), so the wrapper is registered at the root as well.
if ENGINE_MODEL_WRAPPERS.get('DeviceAwareDistributedDataParallel') is None:
    ENGINE_MODEL_WRAPPERS.register_module(
        module=DeviceAwareDistributedDataParallel)
