import pytest
import torch
from mmcv.cnn import ConvModule
from mmengine.registry import DefaultScope

from mmpose_plus.models.layers import Conv2plus1d, conv2plus1d_mid_channels


def _mm_conv2plus1d():
    from mmaction.models.common import Conv2plus1d as RefConv2plus1d
    return RefConv2plus1d


# (cin, cout, kernel, stride, padding): the shapes R(2+1)D actually uses,
# including the 1x1x1 downsample and a non-inflated (1,3,3) conv.
CASES = [
    (3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3)),
    (64, 64, (3, 3, 3), 1, 1),
    (64, 128, (3, 3, 3), (2, 2, 2), 1),
    (64, 128, (1, 1, 1), (2, 2, 2), 0),
    (16, 24, (1, 3, 3), 1, (0, 1, 1)),
]


@pytest.mark.parametrize('cin,cout,kernel,stride,padding', CASES)
def test_matches_mmaction2(cin, cout, kernel, stride, padding):
    torch.manual_seed(0)
    ref = _mm_conv2plus1d()(cin, cout, kernel, stride, padding, bias=False)
    ours = Conv2plus1d(cin, cout, kernel, stride, padding, bias=False)
    ref_sd = ref.state_dict()
    assert list(ours.state_dict()) == list(ref_sd)
    assert all(ours.state_dict()[k].shape == v.shape
               for k, v in ref_sd.items())
    ours.load_state_dict(ref_sd, strict=True)
    # non-trivial norm statistics so eval mode exercises them
    for m in (ref, ours):
        m.bn_s.running_mean.fill_(0.1)
        m.bn_s.running_var.fill_(2.0)
    ref.eval()
    ours.eval()
    x = torch.randn(2, cin, 6, 12, 12)
    with torch.no_grad():
        out_ref, out = ref(x), ours(x)
    assert out.shape == out_ref.shape
    assert (out - out_ref).abs().max() <= 1e-5


def test_mid_channels_formula():
    # paper: floor(t*k*k*Cin*Cout / (k*k*Cin + t*Cout))
    assert conv2plus1d_mid_channels(64, 64, 3, 3, 3) == 144
    assert conv2plus1d_mid_channels(3, 64, 3, 7, 7) == 83
    assert conv2plus1d_mid_channels(64, 128, 1, 1, 1) == 42
    # default follows mmaction2 (t=3 in the formula even for 1x1x1)
    assert Conv2plus1d(64, 128, 1).mid_channels == 54
    # the literal paper formula on request, and an explicit override
    assert Conv2plus1d(64, 128, 1, mid_channels_t=None).mid_channels == 42
    assert Conv2plus1d(64, 128, 3, mid_channels=7).conv_s.out_channels == 7


def test_kernel_split_and_strides():
    conv = Conv2plus1d(4, 8, (3, 5, 5), stride=(2, 2, 2), padding=(1, 2, 2),
                       bias=True)
    assert conv.conv_s.kernel_size == (1, 5, 5)
    assert conv.conv_s.stride == (1, 2, 2)
    assert conv.conv_t.kernel_size == (3, 1, 1)
    assert conv.conv_t.stride == (2, 1, 1)
    assert conv.conv_s.bias is not None and conv.conv_t.bias is not None
    out = conv(torch.rand(1, 4, 8, 16, 16))
    assert out.shape == (1, 8, 4, 8, 8)


def test_dilation_is_applied():
    # mmaction2 drops dilation; ours applies it, so 'same' padding with
    # dilation 2 keeps the size
    conv = Conv2plus1d(4, 4, 3, padding=2, dilation=2)
    assert conv.conv_s.dilation == (1, 2, 2)
    assert conv.conv_t.dilation == (2, 1, 1)
    assert conv(torch.rand(1, 4, 6, 10, 10)).shape == (1, 4, 6, 10, 10)


def test_bad_arguments():
    with pytest.raises(ValueError, match='groups'):
        Conv2plus1d(4, 4, 3, groups=2)
    with pytest.raises(ValueError, match='padding'):
        Conv2plus1d(4, 4, 3, padding='same')


@pytest.mark.parametrize('conv_type', [Conv2plus1d, 'Conv2plus1d'])
def test_in_conv_module(conv_type):
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        module = ConvModule(
            8, 16, (3, 3, 3), stride=(1, 2, 2), padding=1, bias='auto',
            conv_cfg=dict(type=conv_type), norm_cfg=dict(type='BN3d'))
    assert type(module.conv) is Conv2plus1d
    # bias='auto' with a norm -> no conv bias; the attribute surface that
    # ConvModule re-exports is there
    assert module.conv.conv_s.bias is None and module.conv.conv_t.bias is None
    assert module.kernel_size == (3, 3, 3) and module.stride == (1, 2, 2)
    assert sorted(k for k in module.state_dict() if 'weight' in k) == [
        'bn.weight', 'conv.bn_s.weight', 'conv.conv_s.weight',
        'conv.conv_t.weight'
    ]
    out = module(torch.rand(2, 8, 4, 8, 8))
    assert out.shape == (2, 16, 4, 4, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in module.parameters())


def test_norm_cfg_passed_through_conv_cfg():
    conv = Conv2plus1d(4, 4, 3, norm_cfg=dict(type='BN3d', eps=1e-3))
    assert conv.bn_s.eps == 1e-3
