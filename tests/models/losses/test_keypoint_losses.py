"""Keypoint MSE, bottom-up heatmap and associative-embedding losses against
hand-computed values and a per-person loop reference."""
import math

import numpy as np
import pytest
import torch

from mmpose_plus.codecs.associative_embedding import encode_keypoint_indices
from mmpose_plus.models.losses import (AssociativeEmbeddingLoss, HeatmapLoss,
                                       KeypointMSELoss, ae_pull_push,
                                       pad_keypoint_indices)
from mmpose_plus.registry import MODELS

# --------------------------------------------------------------------------
# KeypointMSELoss
# --------------------------------------------------------------------------


def test_keypoint_mse_hand_values_and_weight_shapes():
    pred = torch.zeros(2, 3, 4, 4)
    target = torch.zeros(2, 3, 4, 4)
    target[:, 0] = 2.  # error 4 on joint 0 only
    target[:, 1] = 1.  # error 1 on joint 1 only
    assert float(KeypointMSELoss()(pred, target)) == pytest.approx(5 / 3)
    loss = KeypointMSELoss(use_target_weight=True, loss_weight=0.5)
    w = torch.tensor([[0., 1., 1.], [0., 1., 1.]])
    expected = 0.5 * 1 / 3  # joint 0 ignored
    for weight in (w, w[..., None], w[..., None, None].expand(2, 3, 4, 4)):
        assert float(loss(pred, target, weight)) == pytest.approx(expected)


def test_keypoint_mse_errors():
    loss = KeypointMSELoss(use_target_weight=True)
    x = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match='needs target_weight'):
        loss(x, x)
    with pytest.raises(ValueError, match='target_weight'):
        loss(x, x, torch.ones(2, 4))
    with pytest.raises(ValueError, match='same shape'):
        loss(x, torch.zeros(2, 3, 4, 5), torch.ones(2, 3))


# --------------------------------------------------------------------------
# HeatmapLoss
# --------------------------------------------------------------------------


def test_heatmap_loss_mask_and_per_image_mean():
    pred = torch.ones(2, 2, 2, 2)
    target = torch.zeros(2, 2, 2, 2)
    target[1, 1] = 1.  # image 1, joint 1 predicted exactly
    mask = torch.ones(2, 2, 2)
    mask[0, 0] = 0.  # top row of image 0 ignored
    # image 0: 4 of 8 squared errors count -> 0.5; image 1: 4 of 8 -> 0.5
    assert float(HeatmapLoss()(pred, target, mask)) == pytest.approx(0.5)
    assert float(HeatmapLoss(loss_weight=2.)(pred, target)) == \
        pytest.approx(2 * (1 + 0.5) / 2)
    # supervise_empty=False drops joint channels with an all-zero target:
    # only (image 1, joint 1) is left, and it has no error.
    assert float(HeatmapLoss(supervise_empty=False)(pred, target)) == 0.
    with pytest.raises(ValueError, match='mask'):
        HeatmapLoss()(pred, target, torch.ones(2, 3, 3))


# --------------------------------------------------------------------------
# Associative embedding
# --------------------------------------------------------------------------


def tag_map_with(values, h=4, w=4, k=3):
    """Tag maps (1, K, H, W) where pixel p of every channel holds
    values[p]."""
    flat = torch.zeros(1, k, h * w)
    for p, v in values.items():
        flat[0, :, p] = v
    return flat.view(1, k, h, w)


def test_ae_two_people_hand_computed():
    # Person A: joints at pixels 0 and 1 with tags 1 and 3 (mean 2, pull 1);
    # joint 2 unlabelled. Person B: one joint at pixel 5 with tag 5 (pull 0).
    tags = tag_map_with({0: 1., 1: 3., 5: 5., 9: 100.})
    kpt = torch.tensor([[[[0, 1], [1, 1], [9, 0]],
                         [[9, 0], [9, 0], [5, 1]]]])
    pull, push = ae_pull_push(tags, kpt)
    assert pull.shape == push.shape == (1, )
    assert float(pull) == pytest.approx((1. + 0.) / 2)
    # Official normalisation: 0.5 * mean over pairs of exp(-(2 - 5)^2).
    assert float(push) == pytest.approx(0.5 * math.exp(-9.))
    loss = AssociativeEmbeddingLoss(pull_loss_factor=2.,
                                    push_loss_factor=3.)
    p, q = loss(tags, kpt)
    assert float(p) == pytest.approx(1.)
    assert float(q) == pytest.approx(1.5 * math.exp(-9.))


def test_ae_three_people_push_is_mean_over_pairs():
    tags = tag_map_with({0: 0., 1: 1., 2: 3.})
    kpt = torch.tensor([[[[0, 1], [0, 1], [0, 0]],
                         [[1, 1], [0, 0], [1, 1]],
                         [[0, 0], [2, 1], [0, 0]]]])
    pull, push = ae_pull_push(tags, kpt)
    assert float(pull) == 0.
    pairs = [math.exp(-1.), math.exp(-9.), math.exp(-4.)]
    assert float(push) == pytest.approx(0.5 * sum(pairs) / 3)


