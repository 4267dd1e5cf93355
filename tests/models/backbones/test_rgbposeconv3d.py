"""Tests of RGBPoseConv3D and ResNet3dPathway (mmaction2 1.1.0 is the
oracle for parity)."""
import copy

import pytest
import torch
import torch.nn as nn
from mmaction.models.backbones.rgbposeconv3d import \
    RGBPoseConv3D as RefRGBPoseConv3D

from mmpose_plus.models.backbones import RGBPoseConv3D, ResNet3dPathway
from mmpose_plus.models.backbones.rgbposeconv3d import (DEFAULT_POSE_PATHWAY,
                                                        DEFAULT_RGB_PATHWAY)
from mmpose_plus.registry import MODELS

# Small inputs that keep the default strides aligned: the pose stream has
# 4x the frames and 1/4 of the spatial size of the RGB stream.
IMGS_SHAPE = (1, 3, 4, 64, 64)
HEATMAPS_SHAPE = (1, 17, 16, 16, 16)


def small_pathways() -> dict:
    """Default pathways with fewer blocks and a quarter of the widths."""
    rgb = dict(copy.deepcopy(dict(DEFAULT_RGB_PATHWAY)),
               base_channels=16, stage_blocks=(1, 1, 2, 1))
    pose = dict(copy.deepcopy(dict(DEFAULT_POSE_PATHWAY)),
                base_channels=8, stage_blocks=(1, 2, 1))
    return dict(rgb_pathway=rgb, pose_pathway=pose)


def randomize_(model: nn.Module, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in model.state_dict().items():
        if v.dtype.is_floating_point:
            r = torch.rand(v.shape, generator=gen)
            v = r + 0.5 if k.endswith(('running_var', 'bn.weight')) else \
                (r - 0.5) * 0.2
        state[k] = v
    model.load_state_dict(state)
    return state


def inputs(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(IMGS_SHAPE, generator=gen),
            torch.randn(HEATMAPS_SHAPE, generator=gen))


# name -> shape, from reference.md (full-size default model)
WIDENED = {
    'rgb_path.layer3.0.conv1.conv.weight': (256, 640, 3, 1, 1),
    'rgb_path.layer3.0.downsample.conv.weight': (1024, 640, 1, 1, 1),
    'rgb_path.layer4.0.conv1.conv.weight': (512, 1280, 3, 1, 1),
    'rgb_path.layer4.0.downsample.conv.weight': (2048, 1280, 1, 1, 1),
    'pose_path.layer2.0.conv1.conv.weight': (64, 160, 3, 1, 1),
    'pose_path.layer2.0.downsample.conv.weight': (256, 160, 1, 1, 1),
    'pose_path.layer3.0.conv1.conv.weight': (128, 320, 3, 1, 1),
    'pose_path.layer3.0.downsample.conv.weight': (512, 320, 1, 1, 1),
}
LATERALS = {
    'rgb_path.layer2_lateral.conv.weight': (128, 128, 7, 1, 1),
    'rgb_path.layer3_lateral.conv.weight': (256, 256, 7, 1, 1),
    # ConvTranspose3d weights are (in, out, k...)
    'pose_path.layer1_lateral.conv.weight': (512, 32, 7, 1, 1),
    'pose_path.layer1_lateral.bn.weight': (32, ),
    'pose_path.layer2_lateral.conv.weight': (1024, 64, 7, 1, 1),
    'pose_path.layer2_lateral.bn.running_var': (64, ),
}


def test_full_size_state_dict_layout():
    ours = RGBPoseConv3D().state_dict()
    ref = RefRGBPoseConv3D().state_dict()
    assert list(ours) == list(ref)
    assert {k: v.shape for k, v in ours.items()} == \
        {k: v.shape for k, v in ref.items()}
    for name, shape in {**WIDENED, **LATERALS}.items():
        assert tuple(ours[name].shape) == shape, name
    lateral_keys = sorted({k.rsplit('.', 2)[0] for k in ours
                           if '_lateral' in k})
    assert lateral_keys == [
        'pose_path.layer1_lateral', 'pose_path.layer2_lateral',
        'rgb_path.layer2_lateral', 'rgb_path.layer3_lateral'
    ]
    # pose->rgb laterals have neither bias nor norm
    assert not any(k.startswith('rgb_path.layer2_lateral.')
                   and not k.endswith('conv.weight') for k in ours)
    assert {k.split('.')[1] for k in ours if k.startswith('pose_path')} >= \
        {'conv1', 'layer1', 'layer2', 'layer3'}
    assert not any(k.startswith('pose_path.layer4') for k in ours)


def test_default_forward_parity_with_mmaction():
    ref = RefRGBPoseConv3D()
    ours = RGBPoseConv3D()
    ours.load_state_dict(randomize_(ref), strict=True)
    ref.eval()
    ours.eval()
    imgs, heatmaps = inputs()
    with torch.no_grad():
        expected = ref(imgs, heatmaps)
        got = ours(imgs, heatmaps)
    assert got[0].shape == (1, 2048, 4, 2, 2)
    assert got[1].shape == (1, 512, 16, 2, 2)
    for e, g in zip(expected, got):
        assert (e - g).abs().max().item() <= 1e-5


def test_train_mode_drop_path_parity_with_mmaction():
    kwargs = dict(rgb_drop_path=0.5, pose_drop_path=0.5, **small_pathways())
    ref = RefRGBPoseConv3D(**copy.deepcopy(kwargs))
    ours = RGBPoseConv3D(**kwargs)
    ours.load_state_dict(randomize_(ref), strict=True)
    ref.train()
    ours.train()
    imgs, heatmaps = inputs()
    for seed in range(4):  # covers kept and dropped laterals
        torch.manual_seed(seed)
        expected = ref(imgs, heatmaps)
        torch.manual_seed(seed)
        got = ours(imgs, heatmaps)
        for e, g in zip(expected, got):
            assert (e - g).abs().max().item() <= 1e-5


def test_default_and_user_dicts_are_not_mutated():
    defaults = (copy.deepcopy(dict(DEFAULT_RGB_PATHWAY)),
                copy.deepcopy(dict(DEFAULT_POSE_PATHWAY)))
    cfgs = small_pathways()
    snapshot = copy.deepcopy(cfgs)
    RGBPoseConv3D(speed_ratio=4, channel_ratio=4, **cfgs)
    RGBPoseConv3D(**small_pathways())
    assert cfgs == snapshot
    assert 'speed_ratio' not in cfgs['rgb_pathway']
    assert (dict(DEFAULT_RGB_PATHWAY), dict(DEFAULT_POSE_PATHWAY)) == defaults
    with pytest.raises(TypeError):
        DEFAULT_RGB_PATHWAY['base_channels'] = 1


def test_registry_and_channels_last():
    model = MODELS.build(dict(type='RGBPoseConv3D', **small_pathways()))
    assert type(model) is RGBPoseConv3D
    randomize_(model)
    model.eval()
    imgs, heatmaps = inputs()
    with torch.no_grad():
        ref = model(imgs, heatmaps)
        got = model(imgs.contiguous(memory_format=torch.channels_last_3d),
                    heatmaps.contiguous(memory_format=torch.channels_last_3d))
    assert ref[0].shape == (1, 512, 4, 2, 2)
    assert ref[1].shape == (1, 128, 16, 2, 2)
    for r, g in zip(ref, got):
        torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-5)


