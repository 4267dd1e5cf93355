"""Tests of ResNet3d / BasicBlock3d / Bottleneck3d (mmaction2 1.1.0 is the
oracle for parity)."""
import pytest
import torch
import torch.nn as nn
from mmaction.models.backbones.resnet3d import ResNet3d as RefResNet3d
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose_plus.models.backbones import (BasicBlock3d, Bottleneck3d,
                                          ResNet3d)
from mmpose_plus.registry import MODELS

I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_STEM = dict(conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2)


def randomize_(model: nn.Module, seed: int = 0) -> None:
    """Give every float tensor (BN stats included) non-trivial values."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            rnd = torch.rand(t.shape, generator=gen)
            if name.endswith('running_var'):
                t.copy_(rnd + 0.5)
            elif name.endswith(('bn.weight', 'norm.weight')):
                t.copy_(rnd + 0.5)
            else:
                t.copy_((rnd - 0.5) * 0.2)


def assert_parity(ref: nn.Module, ours: nn.Module, *inputs) -> None:
    randomize_(ref)
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(ref_sd) == list(our_sd)
    assert {k: v.shape for k, v in ref_sd.items()} == \
        {k: v.shape for k, v in our_sd.items()}
    ours.load_state_dict(ref_sd, strict=True)
    ref.eval()
    ours.eval()
    with torch.no_grad():
        expected, got = ref(*inputs), ours(*inputs)
    if isinstance(expected, torch.Tensor):
        expected, got = (expected, ), (got, )
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        assert (e - g).abs().max().item() <= 1e-5


PARITY_CASES = {
    'r18-per-block': dict(
        depth=18, inflate=((1, 1), (1, 0), (0, 1), (1, 1)), **I3D_STEM),
    'r34-i3d': dict(depth=34, inflate=I3D_INFLATE, **I3D_STEM),
    'r50-i3d': dict(depth=50, inflate=I3D_INFLATE, **I3D_STEM),
    'r50-caffe-multi-out': dict(
        depth=50,
        style='caffe',
        inflate=(0, 1, 0, 1),
        with_pool2=False,
        out_indices=(0, 2, 3),
        dilations=(1, 1, 2, 1)),
    'r50-non-local': dict(
        depth=50,
        inflate=I3D_INFLATE,
        non_local=((0, 0, 0), (1, 0, 1, 0), (0, 0, 0, 0, 0, 0), (0, 0, 0)),
        non_local_cfg=dict(
            sub_sample=True, use_scale=False, mode='embedded_gaussian'),
        **I3D_STEM),
}


@pytest.mark.parametrize('inflate_style', ['3x1x1', '3x3x3'])
@pytest.mark.parametrize('case', sorted(PARITY_CASES))
def test_parity_with_mmaction(case, inflate_style):
    kwargs = dict(
        PARITY_CASES[case],
        base_channels=8,
        pretrained=None,
        pretrained2d=False,
        inflate_style=inflate_style)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 32, 32)
    assert_parity(RefResNet3d(**kwargs), ResNet3d(**kwargs), x)


def test_full_width_r50_i3d_keys_match_mmaction():
    kwargs = dict(depth=50, inflate=I3D_INFLATE, pretrained=None, **I3D_STEM)
    ref = RefResNet3d(**kwargs).state_dict()
    ours = ResNet3d(**kwargs).state_dict()
    assert {k: v.shape for k, v in ref.items()} == \
        {k: v.shape for k, v in ours.items()}
    assert ours['conv1.conv.weight'].shape == (64, 3, 5, 7, 7)
    assert ours['layer1.0.downsample.conv.weight'].shape == (256, 64, 1, 1, 1)
    assert ours['layer2.0.conv1.conv.weight'].shape == (128, 256, 3, 1, 1)
    assert ours['layer2.1.conv1.conv.weight'].shape == (128, 512, 1, 1, 1)


def test_shapes_and_registry():
    model = MODELS.build(
        dict(type='ResNet3d', depth=18, base_channels=8, out_indices=(0, 3)))
    assert type(model) is ResNet3d
    outs = model(torch.rand(2, 3, 8, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 8, 4, 16, 16),
                                               (2, 64, 4, 2, 2)]
    assert model.feat_dim == 64


def test_channels_last_3d_input():
    torch.manual_seed(0)
    model = ResNet3d(depth=18, base_channels=8, inflate=(1, 0, 1, 0)).eval()
    randomize_(model)
    x = torch.randn(1, 3, 8, 32, 32)
    x_cl = x.contiguous(memory_format=torch.channels_last_3d)
    with torch.no_grad():
        ref = model(x)
        out = model(x_cl)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    model_cl = model.to(memory_format=torch.channels_last_3d)
    with torch.no_grad():
        out = model_cl(x_cl)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_conv_cfg_swaps_every_conv():
    class MarkedConv3d(nn.Conv3d):
        pass

    model = ResNet3d(
        depth=50,
        base_channels=8,
        stage_blocks=(1, 2, 1, 1),
        conv_cfg=dict(type=MarkedConv3d))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert len(convs) == 1 + 5 * 3 + 4  # stem + block convs + shortcuts
    assert all(type(m) is MarkedConv3d for m in convs)
    assert model(torch.rand(1, 3, 4, 32, 32)).shape == (1, 256, 2, 1, 1)


def test_make_res_layer_builds_one_stage():
    model = ResNet3d(depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1))
    stage = model.make_res_layer(
        Bottleneck3d,
        16,
        8,
        3,
        spatial_stride=2,
        temporal_stride=2,
        inflate=(1, 0, 1),
        norm_cfg=dict(type='BN3d'))
    assert len(stage) == 3
    assert stage[0].downsample is not None and stage[1].downsample is None
    assert [b.conv1.conv.kernel_size[0] for b in stage] == [3, 1, 3]
    assert stage(torch.rand(1, 16, 4, 8, 8)).shape == (1, 32, 2, 4, 4)


def test_temporal_stride_alone_gets_a_shortcut_projection():
    # Same channels, no spatial stride: the branch still halves time, so the
    # shortcut must too (mmaction2 adds no projection here and fails).
    model = ResNet3d(depth=18, base_channels=8, stage_blocks=(1, 1, 1, 1))
    stage = model.make_res_layer(BasicBlock3d, 8, 8, 2, temporal_stride=2)
    assert stage[0].downsample is not None
    assert stage[0].downsample.conv.stride == (2, 1, 1)
    assert stage(torch.rand(1, 8, 4, 4, 4)).shape == (1, 8, 2, 4, 4)
    assert model.make_res_layer(BasicBlock3d, 8, 8, 1)[0].downsample is None


def test_frozen_stages_freeze_params_and_bn():
    model = ResNet3d(depth=18, base_channels=8, frozen_stages=1)
    model.train()
    for module in (model.conv1, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    for module in (model.layer2, model.layer4):
        assert all(p.requires_grad for p in module.parameters())
        assert all(m.training for m in module.modules()
                   if isinstance(m, _BatchNorm))
    before = model.layer1[0].conv1.bn.running_mean.clone()
    model(torch.rand(2, 3, 4, 32, 32))
    torch.testing.assert_close(model.layer1[0].conv1.bn.running_mean, before)


def test_norm_eval_keeps_running_stats():
    model = ResNet3d(depth=18, base_channels=8, norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)
    before = [m.running_mean.clone() for m in bns]
    model(torch.rand(2, 3, 4, 32, 32))
    for m, b in zip(bns, before):
        torch.testing.assert_close(m.running_mean, b)
    assert model.layer1.training  # only the norms are switched


@pytest.mark.parametrize('depth,last', [(18, 'conv2'), (50, 'conv3')])
@pytest.mark.parametrize('zero_init', [True, False])
def test_zero_init_residual(depth, last, zero_init):
    model = ResNet3d(
        depth=depth,
        base_channels=8,
        stage_blocks=(1, 2, 1, 1),
        zero_init_residual=zero_init)
    model.init_weights()
    blocks = [m for m in model.modules()
              if isinstance(m, (BasicBlock3d, Bottleneck3d))]
    assert len(blocks) == 5
    for block in blocks:
        w = getattr(block, last).bn.weight
        assert torch.all(w == 0) if zero_init else torch.all(w == 1)
        assert torch.all(block.conv1.bn.weight == 1)


@pytest.mark.parametrize('depth', [18, 50])
def test_with_cp_same_output_and_grads(depth):
    kwargs = dict(depth=depth, base_channels=8, stage_blocks=(1, 1, 1, 1))
    torch.manual_seed(0)
    plain = ResNet3d(**kwargs)
    randomize_(plain)
    ckpt = ResNet3d(with_cp=True, **kwargs)
    ckpt.load_state_dict(plain.state_dict())
    assert all(b.with_cp for b in ckpt.modules()
               if isinstance(b, (BasicBlock3d, Bottleneck3d)))
    x = torch.randn(2, 3, 4, 32, 32)
    outs = []
    for model in (plain, ckpt):
        model.train()
        out = model(x)
        weights = torch.linspace(-1, 1, out.numel()).view_as(out)
        (out * weights).sum().backward()
        outs.append(out.detach())
    torch.testing.assert_close(outs[1], outs[0], atol=1e-5, rtol=1e-5)
    grads = dict(ckpt.named_parameters())
    for name, p in plain.named_parameters():
        assert grads[name].grad is not None, name
        torch.testing.assert_close(
            grads[name].grad, p.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize('depth', [18, 50])
def test_train_backward_reaches_every_parameter(depth):
    model = ResNet3d(
        depth=depth, base_channels=8, stage_blocks=(1, 2, 1, 1)).train()
    model(torch.rand(2, 3, 4, 32, 32)).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def torchvision_resnet18_state(width: int = 8) -> dict:
    """A 2D ResNet-18 state dict in torchvision layout, built by hand."""
    gen = torch.Generator().manual_seed(1)

    def rnd(*shape):
        return torch.randn(*shape, generator=gen)

    def bn(prefix, c):
        return {
            f'{prefix}.weight': rnd(c).abs() + 0.5,
            f'{prefix}.bias': rnd(c),
            f'{prefix}.running_mean': rnd(c),
            f'{prefix}.running_var': rnd(c).abs() + 0.5,
            f'{prefix}.num_batches_tracked': torch.tensor(7),
        }

    sd = {'conv1.weight': rnd(width, 3, 7, 7), **bn('bn1', width)}
    inplanes = width
    for stage in range(4):
        planes = width * 2**stage
        for b in range(2):
            p = f'layer{stage + 1}.{b}'
            cin = inplanes if b == 0 else planes
            sd[f'{p}.conv1.weight'] = rnd(planes, cin, 3, 3)
            sd.update(bn(f'{p}.bn1', planes))
            sd[f'{p}.conv2.weight'] = rnd(planes, planes, 3, 3)
            sd.update(bn(f'{p}.bn2', planes))
            if b == 0 and stage > 0:
                sd[f'{p}.downsample.0.weight'] = rnd(planes, cin, 1, 1)
                sd.update(bn(f'{p}.downsample.1', planes))
        inplanes = planes
    sd['fc.weight'] = rnd(10, inplanes)
    sd['fc.bias'] = rnd(10)
    return sd


def test_inflate_from_2d_checkpoint(tmp_path):
    sd2d = torchvision_resnet18_state()
    path = tmp_path / 'r18_2d.pth'
    torch.save({'state_dict': sd2d}, path)
    model = ResNet3d(
        depth=18,
        base_channels=8,
        pretrained=str(path),
        pretrained2d=True,
        conv1_kernel=(5, 7, 7),
        inflate=((1, 0), 0, 0, (0, 1)))
    model.init_weights()

    def check(w3d, w2d, t):
        assert w3d.shape[2] == t
        expected = w2d.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        torch.testing.assert_close(w3d, expected)
        # a static clip reproduces the 2D response
        torch.testing.assert_close(w3d.sum(2), w2d)

    check(model.conv1.conv.weight, sd2d['conv1.weight'], 5)
    check(model.layer1[0].conv1.conv.weight, sd2d['layer1.0.conv1.weight'], 3)
    check(model.layer1[1].conv2.conv.weight, sd2d['layer1.1.conv2.weight'], 1)
    check(model.layer4[1].conv2.conv.weight, sd2d['layer4.1.conv2.weight'], 3)
    check(model.layer3[0].downsample.conv.weight,
          sd2d['layer3.0.downsample.0.weight'], 1)
    for key3d, key2d in [('conv1.bn', 'bn1'),
                         ('layer2.1.conv2.bn', 'layer2.1.bn2'),
                         ('layer2.0.downsample.bn', 'layer2.0.downsample.1')]:
        for attr in ('weight', 'bias', 'running_mean', 'running_var',
                     'num_batches_tracked'):
            torch.testing.assert_close(
                model.state_dict()[f'{key3d}.{attr}'], sd2d[f'{key2d}.{attr}'])


def test_inflate_conv_weight_zero_pads_widened_inputs():
    w2d = torch.randn(4, 2, 3, 3)
    w3d = ResNet3d.inflate_conv_weight(w2d, (4, 5, 3, 3, 3))
    torch.testing.assert_close(w3d[:, :2], w2d.unsqueeze(2).expand(
        4, 2, 3, 3, 3) / 3)
    assert torch.all(w3d[:, 2:] == 0)
    with pytest.raises(ValueError, match='cannot inflate'):
        ResNet3d.inflate_conv_weight(w2d, (8, 2, 3, 3, 3))


def test_load_3d_checkpoint(tmp_path):
    src = ResNet3d(depth=18, base_channels=8)
    randomize_(src)
    path = tmp_path / 'r3d.pth'
    torch.save({'state_dict': src.state_dict()}, path)
    dst = ResNet3d(
        depth=18, base_channels=8, pretrained=str(path), pretrained2d=False)
    dst.init_weights()
    for k, v in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[k], v)


@pytest.mark.parametrize('pretrained2d', [True, False])
@pytest.mark.parametrize('location', ['missing.pth', 'https://x.org/r.pth'])
def test_pretrained_must_be_a_local_file(tmp_path, pretrained2d, location):
    path = location if '://' in location else str(tmp_path / location)
    model = ResNet3d(
        depth=18, base_channels=8, pretrained=path,
        pretrained2d=pretrained2d)
    with pytest.raises(FileNotFoundError, match='not a local file'):
        model.init_weights()


@pytest.mark.parametrize('kwargs,match', [
    (dict(depth=20), r'valid depths: \[18, 34, 50, 101, 152\]'),
    (dict(spatial_strides=(1, 2, 2)), 'spatial_strides has 3 entries'),
    (dict(temporal_strides=(1, 1)), 'temporal_strides has 2 entries'),
    (dict(dilations=(1, 1, 1, 1, 1)), 'dilations has 5 entries'),
    (dict(inflate=(1, 1, 1)), 'inflate has 3 entries'),
    (dict(inflate=((1, 1), 1, 1, 1)), r'inflate has 2 entries \(1, 1\)'),
    (dict(non_local=(0, 0)), 'non_local has 2 entries'),
    (dict(stage_blocks=(1, 1)), 'stage_blocks has 2 entries'),
    (dict(style='tf'), "style must be one of \\['pytorch', 'caffe'\\]"),
    (dict(inflate_style='3x3x1'), 'inflate_style must be one of'),
    (dict(num_stages=5), 'num_stages must be in 1..4'),
    (dict(out_indices=(4, )), 'out_indices'),
    (dict(frozen_stages=5), 'frozen_stages'),
    (dict(conv1_kernel=(7, 7)), 'conv1_kernel'),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNet3d(**{'base_channels': 8, **kwargs})


def test_bad_pretrained_type():
    with pytest.raises(TypeError, match='pretrained'):
        ResNet3d(depth=18, pretrained=123)


def test_block_arguments_are_checked():
    with pytest.raises(ValueError, match='style'):
        Bottleneck3d(8, 2, style='keras')
    with pytest.raises(ValueError, match='inflate_style'):
        BasicBlock3d(8, 8, inflate_style='1x1x1')


def test_config_dicts_are_not_mutated():
    norm_cfg = dict(type='BN3d', requires_grad=True)
    conv_cfg = dict(type='Conv3d')
    non_local_cfg = dict(sub_sample=True)
    snapshot = (dict(norm_cfg), dict(conv_cfg), dict(non_local_cfg))
    model = ResNet3d(
        depth=18,
        base_channels=8,
        norm_cfg=norm_cfg,
        conv_cfg=conv_cfg,
        non_local=(0, 1, 0, 0),
        non_local_cfg=non_local_cfg)
    model.norm_cfg['eps'] = 1.0
    assert (norm_cfg, conv_cfg, non_local_cfg) == snapshot