def test_ae_zero_and_one_person_and_padding():
    tags = torch.rand(3, 3, 4, 4, requires_grad=True)
    kpt = torch.zeros(3, 4, 3, 2, dtype=torch.long)
    kpt[1, 2] = torch.tensor([[3, 1], [7, 1], [0, 0]])  # one person
    pull, push = ae_pull_push(tags, kpt)
    p, q = pull.detach(), push.detach()
    assert float(p[0]) == 0. and float(q[0]) == 0.
    assert float(q[1]) == 0.
    t = tags.detach()
    expected = ((t[1, 0].flatten()[3] - t[1, 1].flatten()[7]) / 2)**2
    torch.testing.assert_close(p[1], expected)
    assert float(p[2]) == 0.
    (pull.sum() + push.sum()).backward()
    assert torch.isfinite(tags.grad).all()
    # No people at all (M = 0) works too.
    empty = ae_pull_push(tags, torch.zeros(3, 0, 3, 2, dtype=torch.long))
    assert all(float(v.detach().abs().sum()) == 0. for v in empty)


def loop_reference(tags, kpt):
    """Per-person loop, the structure of the official implementation: tags
    flattened per channel, ``sum over ordered pairs - n`` push."""
    pulls, pushes = [], []
    for img in range(tags.shape[0]):
        flat = tags[img].reshape(tags.shape[1], -1)
        means, pull = [], 0.
        for person in kpt[img]:
            vals = [
                flat[j if flat.shape[0] > 1 else 0, idx]
                for j, (idx, vis) in enumerate(person.tolist()) if vis > 0
            ]
            if not vals:
                continue
            vals = torch.stack(vals)
            means.append(vals.mean())
            pull = pull + ((vals - means[-1])**2).mean()
        n = len(means)
        pulls.append(torch.as_tensor(pull / max(n, 1)).double())
        if n < 2:
            pushes.append(torch.tensor(0., dtype=torch.float64))
            continue
        m = torch.stack(means)
        diff = m[None] - m[:, None]
        push = torch.exp(-diff**2).sum() - n
        pushes.append(push / ((n - 1) * n) * 0.5)
    return torch.stack(pulls), torch.stack(pushes)


@pytest.mark.parametrize('tag_channels', [5, 1])
def test_ae_matches_loop_reference(tag_channels):
    g = torch.Generator().manual_seed(tag_channels)
    tags = torch.randn(3, tag_channels, 6, 7, generator=g).double()
    idx = torch.randint(0, 42, (3, 6, 5), generator=g)
    vis = (torch.rand(3, 6, 5, generator=g) > 0.4).long()
    vis[2] = 0  # an image without people
    vis[1, 1:] = 0  # an image with one person
    kpt = torch.stack([idx, vis], -1)
    pull, push = ae_pull_push(tags, kpt)
    ref_pull, ref_push = loop_reference(tags, kpt)
    torch.testing.assert_close(pull, ref_pull)
    torch.testing.assert_close(push, ref_push)


def test_ae_list_input_and_errors():
    tags = torch.rand(2, 3, 4, 4)
    a = torch.tensor([[[1, 1], [2, 1], [3, 1]], [[9, 1], [9, 1], [0, 0]]])
    b = torch.tensor([[[4, 1], [4, 0], [5, 1]]])
    padded = pad_keypoint_indices([a, b], 2)
    assert padded.shape == (2, 2, 3, 2) and padded[1, 1].abs().sum() == 0
    for x, y in zip(ae_pull_push(tags, [a, b]), ae_pull_push(tags, padded)):
        torch.testing.assert_close(x, y)
    bad = padded.clone()
    bad[1, 0, 2, 0] = 16
    with pytest.raises(ValueError, match='image 1, person 0, joint 2'):
        ae_pull_push(tags, bad)
    with pytest.raises(ValueError, match='channels'):
        ae_pull_push(torch.rand(2, 2, 4, 4), padded)
    with pytest.raises(ValueError, match=r'\(N, M, K, 2\)'):
        ae_pull_push(tags, padded[0])


def test_ae_accepts_the_codec_indices():
    # Two people on an 8x8 tag map, encoded by the AE codec.
    keypoints = np.array([[[1., 1.], [2., 3.]], [[6., 6.], [5., 7.]]])
    visible = np.array([[1., 1.], [1., 0.]])
    kpt = torch.from_numpy(
        encode_keypoint_indices(keypoints, visible, (8, 8), max_people=4))
    tags = torch.zeros(1, 2, 8, 8)
    tags[0, :, 1, 1] = tags[0, :, 3, 2] = 0.  # person 0 -> tag 0
    tags[0, :, 6, 6] = 2.  # person 1 -> tag 2
    tags[0, :, 7, 5] = 50.  # person 1's invisible joint: must not count
    pull, push = ae_pull_push(tags, kpt[None])
    assert float(pull) == 0.
    assert float(push) == pytest.approx(0.5 * math.exp(-4.))


def test_registry_builds_losses():
    for cfg, cls in [(dict(type='KeypointMSELoss'), KeypointMSELoss),
                     (dict(type='HeatmapLoss'), HeatmapLoss),
                     (dict(type='AssociativeEmbeddingLoss'),
                      AssociativeEmbeddingLoss)]:
        assert isinstance(MODELS.build(cfg), cls)