def test_train_backward_reaches_every_parameter():
    model = RGBPoseConv3D(**small_pathways()).train()
    x_rgb, x_pose = model(*inputs())
    (x_rgb.mean() + x_pose.mean()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def grads_reaching(model, loss_of, prefix):
    model.zero_grad(set_to_none=True)
    x_rgb, x_pose = model(*inputs())
    loss_of(x_rgb, x_pose).backward()
    return [
        n for n, p in model.named_parameters()
        if n.startswith(prefix) and p.grad is not None and p.grad.abs().sum()
    ]


@pytest.mark.parametrize('detach', [False, True])
def test_rgb_detach_blocks_gradient_into_pose_path(detach):
    model = RGBPoseConv3D(rgb_detach=detach, **small_pathways()).train()
    randomize_(model)
    reached = grads_reaching(model, lambda r, p: r.square().mean(),
                             'pose_path.')
    if detach:
        assert reached == []
    else:
        assert any(n.startswith('pose_path.layer1.') for n in reached)
        assert any(n.startswith('pose_path.conv1.') for n in reached)


@pytest.mark.parametrize('detach', [False, True])
def test_pose_detach_blocks_gradient_into_rgb_path(detach):
    model = RGBPoseConv3D(pose_detach=detach, **small_pathways()).train()
    randomize_(model)
    reached = grads_reaching(model, lambda r, p: p.square().mean(),
                             'rgb_path.')
    if detach:
        assert reached == []
    else:
        assert any(n.startswith('rgb_path.layer2.') for n in reached)
        assert any(n.startswith('rgb_path.conv1.') for n in reached)


def test_drop_path_zeroes_laterals_only_in_training():
    imgs, heatmaps = inputs()
    other_heatmaps = inputs(seed=1)[1]
    other_imgs = inputs(seed=1)[0]
    model = RGBPoseConv3D(
        rgb_drop_path=1.0, pose_drop_path=1.0, **small_pathways())
    randomize_(model)
    model.train()
    with torch.no_grad():
        a_rgb, a_pose = model(imgs, heatmaps)
        b_rgb, _ = model(imgs, other_heatmaps)
        _, c_pose = model(other_imgs, heatmaps)
    # each stream no longer sees the other one
    torch.testing.assert_close(a_rgb, b_rgb)
    torch.testing.assert_close(a_pose, c_pose)
    model.eval()
    with torch.no_grad():
        a_rgb, a_pose = model(imgs, heatmaps)
        b_rgb, _ = model(imgs, other_heatmaps)
        _, c_pose = model(other_imgs, heatmaps)
    assert (a_rgb - b_rgb).abs().max() > 1e-4
    assert (a_pose - c_pose).abs().max() > 1e-4
    # without drop path, training-mode streams do see each other
    keep = RGBPoseConv3D(**small_pathways())
    keep.load_state_dict(model.state_dict())
    keep.train()
    with torch.no_grad():
        assert (keep(imgs, heatmaps)[0] -
                keep(imgs, other_heatmaps)[0]).abs().max() > 1e-4


def test_mismatched_input_sizes_give_a_clear_error():
    model = RGBPoseConv3D(**small_pathways()).eval()
    imgs, _ = inputs()
    with pytest.raises(ValueError, match='1/4 of their height and width'):
        model(imgs, torch.randn(1, 17, 16, 32, 32))


@pytest.mark.parametrize('kwargs,exc,match', [
    (dict(rgb_drop_path=1.5), ValueError, 'rgb_drop_path'),
    (dict(pose_drop_path=-0.1), ValueError, 'pose_drop_path'),
    (dict(pretrained=3), TypeError, 'pretrained'),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        RGBPoseConv3D(**kwargs, **small_pathways())


def test_bad_pathway_configs():
    cfgs = small_pathways()
    cfgs['rgb_pathway']['with_pool2'] = True
    with pytest.raises(ValueError, match='with_pool2'):
        RGBPoseConv3D(**cfgs)
    cfgs = small_pathways()
    cfgs['pose_pathway']['lateral_activate'] = (0, 1)
    with pytest.raises(ValueError, match='lateral_activate'):
        RGBPoseConv3D(**cfgs)
    cfgs = small_pathways()
    cfgs['rgb_pathway'].update(
        num_stages=3, stage_blocks=(1, 1, 1), lateral_activate=(0, 0, 1),
        out_indices=(2, ),
        inflate=(0, 0, 1), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 1), dilations=(1, 1, 1))
    with pytest.raises(ValueError, match='one stage more'):
        RGBPoseConv3D(**cfgs)


def test_pretrained_checkpoint_round_trip(tmp_path):
    src = RGBPoseConv3D(**small_pathways())
    state = randomize_(src)
    path = tmp_path / 'rgbpose.pth'
    torch.save({'state_dict': state}, path)
    dst = RGBPoseConv3D(pretrained=str(path), **small_pathways())
    dst.init_weights()
    for k, v in state.items():
        torch.testing.assert_close(dst.state_dict()[k], v)
    missing = RGBPoseConv3D(
        pretrained=str(tmp_path / 'nope.pth'), **small_pathways())
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        missing.init_weights()


def test_init_weights_from_scratch():
    model = RGBPoseConv3D(**small_pathways())
    model.init_weights()
    # zero-init residual in both pathways, laterals initialised (non-zero)
    assert torch.all(model.rgb_path.layer1[0].conv3.bn.weight == 0)
    assert torch.all(model.pose_path.layer3[0].conv3.bn.weight == 0)
    assert model.pose_path.layer1_lateral.conv.weight.abs().sum() > 0
    assert torch.all(model.pose_path.layer1_lateral.bn.weight == 1)


def tiny_pathway(**kwargs) -> ResNet3dPathway:
    cfg = dict(
        depth=50,
        base_channels=8,
        stage_blocks=(1, 1, 1, 1),
        lateral=True,
        speed_ratio=4,
        channel_ratio=4,
        lateral_infl=1,
        lateral_activate=(0, 0, 1, 1),
        fusion_kernel=7,
        conv1_kernel=(1, 7, 7),
        inflate=(0, 0, 1, 1),
        with_pool2=False)
    cfg.update(kwargs)
    return ResNet3dPathway(**cfg)


def test_pathway_frozen_stages_freeze_matching_laterals():
    path = tiny_pathway(frozen_stages=2).train()
    assert path.lateral_connections == ['layer2_lateral', 'layer3_lateral']
    frozen = [path.conv1, path.layer1, path.layer2, path.layer2_lateral]
    for m in frozen:
        assert all(not p.requires_grad for p in m.parameters())
        assert not m.training
    for m in (path.layer3, path.layer3_lateral, path.layer4):
        assert all(p.requires_grad for p in m.parameters())
        assert m.training


def test_pathway_conv1_lateral_and_inverse_laterals():
    path = tiny_pathway(lateral_activate=(1, 1, 1, 1), lateral_infl=2)
    # stage inputs 8, 32, 64, 128 widened by 8*2//4 etc.
    assert path.conv1_lateral.conv.weight.shape == (4, 2, 7, 1, 1)
    assert path.layer1[0].conv1.conv.weight.shape[1] == 8 + 4
    assert path.layer2[0].conv1.conv.weight.shape[1] == 32 + 16
    inv = tiny_pathway(lateral_inv=True, lateral_infl=16,
                       lateral_activate=(0, 1, 1, 1))
    lat = inv.layer1_lateral
    assert isinstance(lat.conv, nn.ConvTranspose3d)
    assert lat.conv.weight.shape == (128, 8, 7, 1, 1)
    # upsamples time by speed_ratio exactly
    assert lat(torch.rand(1, 128, 3, 2, 2)).shape == (1, 8, 12, 2, 2)
    assert inv.layer2[0].conv1.conv.weight.shape[1] == 32 + 8
    with pytest.raises(ValueError, match='fusion_kernel'):
        tiny_pathway(lateral_inv=True, fusion_kernel=4, speed_ratio=1)


def bottleneck_resnet_2d_state(width: int) -> dict:
    """A 2D bottleneck ResNet (1 block per stage) in torchvision layout."""
    gen = torch.Generator().manual_seed(2)

    def rnd(*shape):
        return torch.randn(*shape, generator=gen)

    def bn(prefix, c):
        return {f'{prefix}.weight': rnd(c), f'{prefix}.bias': rnd(c),
                f'{prefix}.running_mean': rnd(c),
                f'{prefix}.running_var': rnd(c).abs() + 0.5}

    sd = {'conv1.weight': rnd(width, 3, 7, 7), **bn('bn1', width)}
    inplanes = width
    for stage in range(4):
        planes = width * 2**stage
        p = f'layer{stage + 1}.0'
        sd[f'{p}.conv1.weight'] = rnd(planes, inplanes, 1, 1)
        sd[f'{p}.conv2.weight'] = rnd(planes, planes, 3, 3)
        sd[f'{p}.conv3.weight'] = rnd(planes * 4, planes, 1, 1)
        sd[f'{p}.downsample.0.weight'] = rnd(planes * 4, inplanes, 1, 1)
        for i in (1, 2):
            sd.update(bn(f'{p}.bn{i}', planes))
        sd.update(bn(f'{p}.bn3', planes * 4))
        sd.update(bn(f'{p}.downsample.1', planes * 4))
        inplanes = planes * 4
    return sd


def test_pathway_inflation_zero_pads_lateral_inputs(tmp_path):
    sd2d = bottleneck_resnet_2d_state(8)
    path = tmp_path / 'r50_2d.pth'
    torch.save(sd2d, path)
    model = tiny_pathway(pretrained=str(path), pretrained2d=True)
    lateral_before = model.layer2_lateral.conv.weight.clone()
    model.init_weights()
    w = model.layer3[0].conv1.conv.weight  # 64 own + 16 lateral inputs
    assert w.shape == (32, 80, 3, 1, 1)
    w2d = sd2d['layer3.0.conv1.weight']
    torch.testing.assert_close(w[:, :64],
                               w2d.unsqueeze(2).repeat(1, 1, 3, 1, 1) / 3)
    assert torch.all(w[:, 64:] == 0)
    ds = model.layer4[0].downsample.conv.weight
    torch.testing.assert_close(ds[:, :128, 0],
                               sd2d['layer4.0.downsample.0.weight'])
    assert torch.all(ds[:, 128:] == 0)
    # laterals have no 2D counterpart: freshly initialised, not loaded
    lat = model.layer2_lateral.conv.weight
    assert lat.shape == (16, 16, 7, 1, 1)
    assert not torch.equal(lat, lateral_before)
    torch.testing.assert_close(model.layer1[0].conv3.bn.running_var,
                               sd2d['layer1.0.bn3.running_var'])
