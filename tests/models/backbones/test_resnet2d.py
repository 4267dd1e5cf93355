"""2D ResNet (SimpleBaseline backbone): torchvision layout, depths, stage
options, and the registry scoping of the name 'ResNet'."""
import pytest
import torch
import torch.nn.functional as F
from mmaction.models import ResNet as MMActionResNet
from mmaction.registry import MODELS as MMACTION_MODELS
from mmengine.registry import DefaultScope

from _pose_helpers import (Shapes, bn_shapes, conv_shapes, random_state_dict,
                           ref_bn, residual_block_shapes, state_shapes)
from mmpose_plus.models.backbones.resnet import ResNet
from mmpose_plus.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')

# torchvision's published parameter counts minus the ImageNet classifier
# (fc: 512*1000+1000 for 18/34, 2048*1000+1000 for 50/101/152).
TORCHVISION_PARAMS = {
    18: 11_689_512 - 513_000,
    34: 21_797_672 - 513_000,
    50: 25_557_032 - 2_049_000,
    101: 44_549_160 - 2_049_000,
    152: 60_192_808 - 2_049_000,
}


def torchvision_shapes(bottleneck: bool, counts) -> Shapes:
    """Key -> shape of torchvision's ResNet (without fc)."""
    shapes = conv_shapes('conv1', 64, 3, 7)
    shapes.update(bn_shapes('bn1', 64))
    inplanes = 64
    for i, n in enumerate(counts):
        for j in range(n):
            block, inplanes = residual_block_shapes(
                f'layer{i + 1}.{j}', bottleneck, inplanes, 64 * 2**i,
                strided=i > 0 and j == 0)
            shapes.update(block)
    return shapes


@pytest.mark.parametrize('depth,bottleneck,counts', [
    (18, False, (2, 2, 2, 2)),
    (34, False, (3, 4, 6, 3)),
    (50, True, (3, 4, 6, 3)),
    (101, True, (3, 4, 23, 3)),
    (152, True, (3, 8, 36, 3)),
])
def test_depths_block_counts_and_torchvision_layout(depth, bottleneck,
                                                    counts):
    with torch.device('meta'):
        model = ResNet(depth)
    assert tuple(len(getattr(model, f'layer{i}')) for i in (1, 2, 3, 4)) \
        == counts
    assert state_shapes(model) == torchvision_shapes(bottleneck, counts)
    assert sum(p.numel() for p in model.parameters()) \
        == TORCHVISION_PARAMS[depth]


def reference_forward(sd, x, bottleneck):
    """torchvision semantics: stride on conv1 (basic) / conv2 (bottleneck)
    of a stage's first block, and on its downsample."""
    x = F.relu(ref_bn(sd, 'bn1', F.conv2d(x, sd['conv1.weight'], None, 2,
                                          3)))
    x = F.max_pool2d(x, 3, 2, 1)
    for i in range(1, 5):
        j = 0
        while f'layer{i}.{j}.conv1.weight' in sd:
            p = f'layer{i}.{j}'
            s = 2 if (i > 1 and j == 0) else 1
            if bottleneck:
                out = F.relu(
                    ref_bn(sd, f'{p}.bn1',
                           F.conv2d(x, sd[f'{p}.conv1.weight'])))
                out = F.relu(
                    ref_bn(sd, f'{p}.bn2',
                           F.conv2d(out, sd[f'{p}.conv2.weight'], None, s,
                                    1)))
                out = ref_bn(sd, f'{p}.bn3',
                             F.conv2d(out, sd[f'{p}.conv3.weight']))
            else:
                out = F.relu(
                    ref_bn(sd, f'{p}.bn1',
                           F.conv2d(x, sd[f'{p}.conv1.weight'], None, s, 1)))
                out = ref_bn(sd, f'{p}.bn2',
                             F.conv2d(out, sd[f'{p}.conv2.weight'], None, 1,
                                      1))
            res = x
            if f'{p}.downsample.0.weight' in sd:
                res = ref_bn(sd, f'{p}.downsample.1',
                             F.conv2d(x, sd[f'{p}.downsample.0.weight'], None,
                                      s))
            x = F.relu(out + res)
            j += 1
    return x


