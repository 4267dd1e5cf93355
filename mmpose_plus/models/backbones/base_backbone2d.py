"""Training-mode and initialisation behaviour shared by the 2D pose
backbones built from :class:`BasicBlock` / :class:`Bottleneck` (``ResNet``,
``HRNet``): frozen stages, norm layers kept in eval mode, and zeroed last
norms of the residual blocks. It adds no parameters, so the subclasses'
state-dict keys are their own.
"""
from typing import List

import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers.res_blocks2d import BasicBlock, Bottleneck

__all__ = ['ResidualBackbone2d']


class ResidualBackbone2d(BaseModule):
    """Base of the 2D residual pose backbones.

    Subclasses set ``self.norm_eval`` and ``self.zero_init_residual`` in
    ``__init__``, list the modules of their frozen stages in
    :meth:`_frozen_modules` and call :meth:`_freeze_stages` once built.

    Example:
        >>> class Tiny(ResidualBackbone2d):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.norm_eval, self.zero_init_residual = True, False
        ...         self.stem = nn.Sequential(nn.Conv2d(3, 4, 3),
        ...                                   nn.BatchNorm2d(4))
        ...     def _frozen_modules(self):
        ...         return [self.stem]
        >>> net = Tiny().train()
        >>> net.stem.training, net.stem[0].weight.requires_grad
        (False, False)
    """

    norm_eval: bool = False
    zero_init_residual: bool = False

    def _frozen_modules(self) -> List[nn.Module]:
        """Modules of the frozen stages (none by default)."""
        return []

    def _freeze_stages(self) -> None:
        for m in self._frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def init_weights(self) -> None:
        """Run ``init_cfg``, then zero the last norm of every residual block
        with ``zero_init_residual`` (not after loading a checkpoint, whose
        weights that would overwrite)."""
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if self.zero_init_residual and not pretrained:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    constant_init(m.last_norm, 0)

    def train(self, mode: bool = True) -> 'ResidualBackbone2d':
        """Set the mode, keeping frozen stages (and, with ``norm_eval``,
        every BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
