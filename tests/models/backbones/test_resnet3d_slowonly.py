"""Tests of ResNet3dSlowOnly (mmaction2 1.1.0 is the oracle)."""
import torch
from mmaction.models.backbones.resnet3d_slowonly import \
    ResNet3dSlowOnly as RefSlowOnly

from _action_helpers import POSEC3D_KEYPOINT
from mmpose_plus.models.backbones import ResNet3d, ResNet3dSlowOnly
from mmpose_plus.registry import MODELS


def test_posec3d_keypoint_parity_with_mmaction():
    torch.manual_seed(0)
    ref = RefSlowOnly(**POSEC3D_KEYPOINT)
    ours = ResNet3dSlowOnly(**POSEC3D_KEYPOINT)
    gen = torch.Generator().manual_seed(0)
    state = {}
    for k, v in ref.state_dict().items():
        if v.dtype.is_floating_point:
            r = torch.rand(v.shape, generator=gen)
            v = r + 0.5 if k.endswith(('running_var', 'bn.weight')) else \
                (r - 0.5) * 0.2
        state[k] = v
    ref.load_state_dict(state)
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state, strict=True)
    ref.eval()
    ours.eval()
    x = torch.randn(1, 17, 8, 32, 32)
    with torch.no_grad():
        expected, got = ref(x), ours(x)
    assert got.shape == (1, 512, 4, 4, 4)
    assert (expected - got).abs().max().item() <= 1e-5


def test_defaults_differ_from_resnet3d_only_where_documented():
    model = ResNet3dSlowOnly(depth=50, base_channels=8)
    assert isinstance(model, ResNet3d)
    assert model.conv1.conv.kernel_size == (1, 7, 7)
    assert model.conv1.conv.stride == (1, 2, 2)
    assert not model.with_pool2
    assert model.maxpool.stride == (1, 2, 2)
    # temporal kernels only in the last two stages
    kt = [model.layer1[0].conv1.conv.kernel_size[0],
          model.layer2[0].conv1.conv.kernel_size[0],
          model.layer3[0].conv1.conv.kernel_size[0],
          model.layer4[0].conv1.conv.kernel_size[0]]
    assert kt == [1, 1, 3, 3]
    # no temporal downsampling anywhere
    assert model(torch.rand(1, 3, 4, 32, 32)).shape == (1, 256, 4, 1, 1)


def test_registered_and_overridable():
    model = MODELS.build(dict(type='ResNet3dSlowOnly', **POSEC3D_KEYPOINT))
    assert type(model) is ResNet3dSlowOnly
    assert model.layer1[0].conv1.conv.weight.shape == (32, 32, 1, 1, 1)
    assert model.layer2[0].conv1.conv.weight.shape == (64, 128, 3, 1, 1)
    assert model.layer3[0].downsample.conv.stride == (2, 2, 2)
    assert model.feat_dim == 512
    overridden = ResNet3dSlowOnly(
        depth=18, base_channels=8, with_pool2=True, conv1_kernel=(3, 7, 7))
    assert overridden.with_pool2
    assert overridden.conv1.conv.kernel_size == (3, 7, 7)


def test_in_channels_mismatch_with_pipeline_is_explained():
    import pytest
    import torch

    from mmpose_plus.models.backbones import ResNet3dSlowOnly
    model = ResNet3dSlowOnly(
        depth=50, in_channels=17, base_channels=4, num_stages=1,
        out_indices=(0, ), stage_blocks=(1, ), spatial_strides=(1, ),
        temporal_strides=(1, ), dilations=(1, ), inflate=(0, ),
        conv1_stride_s=1, pool1_stride_s=1)
    limbs = torch.zeros(1, 19, 2, 8, 8)  # with_limb=True makes 19 channels
    with pytest.raises(ValueError, match='in_channels=17.*GeneratePoseTarget'):
        model(limbs)
    assert model(torch.zeros(1, 17, 2, 8, 8)).shape[1] == 16
