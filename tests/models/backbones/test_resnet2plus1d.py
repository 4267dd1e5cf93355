import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope

from mmpose_plus.models.backbones import ResNet2Plus1d
from mmpose_plus.models.layers import Conv2plus1d
from mmpose_plus.registry import MODELS

# mmaction2's configs/_base_/models/r2plus1d_r34.py backbone (SyncBN -> BN3d)
R34_KINETICS = dict(
    depth=34,
    pretrained=None,
    pretrained2d=False,
    norm_eval=False,
    conv_cfg=dict(type='Conv2plus1d'),
    norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
    conv1_kernel=(3, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
    inflate=(1, 1, 1, 1),
    spatial_strides=(1, 2, 2, 2),
    temporal_strides=(1, 2, 2, 2),
    zero_init_residual=False)

TINY = dict(depth=18, base_channels=8, norm_cfg=dict(type='BN3d'))


def test_r34_kinetics_parity_with_mmaction2():
    from mmaction.models.backbones import ResNet2Plus1d as RefResNet2Plus1d
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        ref = RefResNet2Plus1d(**R34_KINETICS)
    ref.init_weights()
    x = torch.randn(2, 3, 8, 32, 32)
    # one training step of BN statistics so that eval mode uses non-trivial
    # running stats in both models
    ref.train()
    with torch.no_grad():
        ref(x)
    ours = ResNet2Plus1d(**R34_KINETICS)
    ref_sd = ref.state_dict()
    assert list(ours.state_dict()) == list(ref_sd)
    ours.load_state_dict(ref_sd, strict=True)
    assert ours.conv1.conv.conv_s.weight.shape == (83, 3, 1, 7, 7)
    assert ours.layer2[0].downsample.conv.conv_s.weight.shape == (54, 64, 1,
                                                                  1, 1)
    ref.eval()
    ours.eval()
    with torch.no_grad():
        out_ref, out = ref(x), ours(x)
    # T 8 -> 1 by the temporal strides only: no pool2 in either model
    assert out.shape == out_ref.shape == (2, 512, 1, 1, 1)
    assert (out - out_ref).abs().max() <= 1e-5


def test_plain_name_binds_our_conv_in_any_scope():
    model = ResNet2Plus1d(**TINY)  # no default scope set here
    assert type(model.conv1.conv) is Conv2plus1d
    assert type(model.layer1[0].conv1.conv) is Conv2plus1d


def test_paper_stem_matches_torchvision_layout():
    model = ResNet2Plus1d(
        depth=18, stem_mid_channels=45, with_pool1=False,
        norm_cfg=dict(type='BN3d'))
    stem = model.conv1
    assert stem.conv.conv_s.weight.shape == (45, 3, 1, 7, 7)
    assert stem.conv.conv_s.stride == (1, 2, 2)
    assert stem.conv.conv_t.weight.shape == (64, 45, 3, 1, 1)
    # the rest of the network keeps the formula widths
    assert model.layer1[0].conv1.conv.conv_s.out_channels == 144
    # torchvision's R2Plus1dStem, written out
    oracle = nn.Sequential(
        nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False),
        nn.BatchNorm3d(45), nn.ReLU(inplace=True),
        nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False),
        nn.BatchNorm3d(64), nn.ReLU(inplace=True))
    ours_sd = stem.state_dict()
    mapping = {
        '0': 'conv.conv_s',
        '1': 'conv.bn_s',
        '3': 'conv.conv_t',
        '4': 'bn'
    }
    oracle.load_state_dict({
        f'{idx}.{key.split(".")[-1]}': value
        for idx, prefix in mapping.items()
        for key, value in ours_sd.items()
        if key.rpartition('.')[0] == prefix
    })
    oracle.eval()
    model.eval()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        assert (stem(x) - oracle(x)).abs().max() <= 1e-5
        # no max-pool: layer1 sees the stem resolution
        assert model(x).shape == (1, 512, 4, 2, 2)


def test_backward_reaches_every_parameter():
    model = ResNet2Plus1d(**TINY, out_indices=(0, 3))
    model.init_weights()
    outs = model(torch.rand(2, 3, 4, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 8, 4, 8, 8),
                                              (2, 64, 4, 1, 1)]
    sum(o.mean() for o in outs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_with_pool2_is_honoured_when_asked():
    model = ResNet2Plus1d(**TINY, with_pool2=True).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 4, 32, 32)).shape[2] == 2


def test_frozen_stages_cover_inner_norms():
    model = ResNet2Plus1d(**TINY, frozen_stages=1)
    model.train()
    assert not model.conv1.conv.bn_s.training
    assert not model.layer1[0].conv1.conv.bn_s.training
    assert model.layer2[0].conv1.conv.bn_s.training
    assert not any(p.requires_grad for p in model.layer1.parameters())


@pytest.mark.parametrize('kwargs,match', [
    (dict(conv_cfg=dict(type='Conv3d')), 'Conv2plus1d'),
    (dict(pretrained2d=True), 'pretrained2d'),
    (dict(stem_mid_channels=0), 'stem_mid_channels'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNet2Plus1d(depth=18, **kwargs)


def test_registered_in_our_scope():
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        model = MODELS.build(dict(type='ResNet2Plus1d', **TINY))
    assert type(model) is ResNet2Plus1d
