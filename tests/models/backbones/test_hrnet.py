"""HRNet: official key layout, official forward semantics, stage options.

The expected layout is generated here from the structure of the official
implementation (leoxiaobin/deep-high-resolution-net.pytorch), written out
independently of our module code, and the reference forward below computes
the official network directly from such a state dict with functional ops.
"""
import copy
from typing import List

import pytest
import torch
import torch.nn.functional as F

from _pose_helpers import (Shapes, bn_shapes, conv_shapes, hrnet_stages,
                           random_state_dict, ref_bn, residual_block_shapes,
                           state_shapes)
from mmpose_plus.models.backbones.hrnet import HRNet, hrnet_extra
from mmpose_plus.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')

# A small but complete configuration: every stage has several modules, so
# the "last stage-4 module keeps only fuse_layers.0" rule is exercised.
TINY_EXTRA = hrnet_stages((4, 8, 16, 32),
                          stage1_width=8,
                          num_modules=(1, 2, 2),
                          num_blocks={3: (1, 2, 1)})

# --------------------------------------------------------------------------
# Official layout, generated from the official module structure.
# --------------------------------------------------------------------------


def official_shapes(extra: dict, multiscale: bool = False) -> Shapes:
    shapes: Shapes = {}

    def conv(name, out_c, in_c, k):
        shapes.update(conv_shapes(name, out_c, in_c, k))

    def bn(name, c):
        shapes.update(bn_shapes(name, c))

    def block(name, kind, in_c, planes):
        block_shapes, out_c = residual_block_shapes(name, kind == 'BOTTLENECK',
                                                    in_c, planes)
        shapes.update(block_shapes)
        return out_c

    conv('conv1', 64, 3, 3)
    bn('bn1', 64)
    conv('conv2', 64, 64, 3)
    bn('bn2', 64)
    s1 = extra['stage1']
    c = 64
    for j in range(s1['num_blocks'][0]):
        c = block(f'layer1.{j}', s1['block'], c, s1['num_channels'][0])
    pre = [c]
    for s in (2, 3, 4):
        cfg = extra[f'stage{s}']
        exp = 4 if cfg['block'] == 'BOTTLENECK' else 1
        cur = [ch * exp for ch in cfg['num_channels']]
        for i, ch in enumerate(cur):
            t = f'transition{s - 1}.{i}'
            if i < len(pre):
                if ch != pre[i]:
                    conv(f'{t}.0', ch, pre[i], 3)
                    bn(f'{t}.1', ch)
            else:
                for k in range(i + 1 - len(pre)):
                    out_c = ch if k == i - len(pre) else pre[-1]
                    conv(f'{t}.{k}.0', out_c, pre[-1], 3)
                    bn(f'{t}.{k}.1', out_c)
        nb = cfg['num_branches']
        for m in range(cfg['num_modules']):
            prefix = f'stage{s}.{m}'
            outs = []
            for b in range(nb):
                c = cur[b]
                for j in range(cfg['num_blocks'][b]):
                    c = block(f'{prefix}.branches.{b}.{j}', cfg['block'], c,
                              cfg['num_channels'][b])
                outs.append(c)
            last = s == 4 and m == cfg['num_modules'] - 1
            n_out = 1 if (last and not multiscale) else nb
            for i in range(n_out if nb > 1 else 0):
                for j in range(nb):
                    f = f'{prefix}.fuse_layers.{i}.{j}'
                    if j > i:
                        conv(f'{f}.0', outs[i], outs[j], 1)
                        bn(f'{f}.1', outs[i])
                    elif j < i:
                        for k in range(i - j):
                            out_c = outs[i] if k == i - j - 1 else outs[j]
                            conv(f'{f}.{k}.0', out_c, outs[j], 3)
                            bn(f'{f}.{k}.1', out_c)
            cur = outs
        pre = cur
    return shapes


# --------------------------------------------------------------------------
# Reference forward of the official network, from a state dict.
# --------------------------------------------------------------------------


