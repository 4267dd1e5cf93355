"""Training-mode behaviour shared by backbones with frozen stages."""
from typing import List

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['FrozenStagesMixin']


class FrozenStagesMixin:
    """Keep frozen stages (and, with ``norm_eval``, every BatchNorm) in eval
    mode whatever :meth:`train` is asked for.

    Mix it in before the ``nn.Module`` base (``class Net(FrozenStagesMixin,
    BaseModule)``) so that its :meth:`train` runs first. Subclasses set
    ``self.norm_eval``, list the modules of their frozen stages in
    :meth:`_frozen_modules` and call :meth:`_freeze_stages` once built. It
    adds no parameters or state-dict keys.

    Example:
        >>> class Net(FrozenStagesMixin, nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.norm_eval = False
        ...         self.stem = nn.Sequential(nn.Conv2d(3, 4, 3),
        ...                                   nn.BatchNorm2d(4))
        ...     def _frozen_modules(self):
        ...         return [self.stem]
        >>> net = Net().train()
        >>> net.stem.training, net.stem[0].weight.requires_grad
        (False, False)
    """

    norm_eval: bool = False

    def _frozen_modules(self) -> List[nn.Module]:
        """Modules of the frozen stages (none by default)."""
        return []

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Set the mode, keeping frozen stages (and, with ``norm_eval``,
        every BatchNorm) in eval mode.

        Returns:
            The module itself.
        """
        super().train(mode)  # type: ignore[misc]
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():  # type: ignore[attr-defined]
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
