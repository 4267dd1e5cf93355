"""AEHigherResolutionHead: official HigherHRNet key layout, official forward
semantics, output shapes with the HRNet backbone, losses."""
import pytest
import torch
import torch.nn.functional as F

from _pose_helpers import (bn_shapes, random_state_dict, ref_bn,
                           residual_block_shapes, state_shapes)
from mmpose_plus.models.backbones import HRNet
from mmpose_plus.models.heads import AEHigherResolutionHead
from mmpose_plus.models.losses import HeatmapLoss, ae_pull_push
from mmpose_plus.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')


def official_head_shapes(c: int, k: int = 17):
    """pose_higher_hrnet.py with NUM_DECONVS=1, CAT_OUTPUT=[True],
    NUM_BASIC_BLOCKS=4, WITH_AE_LOSS=[True, False], TAG_PER_JOINT=True."""
    shapes = {
        'final_layers.0.weight': (2 * k, c, 1, 1),
        'final_layers.0.bias': (2 * k, ),
        'final_layers.1.weight': (k, c, 1, 1),
        'final_layers.1.bias': (k, ),
        'deconv_layers.0.0.0.weight': (c + 2 * k, c, 4, 4),
    }
    shapes.update(bn_shapes('deconv_layers.0.0.1', c))
    for b in range(1, 5):  # BasicBlocks, one per Sequential
        block, _ = residual_block_shapes(f'deconv_layers.0.{b}.0', False, c,
                                         c)
        shapes.update(block)
    return shapes


@pytest.mark.parametrize('width', [32, 48])
def test_official_key_layout(width):
    head = AEHigherResolutionHead(width, 17, num_deconv_filters=(width, ))
    shapes = state_shapes(head)
    assert shapes == official_head_shapes(width)
    # reference.md: [66,32,4,4] for W32, [82,48,4,4] for W48.
    assert shapes['deconv_layers.0.0.0.weight'] == \
        {32: (66, 32, 4, 4), 48: (82, 48, 4, 4)}[width]
    assert shapes['final_layers.0.weight'] == (34, width, 1, 1)


def reference_forward(sd, x):
    y0 = F.conv2d(x, sd['final_layers.0.weight'], sd['final_layers.0.bias'])
    z = torch.cat((x, y0), 1)
    z = F.conv_transpose2d(z, sd['deconv_layers.0.0.0.weight'], None, 2, 1)
    z = F.relu(ref_bn(sd, 'deconv_layers.0.0.1', z))
    for b in range(1, 5):
        p = f'deconv_layers.0.{b}.0'
        out = F.relu(
            ref_bn(sd, f'{p}.bn1',
                   F.conv2d(z, sd[f'{p}.conv1.weight'], None, 1, 1)))
        out = ref_bn(sd, f'{p}.bn2',
                     F.conv2d(out, sd[f'{p}.conv2.weight'], None, 1, 1))
        z = F.relu(out + z)
    y1 = F.conv2d(z, sd['final_layers.1.weight'], sd['final_layers.1.bias'])
    return [y0, y1]


