"""Losses of the 2D pose models.

* :class:`KeypointMSELoss` - top-down heatmap regression with per-joint
  target weights (SimpleBaseline, HRNet).
* :class:`HeatmapLoss` - bottom-up heatmap regression with a per-pixel mask
  (HigherHRNet; the mask drops crowd regions and unlabelled people).
* :class:`AssociativeEmbeddingLoss` - pull/push grouping loss on tag maps
  (Newell et al., "Associative Embedding", NeurIPS 2017, in the form used by
  HigherHRNet). :func:`ae_pull_push` is the same computation as a pure
  function returning per-image values.

Input format of the associative-embedding loss (what the AE encoder in
``mmpose_plus.codecs`` produces): ``keypoint_indices`` is an integer tensor
``(N, M, K, 2)`` - N images, M people (padded), K joints - whose last axis
is ``(flat_index, valid)``: ``flat_index = y * W + x`` into the ``H x W`` tag
map of that resolution (the joint axis picks the tag channel, so the index
does not include the channel offset) and ``valid > 0`` marks a labelled,
in-image joint. Padded people simply have ``valid == 0`` everywhere. A list
of N tensors ``(M_i, K, 2)`` is accepted too and padded.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmpose_plus.registry import MODELS

__all__ = [
    'KeypointMSELoss', 'HeatmapLoss', 'AssociativeEmbeddingLoss',
    'ae_pull_push', 'pad_keypoint_indices'
]


def _check_same_shape(name: str, output: Tensor, target: Tensor) -> None:
    if output.shape != target.shape:
        raise ValueError(f'{name}: output {tuple(output.shape)} and target '
                         f'{tuple(target.shape)} must have the same shape')


@MODELS.register_module()
class KeypointMSELoss(nn.Module):
    """Mean squared error between predicted and target heatmaps.

    ``loss = loss_weight * mean_{n,k,y,x} (w_nk * (pred - target))**2``
    where ``w`` is the target weight (1 when ``use_target_weight`` is
    False). The official SimpleBaseline/HRNet code multiplies this by 0.5;
    set ``loss_weight=0.5`` to reproduce its logged values (the gradient
    direction is the same).

    Args:
        use_target_weight (bool): Weight joints by ``target_weight``
            (0 for unlabelled joints). Defaults to False.
        loss_weight (float): Scale of the loss. Defaults to 1.0.

    Example:
        >>> loss = KeypointMSELoss(use_target_weight=True)
        >>> pred, gt = torch.zeros(2, 17, 64, 48), torch.ones(2, 17, 64, 48)
        >>> float(loss(pred, gt, torch.ones(2, 17)))
        1.0
    """

    def __init__(self,
                 use_target_weight: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weight: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            output (Tensor): ``(N, K, H, W)`` predicted heatmaps.
            target (Tensor): ``(N, K, H, W)`` target heatmaps.
            target_weight (Tensor, optional): ``(N, K)``, ``(N, K, 1)`` or
                ``(N, K, H, W)`` weights; required when
                ``use_target_weight``.

        Returns:
            Tensor: scalar loss.
        """
        _check_same_shape('KeypointMSELoss', output, target)
        diff = output - target
        if self.use_target_weight:
            if target_weight is None:
                raise ValueError('KeypointMSELoss(use_target_weight=True) '
                                 'needs target_weight')
            n, k = output.shape[:2]
            w = target_weight
            if w.dim() == 3 and w.shape[-1] == 1:
                w = w.squeeze(-1)
            if w.shape == (n, k):
                w = w[:, :, None, None]
            elif w.shape != output.shape:
                raise ValueError(
                    'KeypointMSELoss: target_weight '
                    f'{tuple(target_weight.shape)} must be ({n}, {k}), '
                    f'({n}, {k}, 1) or {tuple(output.shape)}')
            diff = diff * w.to(diff.dtype)
        return diff.pow(2).mean() * self.loss_weight