@pytest.mark.parametrize('depth', [18, 50])
def test_torchvision_state_dict_matches_reference_forward(depth):
    model = ResNet(depth).double().eval()
    sd = random_state_dict(state_shapes(model), seed=depth)
    model.load_state_dict(sd, strict=True)
    x = torch.rand(2, 3, 64, 48, dtype=torch.float64)
    with torch.no_grad():
        (ours, ) = model(x)
    ref = reference_forward(sd, x, depth >= 50)
    assert ours.shape == (2, 512 if depth == 18 else 2048, 2, 2)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)


def test_out_indices_and_channels():
    model = ResNet(18, out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 16, 16),
                                              (1, 128, 8, 8), (1, 256, 4, 4),
                                              (1, 512, 2, 2)]
    assert model.out_channels == [64, 128, 256, 512]
    model = ResNet(50, num_stages=2, out_indices=(1, ))
    assert not hasattr(model, 'layer3')
    assert model(torch.rand(1, 3, 32, 32))[0].shape == (1, 512, 4, 4)


def test_frozen_stages_and_norm_eval():
    model = ResNet(18, frozen_stages=2, norm_eval=True).train()
    frozen = ('conv1', 'bn1', 'layer1', 'layer2')
    for name, p in model.named_parameters():
        assert p.requires_grad == (not name.startswith(frozen)), name
    assert not model.layer2.training and model.layer3.training
    bn = model.layer4[0].bn1
    assert not bn.training
    before = bn.running_var.clone()
    model(torch.rand(2, 3, 32, 32))
    assert torch.equal(bn.running_var, before)
    # Without norm_eval, unfrozen norms train.
    assert ResNet(18, frozen_stages=0).train().layer1[0].bn1.training


def test_every_parameter_gets_a_gradient_and_with_cp_matches():
    torch.manual_seed(0)
    plain = ResNet(50, num_stages=2, out_indices=(1, ))
    ckpt = ResNet(50, num_stages=2, out_indices=(1, ), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    results = []
    for model in (plain, ckpt):
        model.train()
        (y, ) = model(x)
        y.square().mean().backward()
        assert all(p.grad is not None for p in model.parameters())
        results.append((y.detach(), model.conv1.weight.grad,
                        model.layer2[0].downsample[0].weight.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_zero_init_residual():
    model = ResNet(18, zero_init_residual=True)
    model.init_weights()
    assert all(
        torch.count_nonzero(getattr(model, f'layer{i}')[j].bn2.weight) == 0
        for i in (1, 2, 3, 4) for j in range(2))
    assert torch.all(model.bn1.weight == 1)


def test_bad_arguments():
    with pytest.raises(KeyError, match='depth'):
        ResNet(42)
    with pytest.raises(ValueError, match='out_indices'):
        ResNet(18, out_indices=(4, ))
    with pytest.raises(ValueError, match='frozen_stages'):
        ResNet(18, frozen_stages=5)


def test_resnet_name_is_scoped():
    # Our scope (and an explicit prefix) gives the torchvision-layout ResNet.
    # Registry.build follows the process-wide default scope, which other
    # tests change, so each case pins the scope its config would set.
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        assert type(MODELS.build(dict(type='ResNet', depth=18))) is ResNet
    with DefaultScope.overwrite_default_scope('mmaction'):
        assert type(MMACTION_MODELS.build(
            dict(type='mmpose_plus.ResNet', depth=18))) is ResNet
        # mmaction2 configs keep mmaction2's ResNet.
        assert type(MMACTION_MODELS.build(
            dict(type='ResNet', depth=18))) is MMActionResNet
    with DefaultScope.overwrite_default_scope('mmaction'):
        assert type(MODELS.build(
            dict(type='ResNet', depth=18))) is MMActionResNet
    assert type(MODELS.build(
        dict(type='mmaction.ResNet', depth=18))) is MMActionResNet
