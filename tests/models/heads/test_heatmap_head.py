"""HeatmapHead: SimpleBaseline / HRNet key layouts, official forward
semantics, shapes and loss."""
import pytest
import torch
import torch.nn.functional as F

from _pose_helpers import bn_shapes, random_state_dict, ref_bn, state_shapes
from mmpose_plus.models.heads import HeatmapHead
from mmpose_plus.models.losses import KeypointMSELoss
from mmpose_plus.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')


def test_simplebaseline_official_layout():
    # Official pose_resnet: 3 x [ConvTranspose2d(256, 4, s2, p1, no bias),
    # BN, ReLU] + 1x1 conv with bias.
    expected = {
        'deconv_layers.0.weight': (2048, 256, 4, 4),
        'deconv_layers.3.weight': (256, 256, 4, 4),
        'deconv_layers.6.weight': (256, 256, 4, 4),
        'final_layer.weight': (17, 256, 1, 1),
        'final_layer.bias': (17, ),
    }
    for i in (1, 4, 7):
        expected.update(bn_shapes(f'deconv_layers.{i}', 256))
    with torch.device('meta'):
        head = HeatmapHead(2048, 17)
    assert state_shapes(head) == expected
    deconv = head.deconv_layers[0]
    assert (deconv.stride, deconv.padding, deconv.output_padding) == \
        ((2, 2), (1, 1), (0, 0))


def test_hrnet_head_layout_and_extra_convs():
    head = HeatmapHead(32, 17, deconv_out_channels=None)
    assert state_shapes(head) == {
        'final_layer.weight': (17, 32, 1, 1),
        'final_layer.bias': (17, )
    }
    head = HeatmapHead(
        32, 17, deconv_out_channels=(16, ), deconv_kernel_sizes=(4, ),
        conv_out_channels=(8, ), conv_kernel_sizes=(3, ))
    expected = {
        'deconv_layers.0.weight': (32, 16, 4, 4),
        'conv_layers.0.weight': (8, 16, 3, 3),
        'conv_layers.0.bias': (8, ),
        'final_layer.weight': (17, 8, 1, 1),
        'final_layer.bias': (17, ),
    }
    expected.update(bn_shapes('deconv_layers.1', 16))
    expected.update(bn_shapes('conv_layers.1', 8))
    assert state_shapes(head) == expected


def reference_forward(sd, x, num_deconv):
    for i in range(num_deconv):
        x = F.conv_transpose2d(x, sd[f'deconv_layers.{3 * i}.weight'], None,
                               2, 1, 0)
        x = F.relu(ref_bn(sd, f'deconv_layers.{3 * i + 1}', x))
    return F.conv2d(x, sd['final_layer.weight'], sd['final_layer.bias'])


def test_matches_official_forward_on_official_state_dict():
    head = HeatmapHead(64, 17, deconv_out_channels=(32, 32, 32)).double()
    sd = random_state_dict(state_shapes(head))
    head.load_state_dict(sd, strict=True)
    head.eval()
    x = torch.rand(2, 64, 8, 6, dtype=torch.float64)
    with torch.no_grad():
        out = head((x, ))
    # 256x192 input -> 1/32 features 8x6 -> 64x48 heatmaps.
    assert out.shape == (2, 17, 64, 48)
    torch.testing.assert_close(out, reference_forward(sd, x, 3),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('kernel', [2, 3, 4])
def test_every_supported_kernel_doubles_resolution(kernel):
    head = HeatmapHead(8, 5, deconv_out_channels=(4, 4),
                       deconv_kernel_sizes=(kernel, kernel))
    assert head(torch.rand(1, 8, 5, 7)).shape == (1, 5, 20, 28)


def test_in_index_selects_feature():
    head = HeatmapHead(8, 3, deconv_out_channels=None, in_index=0)
    feats = (torch.rand(1, 8, 6, 6), torch.rand(1, 16, 3, 3))
    assert head(feats).shape == (1, 3, 6, 6)
    head = HeatmapHead(16, 3, deconv_out_channels=None)  # default: last
    assert head(feats).shape == (1, 3, 3, 3)
    with pytest.raises(IndexError, match='in_index=5'):
        HeatmapHead(8, 3, deconv_out_channels=None, in_index=5)(feats)


def test_loss_and_gradients():
    head = HeatmapHead(8, 2, deconv_out_channels=(4, ),
                       deconv_kernel_sizes=(4, ),
                       conv_out_channels=(4, ), conv_kernel_sizes=(1, ))
    assert isinstance(head.loss_module, KeypointMSELoss)
    assert head.loss_module.use_target_weight
    feats = (torch.rand(2, 8, 4, 4), )
    target = torch.rand(2, 2, 8, 8)
    weight = torch.tensor([[1., 0.], [1., 1.]])
    losses = head.loss(feats, target, weight)
    assert set(losses) == {'loss_kpt'}
    pred = head(feats).detach()
    w = weight[:, :, None, None]
    expected = ((pred - target) * w).pow(2).mean()
    torch.testing.assert_close(losses['loss_kpt'].detach(), expected)
    losses['loss_kpt'].backward()
    assert all(p.grad is not None for p in head.parameters())


def test_loss_by_feat_hand_value():
    head = HeatmapHead(4, 2, deconv_out_channels=None)
    pred = torch.zeros(1, 2, 4, 4)
    target = torch.ones(1, 2, 4, 4)
    # Joint 1 is unlabelled: only joint 0 (half of all pixels) counts.
    loss = head.loss_by_feat(pred, target, torch.tensor([[1., 0.]]))
    assert float(loss['loss_kpt']) == pytest.approx(0.5)


def test_default_init():
    head = HeatmapHead(16, 17, deconv_out_channels=(16, ),
                       deconv_kernel_sizes=(4, ))
    head.init_weights()
    assert torch.all(head.final_layer.bias == 0)
    assert head.final_layer.weight.std() < 0.01
    assert head.deconv_layers[0].weight.std() < 0.01
    assert torch.all(head.deconv_layers[1].weight == 1)


def test_config_errors_and_registry():
    with pytest.raises(ValueError, match='deconv kernel'):
        HeatmapHead(8, 3, deconv_out_channels=(4, ), deconv_kernel_sizes=(5, ))
    with pytest.raises(ValueError, match='differ in length'):
        HeatmapHead(8, 3, deconv_out_channels=(4, 4),
                    deconv_kernel_sizes=(4, ))
    with pytest.raises(ValueError, match='differ in length'):
        HeatmapHead(8, 3, conv_out_channels=(4, ))
    loss = dict(type='KeypointMSELoss', use_target_weight=False,
                loss_weight=0.5)
    head = MODELS.build(dict(type='HeatmapHead', in_channels=8,
                             out_channels=3, deconv_out_channels=None,
                             loss=loss))
    assert head.loss_module.loss_weight == 0.5
    assert loss == dict(type='KeypointMSELoss', use_target_weight=False,
                        loss_weight=0.5)  # config not consumed