@MODELS.register_module()
class HeatmapLoss(nn.Module):
    """Masked heatmap MSE of bottom-up models, averaged per image and then
    over the batch.

    ``loss_n = mean_{k,y,x} mask_nyx * (pred - gt)**2``, ``loss = loss_weight
    * mean_n loss_n``.

    Args:
        supervise_empty (bool): Also supervise joint channels whose target is
            all zero (no such joint in the image). Defaults to True, as in
            HigherHRNet.
        loss_weight (float): Scale of the loss. Defaults to 1.0.

    Example:
        >>> loss = HeatmapLoss()
        >>> pred, gt = torch.ones(2, 17, 32, 32), torch.zeros(2, 17, 32, 32)
        >>> float(loss(pred, gt, torch.ones(2, 32, 32)))
        1.0
    """

    def __init__(self,
                 supervise_empty: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.supervise_empty = supervise_empty
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                mask: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            output (Tensor): ``(N, K, H, W)`` predicted heatmaps.
            target (Tensor): ``(N, K, H, W)`` target heatmaps.
            mask (Tensor, optional): ``(N, H, W)`` or ``(N, K, H, W)``
                pixel weights (0 = ignore). None weighs every pixel 1.

        Returns:
            Tensor: scalar loss.
        """
        _check_same_shape('HeatmapLoss', output, target)
        loss = (output - target).pow(2)
        if mask is not None:
            if mask.dim() == 3:
                mask = mask[:, None]
            if mask.shape[0] != output.shape[0] or \
                    mask.shape[-2:] != output.shape[-2:]:
                raise ValueError(
                    f'HeatmapLoss: mask {tuple(mask.shape)} does not match '
                    f'heatmaps {tuple(output.shape)}')
            loss = loss * mask.to(loss.dtype)
        if not self.supervise_empty:
            has_joint = target.flatten(2).amax(dim=2) > 0
            loss = loss * has_joint[:, :, None, None].to(loss.dtype)
        return loss.mean(dim=(1, 2, 3)).mean() * self.loss_weight


def pad_keypoint_indices(
        keypoint_indices: Union[Tensor, Sequence[Tensor]],
        num_images: int) -> Tensor:
    """Stack per-image ``(M_i, K, 2)`` index tensors into ``(N, M, K, 2)``,
    padding absent people with ``valid = 0``. A tensor passes through after
    a shape check.

    Example:
        >>> a, b = torch.ones(2, 17, 2), torch.ones(0, 17, 2)
        >>> tuple(pad_keypoint_indices([a, b], 2).shape)
        (2, 2, 17, 2)
    """
    if isinstance(keypoint_indices, Tensor):
        if keypoint_indices.dim() != 4 or keypoint_indices.shape[-1] != 2 \
                or keypoint_indices.shape[0] != num_images:
            raise ValueError(
                'keypoint_indices must be (N, M, K, 2) with '
                f'N={num_images}, got {tuple(keypoint_indices.shape)}')
        return keypoint_indices
    items: List[Tensor] = [torch.as_tensor(t) for t in keypoint_indices]
    if len(items) != num_images:
        raise ValueError(f'keypoint_indices: got {len(items)} per-image '
                         f'entries for {num_images} images')
    shapes = {tuple(t.shape[1:]) for t in items}
    if len(shapes) != 1 or any(t.dim() != 3 for t in items) or \
            next(iter(shapes))[-1] != 2:
        raise ValueError('keypoint_indices: each image needs an (M_i, K, 2) '
                         f'tensor, got {[tuple(t.shape) for t in items]}')
    num_people = max(t.shape[0] for t in items)
    out = items[0].new_zeros((num_images, num_people) + items[0].shape[1:])
    for i, t in enumerate(items):
        out[i, :t.shape[0]] = t
    return out


def ae_pull_push(tags: Tensor,
                 keypoint_indices: Union[Tensor, Sequence[Tensor]]
                 ) -> Tuple[Tensor, Tensor]:
    """Per-image associative-embedding pull and push terms.

    For one image with people ``p`` (those with at least one valid joint,
    ``P`` of them), joint tags ``h_pk`` and reference tags
    ``hbar_p = mean_k h_pk``:

    * ``pull = mean_p mean_k (h_pk - hbar_p)**2`` (0 when ``P == 0``);
    * ``push = 0.5 * mean_{p<q} exp(-(hbar_p - hbar_q)**2)`` (0 when
      ``P < 2``). The factor 0.5 is the official HigherHRNet / mmpose
      normalisation (``sum_{p != q} / (P (P-1)) * 0.5``), so the published
      loss factors (0.001) carry over unchanged.

    Args:
        tags (Tensor): ``(N, T, H, W)`` tag maps, ``T = K`` (one tag channel
            per joint) or ``T = 1`` (shared).
        keypoint_indices (Tensor | list[Tensor]): ``(N, M, K, 2)`` of
            ``(y * W + x, valid)``; see the module docstring.

    Returns:
        tuple[Tensor, Tensor]: ``pull`` and ``push``, each ``(N,)``.

    Example:
        >>> tags = torch.zeros(1, 2, 2, 2)
        >>> tags.view(1, 2, 4)[0, :, 3] = 1.
        >>> idx = torch.tensor([[[[0, 1], [0, 1]], [[3, 1], [3, 1]]]])
        >>> pull, push = ae_pull_push(tags, idx)   # tags 0,0 and 1,1
        >>> float(pull), round(float(push), 4)     # 0.5 * exp(-1)
        (0.0, 0.1839)
    """
    if tags.dim() != 4:
        raise ValueError(f'ae_pull_push: tags must be (N, T, H, W), got '
                         f'{tuple(tags.shape)}')
    n, t, h, w = tags.shape
    kpt = pad_keypoint_indices(keypoint_indices, n).to(tags.device)
    num_people, k = kpt.shape[1:3]
    if t not in (1, k):
        raise ValueError(f'ae_pull_push: tags have {t} channels; expected '
                         f'{k} (one per joint) or 1')
    index = kpt[..., 0].long()
    valid = kpt[..., 1] > 0
    bad = valid & ((index < 0) | (index >= h * w))
    if bad.any():
        img, person, joint = (int(v) for v in bad.nonzero()[0])
        raise ValueError(
            f'ae_pull_push: keypoint index {int(index[img, person, joint])} '
            f'of image {img}, person {person}, joint {joint} is outside the '
            f'{h}x{w} tag map')
    index = torch.where(valid, index, torch.zeros_like(index))
    flat = tags.flatten(2)  # (N, T, H*W)
    if t == 1:
        joint_tags = flat[:, 0].gather(1, index.view(n, -1)).view(index.shape)
    else:
        # Joint k reads tag channel k: gather along the pixel axis of
        # (N, K, H*W) with the indices laid out as (N, K, M).
        joint_tags = flat.gather(2, index.permute(0, 2, 1)).permute(0, 2, 1)

    v = valid.to(tags.dtype)
    count = v.sum(-1)  # (N, M)
    exists = count > 0
    denom = count.clamp(min=1)
    ref = (joint_tags * v).sum(-1) / denom  # (N, M)
    pull_person = ((joint_tags - ref[..., None]).pow(2) * v).sum(-1) / denom
    people = exists.sum(-1).to(tags.dtype)  # (N,)
    pull = (pull_person * exists).sum(-1) / people.clamp(min=1)

    diff = ref[:, :, None] - ref[:, None, :]  # (N, M, M)
    off_diag = ~torch.eye(num_people, dtype=torch.bool, device=tags.device)
    pairs = exists[:, :, None] & exists[:, None, :] & off_diag
    push_sum = (torch.exp(-diff.pow(2)) * pairs).sum(dim=(1, 2))
    push = push_sum / (people * (people - 1)).clamp(min=1) * 0.5
    return pull, push


@MODELS.register_module()
class AssociativeEmbeddingLoss(nn.Module):
    """Associative-embedding grouping loss, averaged over the images of a
    batch (see :func:`ae_pull_push` for the per-image terms).

    Args:
        pull_loss_factor (float): Scale of the pull term. Defaults to 0.001
            (HigherHRNet).
        push_loss_factor (float): Scale of the push term. Defaults to 0.001
            (HigherHRNet).

    Returns (forward):
        tuple[Tensor, Tensor]: scalar ``(pull, push)`` losses.

    Example:
        >>> loss = AssociativeEmbeddingLoss(1.0, 1.0)
        >>> tags = torch.rand(2, 17, 32, 32)
        >>> idx = torch.zeros(2, 30, 17, 2, dtype=torch.long)
        >>> [tuple(x.shape) for x in loss(tags, idx)]
        [(), ()]
    """

    def __init__(self,
                 pull_loss_factor: float = 0.001,
                 push_loss_factor: float = 0.001) -> None:
        super().__init__()
        self.pull_loss_factor = pull_loss_factor
        self.push_loss_factor = push_loss_factor

    def forward(self, tags: Tensor,
                keypoint_indices: Union[Tensor, Sequence[Tensor]]
                ) -> Tuple[Tensor, Tensor]:
        """
        Args:
            tags (Tensor): ``(N, T, H, W)`` tag maps (``T`` = K or 1).
            keypoint_indices (Tensor | list[Tensor]): ``(N, M, K, 2)``
                ``(y * W + x, valid)`` per person and joint.
        """
        pull, push = ae_pull_push(tags, keypoint_indices)
        return (pull.mean() * self.pull_loss_factor,
                push.mean() * self.push_loss_factor)