def _conv(sd, name, x, stride=1):
    w = sd[f'{name}.weight']
    return F.conv2d(x, w, None, stride, w.shape[-1] // 2)


def _block(sd, name, kind, x):
    out = F.relu(ref_bn(sd, f'{name}.bn1', _conv(sd, f'{name}.conv1', x)))
    out = ref_bn(sd, f'{name}.bn2', _conv(sd, f'{name}.conv2', out))
    if kind == 'BOTTLENECK':
        out = ref_bn(sd, f'{name}.bn3',
                     _conv(sd, f'{name}.conv3', F.relu(out)))
    res = x
    if f'{name}.downsample.0.weight' in sd:
        res = ref_bn(sd, f'{name}.downsample.1',
                     _conv(sd, f'{name}.downsample.0', x))
    return F.relu(out + res)


def official_forward(sd, extra, x, multiscale=False) -> List[torch.Tensor]:
    x = F.relu(ref_bn(sd, 'bn1', _conv(sd, 'conv1', x, 2)))
    x = F.relu(ref_bn(sd, 'bn2', _conv(sd, 'conv2', x, 2)))
    for j in range(extra['stage1']['num_blocks'][0]):
        x = _block(sd, f'layer1.{j}', extra['stage1']['block'], x)
    ys = [x]
    for s in (2, 3, 4):
        cfg = extra[f'stage{s}']
        nb = cfg['num_branches']
        xs = []
        for i in range(nb):
            t = f'transition{s - 1}.{i}'
            if f'{t}.0.weight' in sd:  # same branch, new width
                xs.append(
                    F.relu(ref_bn(sd, f'{t}.1', _conv(sd, f'{t}.0', ys[-1]))))
            elif f'{t}.0.0.weight' in sd:  # new branch
                z = ys[-1]
                k = 0
                while f'{t}.{k}.0.weight' in sd:
                    z = F.relu(ref_bn(sd, f'{t}.{k}.1',
                                      _conv(sd, f'{t}.{k}.0', z, 2)))
                    k += 1
                xs.append(z)
            else:
                xs.append(ys[i])
        for m in range(cfg['num_modules']):
            p = f'stage{s}.{m}'
            for b in range(nb):
                for j in range(cfg['num_blocks'][b]):
                    xs[b] = _block(sd, f'{p}.branches.{b}.{j}', cfg['block'],
                                   xs[b])
            last = s == 4 and m == cfg['num_modules'] - 1
            n_out = 1 if (last and not multiscale) else nb
            fused = []
            for i in range(n_out):
                y = None
                for j in range(nb):
                    f = f'{p}.fuse_layers.{i}.{j}'
                    if j == i:
                        z = xs[j]
                    elif j > i:
                        z = ref_bn(sd, f'{f}.1', _conv(sd, f'{f}.0', xs[j]))
                        z = F.interpolate(
                            z, scale_factor=2**(j - i), mode='nearest')
                    else:
                        z = xs[j]
                        for k in range(i - j):
                            z = ref_bn(sd, f'{f}.{k}.1',
                                       _conv(sd, f'{f}.{k}.0', z, 2))
                            if k < i - j - 1:
                                z = F.relu(z)
                    y = z if y is None else y + z
                fused.append(F.relu(y))
            xs = fused
        ys = xs
    return ys


# --------------------------------------------------------------------------


@pytest.mark.parametrize('width', [18, 32, 48])
def test_standard_widths_match_official_layout(width):
    with torch.device('meta'):
        model = HRNet(arch=f'w{width}')
    assert state_shapes(model) == official_shapes(hrnet_extra(width))


def test_reference_md_keys_w32():
    with torch.device('meta'):
        model = HRNet(arch='w32')
        multi = state_shapes(HRNet(arch='w32', multiscale_output=True))
    shapes = state_shapes(model)
    assert shapes['transition1.0.0.weight'] == (32, 256, 3, 3)
    assert shapes['transition1.1.0.0.weight'] == (64, 256, 3, 3)
    assert shapes['transition2.2.0.0.weight'] == (128, 64, 3, 3)
    assert shapes['transition3.3.0.0.weight'] == (256, 128, 3, 3)
    assert shapes['stage2.0.fuse_layers.0.1.0.weight'] == (32, 64, 1, 1)
    assert shapes['stage2.0.fuse_layers.0.1.1.weight'] == (32, )
    assert shapes['layer1.3.conv3.weight'] == (256, 64, 1, 1)
    # Existing branches with unchanged width have no transition weights.
    assert not any(k.startswith(('transition2.0.', 'transition2.1.'))
                   for k in shapes)
    # The last stage-4 module fuses into branch 0 only ...
    last = {k.split('.')[3] for k in shapes
            if k.startswith('stage4.2.fuse_layers.')}
    assert last == {'0'}
    # ... unless every branch is an output.
    last = {k.split('.')[3] for k in multi
            if k.startswith('stage4.2.fuse_layers.')}
    assert last == {'0', '1', '2', '3'}
    # Official HRNet-W32 backbone (28.5M with the 1x1 head).
    assert sum(p.numel() for p in model.parameters()) == 28_535_552


@pytest.mark.parametrize('multiscale', [False, True])
def test_official_state_dict_loads_strictly_and_matches_forward(multiscale):
    extra = copy.deepcopy(TINY_EXTRA)
    model = HRNet(extra, multiscale_output=multiscale).double().eval()
    sd = random_state_dict(official_shapes(extra, multiscale))
    model.load_state_dict(sd, strict=True)
    x = torch.rand(2, 3, 64, 32, dtype=torch.float64)
    with torch.no_grad():
        ours = model(x)
    ref = official_forward(sd, extra, x, multiscale)
    assert len(ours) == (4 if multiscale else 1)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_output_shapes_quarter_resolution():
    model = HRNet(arch='w32').eval()
    with torch.no_grad():
        (out, ) = model(torch.rand(1, 3, 64, 48))
    # 256x192 gives (N, 32, 64, 48): one quarter of the input.
    assert out.shape == (1, 32, 16, 12)
    assert model.out_channels == [32]


def test_multiscale_output_from_extra_and_odd_sizes():
    extra = copy.deepcopy(TINY_EXTRA)
    extra['stage4']['multiscale_output'] = True
    model = HRNet(extra).eval()
    assert model.out_channels == [4, 8, 16, 32]
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
        assert [o.shape[1:] for o in outs] == [(4, 16, 16), (8, 8, 8),
                                               (16, 4, 4), (32, 2, 2)]
        # Sizes that do not halve evenly (100 -> 25 -> 13 -> 7 -> 4).
        outs = model(torch.rand(1, 3, 100, 72))
    assert [tuple(o.shape[2:]) for o in outs] == [(25, 18), (13, 9), (7, 5),
                                                  (4, 3)]


def test_every_parameter_gets_a_gradient():
    model = HRNet(copy.deepcopy(TINY_EXTRA), multiscale_output=True)
    model.train()
    outs = model(torch.rand(2, 3, 32, 32))
    sum(o.square().mean() for o in outs).backward()
    no_grad = [n for n, p in model.named_parameters()
               if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not no_grad


def test_with_cp_matches_plain():
    torch.manual_seed(0)
    plain = HRNet(copy.deepcopy(TINY_EXTRA))
    ckpt = HRNet(copy.deepcopy(TINY_EXTRA), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    outs = []
    for model in (plain, ckpt):
        model.train()
        xi = x.clone().requires_grad_()
        (y, ) = model(xi)
        y.square().mean().backward()
        outs.append((y.detach(), xi.grad, model.conv1.weight.grad,
                     model.stage4[1].branches[3][0].conv2.weight.grad))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_frozen_stages_and_norm_eval():
    model = HRNet(copy.deepcopy(TINY_EXTRA), frozen_stages=2, norm_eval=True)
    model.train()
    frozen = ('conv1', 'bn1', 'conv2', 'bn2', 'layer1', 'transition1',
              'stage2', 'transition2')
    for name, p in model.named_parameters():
        assert p.requires_grad == (not name.startswith(frozen)), name
    for name, m in model.named_modules():
        if name.startswith(frozen) and name:
            assert not m.training, name
    assert model.stage3.training and model.transition3.training
    bn = model.stage4[0].branches[0][0].bn1
    assert not bn.training  # norm_eval
    before = bn.running_mean.clone()
    model(torch.rand(2, 3, 32, 32))
    assert torch.equal(bn.running_mean, before)

    model = HRNet(copy.deepcopy(TINY_EXTRA), frozen_stages=4).train()
    assert not any(p.requires_grad for p in model.parameters())
    assert HRNet(copy.deepcopy(TINY_EXTRA)).train().stage2.training


def test_zero_init_residual_and_default_init():
    model = HRNet(copy.deepcopy(TINY_EXTRA), zero_init_residual=True)
    model.init_weights()
    assert torch.count_nonzero(model.layer1[0].bn3.weight) == 0
    assert torch.count_nonzero(
        model.stage4[0].branches[2][0].bn2.weight) == 0
    assert torch.all(model.bn1.weight == 1)
    assert model.conv1.weight.std() < 0.01  # normal(std=0.001)


def test_config_errors_are_readable():
    with pytest.raises(ValueError, match='exactly one'):
        HRNet()
    with pytest.raises(ValueError, match='exactly one'):
        HRNet(copy.deepcopy(TINY_EXTRA), arch='w32')
    with pytest.raises(ValueError, match='width'):
        HRNet(arch='w40')
    extra = copy.deepcopy(TINY_EXTRA)
    del extra['stage3']
    with pytest.raises(KeyError, match='stage3'):
        HRNet(extra)
    extra = copy.deepcopy(TINY_EXTRA)
    extra['stage2']['num_blocks'] = (1, )
    with pytest.raises(ValueError, match='num_branches=2'):
        HRNet(extra)
    extra = copy.deepcopy(TINY_EXTRA)
    extra['stage3']['block'] = 'BOTTLE'
    with pytest.raises(ValueError, match='BOTTLE'):
        HRNet(extra)


def test_registry_and_extra_not_mutated():
    extra = copy.deepcopy(TINY_EXTRA)
    snapshot = copy.deepcopy(extra)
    model = MODELS.build(dict(type='HRNet', extra=extra))
    assert isinstance(model, HRNet)
    assert extra == snapshot
