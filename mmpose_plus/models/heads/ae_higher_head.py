"""HigherHRNet head (Cheng et al., "HigherHRNet: Scale-Aware Representation
Learning for Bottom-Up Human Pose Estimation", CVPR 2020).

From the 1/4-resolution backbone feature (C channels) it predicts K
heatmaps + K tag maps, concatenates them with the feature, and upsamples by
a transposed conv + residual blocks to predict K heatmaps at 1/2
resolution. Key layout of the official code and of mmpose 0.x (W32, K=17)::

    final_layers.0.{weight,bias}     [34, 32, 1, 1]  heatmaps + tags
    deconv_layers.0.0.0.weight       [66, 32, 4, 4]  ConvTranspose2d, no bias
    deconv_layers.0.0.1.*            BatchNorm2d (ReLU at .0.0.2)
    deconv_layers.0.{1..4}.0.*       BasicBlock(32) (conv1, bn1, conv2, bn2)
    final_layers.1.{weight,bias}     [17, 32, 1, 1]  heatmaps at 1/2
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpose_plus.registry import MODELS
from ..layers.res_blocks2d import BasicBlock
from .heatmap_head import (Feats, deconv_bn_relu, heatmap_head_init_cfg,
                           select_feature)

__all__ = ['AEHigherResolutionHead']


@MODELS.register_module()
class AEHigherResolutionHead(BaseModule):
    """Associative-embedding head with higher-resolution heatmaps.

    Output ``i`` (``i = 0..num_deconv_layers``) has resolution ``2**i``
    times the input feature's and ``K + T`` channels (heatmaps first, then
    tags; ``T = K`` if ``tag_per_joint`` else 1) when ``with_ae_loss[i]``,
    otherwise ``K``.

    Args:
        in_channels (int): Channels of the backbone feature (32 for W32).
        num_joints (int): Number of keypoints K.
        tag_per_joint (bool): One tag map per joint (else one shared).
            Defaults to True.
        num_deconv_layers (int): Upsampling modules. Defaults to 1.
        num_deconv_filters (Sequence[int]): Width of each. Defaults to
            ``(32, )`` (use ``(48, )`` for W48).
        num_deconv_kernels (Sequence[int]): Transposed-conv kernel of each
            (4, 3 or 2). Defaults to ``(4, )``.
        num_basic_blocks (int): BasicBlocks after each transposed conv.
            Defaults to 4.
        cat_output (Sequence[bool]): Concatenate the previous output to the
            feature before each upsampling. Defaults to ``(True, )``.
        with_ae_loss (Sequence[bool]): Which outputs carry tags, one flag per
            output. Defaults to ``(True, False)``.
        final_conv_kernel (int): Kernel of the output convs, 1 or 3.
            Defaults to 1.
        in_index (int): Backbone output to use. Defaults to 0 (the highest
            resolution).
        loss_heatmap (dict): Heatmap loss config, applied to every output.
            Defaults to ``dict(type='HeatmapLoss')``.
        loss_ae (dict): Tag loss config, applied to the outputs with
            ``with_ae_loss``. Defaults to
            ``dict(type='AssociativeEmbeddingLoss')`` (factors 0.001).
        init_cfg (dict | list[dict], optional): Defaults to normal(0.001)
            convs with zero bias and constant(1) norms (official init).

    Returns (forward):
        list[Tensor]: ``[(N, K+T, H, W), (N, K, 2H, 2W)]`` by default.

    Example:
        >>> head = AEHigherResolutionHead(32, 17)
        >>> outs = head((torch.rand(1, 32, 32, 32), ))
        >>> [tuple(o.shape) for o in outs]
        [(1, 34, 32, 32), (1, 17, 64, 64)]
    """

    def __init__(self,
                 in_channels: int,
                 num_joints: int,
                 tag_per_joint: bool = True,
                 num_deconv_layers: int = 1,
                 num_deconv_filters: Sequence[int] = (32, ),
                 num_deconv_kernels: Sequence[int] = (4, ),
                 num_basic_blocks: int = 4,
                 cat_output: Sequence[bool] = (True, ),
                 with_ae_loss: Sequence[bool] = (True, False),
                 final_conv_kernel: int = 1,
                 in_index: int = 0,
                 loss_heatmap: Optional[dict] = None,
                 loss_ae: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if init_cfg is None:
            init_cfg = heatmap_head_init_cfg()
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        lengths = dict(
            num_deconv_filters=len(num_deconv_filters),
            num_deconv_kernels=len(num_deconv_kernels),
            cat_output=len(cat_output))
        if any(n != num_deconv_layers for n in lengths.values()) or \
                len(with_ae_loss) != num_deconv_layers + 1:
            raise ValueError(
                f'AEHigherResolutionHead: num_deconv_layers='
                f'{num_deconv_layers} needs that many entries in each of '
                f'{lengths} and {num_deconv_layers + 1} in with_ae_loss '
                f'(got {len(with_ae_loss)})')
        if final_conv_kernel not in (1, 3):
            raise ValueError('AEHigherResolutionHead: final_conv_kernel must '
                             f'be 1 or 3, got {final_conv_kernel}')
        self.in_channels = in_channels
        self.num_joints = num_joints
        self.tag_channels = num_joints if tag_per_joint else 1
        self.tag_per_joint = tag_per_joint
        self.cat_output = tuple(bool(c) for c in cat_output)
        self.with_ae_loss = tuple(bool(a) for a in with_ae_loss)
        self.in_index = in_index
        self.loss_heatmap = MODELS.build(
            copy.deepcopy(loss_heatmap or dict(type='HeatmapLoss')))
        self.loss_ae = MODELS.build(
            copy.deepcopy(loss_ae or dict(type='AssociativeEmbeddingLoss')))

        out_channels = [
            num_joints + (self.tag_channels if ae else 0)
            for ae in self.with_ae_loss
        ]
        self.out_channels = out_channels
        pad = final_conv_kernel // 2
        widths = [in_channels] + list(num_deconv_filters)
        self.final_layers = nn.ModuleList(
            nn.Conv2d(widths[i], out_channels[i], final_conv_kernel,
                      padding=pad) for i in range(num_deconv_layers + 1))

        deconvs = []
        channels = in_channels
        for i in range(num_deconv_layers):
            if self.cat_output[i]:
                channels += out_channels[i]
            width = num_deconv_filters[i]
            # Each block sits in its own Sequential: that extra ``.0`` is
            # part of the official key names.
            upsample = nn.Sequential(
                *deconv_bn_relu(channels, width, num_deconv_kernels[i]))
            blocks = [
                nn.Sequential(BasicBlock(width, width))
                for _ in range(num_basic_blocks)
            ]
            deconvs.append(nn.Sequential(upsample, *blocks))
            channels = width
        self.deconv_layers = nn.ModuleList(deconvs)

    def forward(self, feats: Feats) -> List[Tensor]:
        x = select_feature(feats, self.in_index, type(self).__name__)
        y = self.final_layers[0](x)
        outputs = [y]
        for i, deconv in enumerate(self.deconv_layers):
            if self.cat_output[i]:
                x = torch.cat((x, y), dim=1)
            x = deconv(x)
            y = self.final_layers[i + 1](x)
            outputs.append(y)
        return outputs

    def split_outputs(
            self, outputs: Sequence[Tensor]
    ) -> Tuple[List[Tensor], List[Optional[Tensor]]]:
        """Split each output into heatmaps ``(N, K, H_i, W_i)`` and tags
        ``(N, T, H_i, W_i)`` (None for outputs without tags)."""
        if len(outputs) != len(self.with_ae_loss):
            raise ValueError(f'{type(self).__name__}: expected '
                             f'{len(self.with_ae_loss)} outputs, got '
                             f'{len(outputs)}')
        k = self.num_joints
        heatmaps = [o[:, :k] for o in outputs]
        tags = [
            o[:, k:] if ae else None
            for o, ae in zip(outputs, self.with_ae_loss)
        ]
        return heatmaps, tags

    def loss_by_feat(
            self, outputs: Sequence[Tensor], heatmaps: Sequence[Tensor],
            masks: Sequence[Optional[Tensor]],
            keypoint_indices: Union[Tensor, Sequence[Optional[Tensor]]]
    ) -> dict:
        """Losses of already computed outputs.

        Args:
            outputs (list[Tensor]): :meth:`forward` outputs.
            heatmaps (list[Tensor]): Target heatmaps per output,
                ``(N, K, H_i, W_i)``.
            masks (list[Tensor | None]): Pixel masks per output,
                ``(N, H_i, W_i)`` (None = all ones).
            keypoint_indices (Tensor | list[Tensor | None]): AE targets
                ``(N, M, K, 2)`` of ``(y * W_i + x, valid)`` at the resolution
                of each tagged output: one tensor (used for every tagged
                output) or one entry per output (None where untagged).

        Returns:
            dict: ``loss_heatmap`` (summed over outputs), ``loss_pull`` and
            ``loss_push`` (summed over tagged outputs).
        """
        n_out = len(self.with_ae_loss)
        if not len(outputs) == len(heatmaps) == len(masks) == n_out:
            raise ValueError(
                f'{type(self).__name__}: need {n_out} outputs, target '
                f'heatmaps and masks, got {len(outputs)}, {len(heatmaps)}, '
                f'{len(masks)}')
        if isinstance(keypoint_indices, Tensor):
            keypoint_indices = [keypoint_indices] * n_out
        elif len(keypoint_indices) != n_out:
            raise ValueError(f'{type(self).__name__}: keypoint_indices needs '
                             f'{n_out} entries, got {len(keypoint_indices)}')
        pred_heatmaps, pred_tags = self.split_outputs(outputs)
        losses = dict()
        for i in range(n_out):
            loss = self.loss_heatmap(pred_heatmaps[i], heatmaps[i], masks[i])
            losses['loss_heatmap'] = losses.get('loss_heatmap', 0) + loss
            if pred_tags[i] is None:
                continue
            if keypoint_indices[i] is None:
                raise ValueError(f'{type(self).__name__}: output {i} has '
                                 'tags but no keypoint_indices were given')
            pull, push = self.loss_ae(pred_tags[i], keypoint_indices[i])
            losses['loss_pull'] = losses.get('loss_pull', 0) + pull
            losses['loss_push'] = losses.get('loss_push', 0) + push
        return losses

    def loss(self, feats: Feats, heatmaps: Sequence[Tensor],
             masks: Sequence[Optional[Tensor]],
             keypoint_indices: Union[Tensor, Sequence[Optional[Tensor]]]
             ) -> dict:
        """``loss_by_feat(self(feats), heatmaps, masks, keypoint_indices)``.
        """
        return self.loss_by_feat(
            self.forward(feats), heatmaps, masks, keypoint_indices)