def test_matches_official_forward():
    head = AEHigherResolutionHead(8, 5, num_deconv_filters=(8, )).double()
    sd = random_state_dict(state_shapes(head))
    head.load_state_dict(sd, strict=True)
    head.eval()
    x = torch.rand(2, 8, 6, 5, dtype=torch.float64)
    with torch.no_grad():
        outs = head([x])
    ref = reference_forward(sd, x)
    assert [tuple(o.shape) for o in outs] == [(2, 10, 6, 5), (2, 5, 12, 10)]
    for a, b in zip(outs, ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_higherhrnet_w32_shapes():
    # At 512x512 this gives (N, 34, 128, 128) and (N, 17, 256, 256).
    backbone = HRNet(arch='w32').eval()
    head = AEHigherResolutionHead(32, 17).eval()
    with torch.no_grad():
        outs = head(backbone(torch.rand(1, 3, 64, 64)))
    assert [tuple(o.shape) for o in outs] == [(1, 34, 16, 16),
                                              (1, 17, 32, 32)]
    heatmaps, tags = head.split_outputs(outs)
    assert [tuple(h.shape) for h in heatmaps] == [(1, 17, 16, 16),
                                                  (1, 17, 32, 32)]
    assert tags[0].shape == (1, 17, 16, 16) and tags[1] is None
    torch.testing.assert_close(tags[0], outs[0][:, 17:])


def test_shared_tag_and_no_concat_variants():
    head = AEHigherResolutionHead(8, 5, tag_per_joint=False,
                                  num_deconv_filters=(4, ))
    assert head.out_channels == [6, 5]
    assert head.deconv_layers[0][0][0].weight.shape == (8 + 6, 4, 4, 4)
    head = AEHigherResolutionHead(8, 5, cat_output=(False, ),
                                  with_ae_loss=(True, True),
                                  num_basic_blocks=1)
    assert head.deconv_layers[0][0][0].weight.shape == (8, 32, 4, 4)
    assert [o.shape[1] for o in head(torch.rand(1, 8, 4, 4))] == [10, 10]


def _targets(n=2, k=5, h=6, w=6):
    g = torch.Generator().manual_seed(1)
    heatmaps = [torch.rand(n, k, h, w, generator=g),
                torch.rand(n, k, 2 * h, 2 * w, generator=g)]
    masks = [torch.ones(n, h, w), torch.ones(n, 2 * h, 2 * w)]
    masks[0][0, :2] = 0
    idx = torch.randint(0, h * w, (n, 3, k), generator=g)
    valid = torch.rand(n, 3, k, generator=g) > 0.3
    keypoint_indices = torch.stack([idx, valid.long()], dim=-1)
    return heatmaps, masks, keypoint_indices


def test_loss_values_and_every_parameter_gets_a_gradient():
    head = AEHigherResolutionHead(8, 5, num_deconv_filters=(8, ))
    head.init_weights()
    feats = (torch.rand(2, 8, 6, 6), )
    heatmaps, masks, kpt = _targets()
    losses = head.loss(feats, heatmaps, masks, kpt)
    assert set(losses) == {'loss_heatmap', 'loss_pull', 'loss_push'}

    outs = [o.detach() for o in head(feats)]
    hm_loss = HeatmapLoss()
    expected = hm_loss(outs[0][:, :5], heatmaps[0], masks[0]) + \
        hm_loss(outs[1], heatmaps[1], masks[1])
    pull, push = ae_pull_push(outs[0][:, 5:], kpt)
    torch.testing.assert_close(losses['loss_heatmap'].detach(), expected)
    torch.testing.assert_close(losses['loss_pull'].detach(),
                               pull.mean() * 0.001)
    torch.testing.assert_close(losses['loss_push'].detach(),
                               push.mean() * 0.001)

    sum(losses.values()).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None]
    assert not missing


def test_keypoint_indices_per_output_and_errors():
    head = AEHigherResolutionHead(8, 5, num_deconv_filters=(8, ))
    feats = (torch.rand(2, 8, 6, 6), )
    heatmaps, masks, kpt = _targets()
    a = head.loss(feats, heatmaps, masks, kpt)
    b = head.loss(feats, heatmaps, masks, [kpt, None])
    torch.testing.assert_close(a['loss_pull'], b['loss_pull'])
    with pytest.raises(ValueError, match='keypoint_indices'):
        head.loss(feats, heatmaps, masks, [None, None])
    with pytest.raises(ValueError, match='need 2 outputs'):
        head.loss(feats, heatmaps[:1], masks, kpt)
    with pytest.raises(ValueError, match='num_deconv_layers'):
        AEHigherResolutionHead(8, 5, with_ae_loss=(True, ))
    with pytest.raises(ValueError, match='deconv kernel'):
        AEHigherResolutionHead(8, 5, num_deconv_kernels=(5, ))


def test_registry_build_with_loss_configs():
    head = MODELS.build(
        dict(
            type='AEHigherResolutionHead',
            in_channels=8,
            num_joints=5,
            num_deconv_filters=(8, ),
            loss_ae=dict(type='AssociativeEmbeddingLoss',
                         pull_loss_factor=1.0, push_loss_factor=2.0)))
    assert head.loss_ae.push_loss_factor == 2.0
    assert isinstance(head.loss_heatmap, HeatmapLoss)
