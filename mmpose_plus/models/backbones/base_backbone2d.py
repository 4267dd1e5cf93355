"""Training-mode and initialisation behaviour shared by the 2D pose
backbones built from :class:`BasicBlock` / :class:`Bottleneck` (``ResNet``,
``HRNet``): frozen stages, norm layers kept in eval mode, and zeroed last
norms of the residual blocks. It adds no parameters, so the subclasses'
state-dict keys are their own.
"""
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init

from ..layers.res_blocks2d import BasicBlock, Bottleneck
from ..utils.frozen_stages import FrozenStagesMixin

__all__ = ['ResidualBackbone2d']


class ResidualBackbone2d(FrozenStagesMixin, BaseModule):
    """Base of the 2D residual pose backbones.

    Subclasses set ``self.norm_eval`` and ``self.zero_init_residual`` in
    ``__init__``, list the modules of their frozen stages in
    :meth:`_frozen_modules` and call :meth:`_freeze_stages` once built
    (see :class:`FrozenStagesMixin`).

    Example:
        >>> from mmpose_plus.models.backbones import ResNet
        >>> net = ResNet(18, frozen_stages=1, norm_eval=True).train()
        >>> net.layer1.training, net.layer2[0].bn1.training
        (False, False)
    """

    zero_init_residual: bool = False

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
