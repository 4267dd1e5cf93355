"""Official / mmpose 0.x / mmpose 1.x pose checkpoints -> our estimator
layout: strict loading, identical outputs, clear mismatch reports, and the
tools/convert/convert_pose_checkpoint.py command line."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from _pose_helpers import hrnet_stages
from mmpose_plus.models.utils import (CheckpointMismatchError,
                                      convert_pose_state_dict,
                                      detect_pose_layout,
                                      load_pose_checkpoint)
from mmpose_plus.registry import MODELS

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures('one_thread')

TINY_HRNET = dict(
    type='HRNet',
    extra=hrnet_stages((4, 8, 16, 32), stage1_width=8, num_modules=(1, 1, 2)))

ARCHS = {
    # SimpleBaseline: ResNet + 3 deconvs + 1x1 conv.
    'simplebaseline': (dict(type='ResNet', depth=18, base_channels=8),
                       dict(type='HeatmapHead', in_channels=64,
                            out_channels=3, deconv_out_channels=(8, 8, 8))),
    # HRNet top-down: HRNet + 1x1 conv.
    'hrnet': (TINY_HRNET,
              dict(type='HeatmapHead', in_channels=4, out_channels=3,
                   deconv_out_channels=None)),
    # HigherHRNet: HRNet + AE higher-resolution head.
    'higherhrnet': (TINY_HRNET,
                    dict(type='AEHigherResolutionHead', in_channels=4,
                         num_joints=3, num_deconv_filters=(4, ))),
}


class TinyPoseNet(nn.Module):
    """Stand-in for the estimators: ``backbone`` + ``head``."""

    def __init__(self, backbone: dict, head: dict) -> None:
        super().__init__()
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)

    def forward(self, x):
        out = self.head(self.backbone(x))
        return out if isinstance(out, list) else [out]


MODELS.register_module('ConvertTestPoseNet', module=TinyPoseNet, force=True)


def make_model(arch: str, seed: int = 0) -> TinyPoseNet:
    torch.manual_seed(seed)
    model = TinyPoseNet(*ARCHS[arch])
    # Non-trivial BN statistics so that a wrong mapping changes outputs.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-.1, .1)
                m.running_var.uniform_(.5, 1.5)
                m.weight.uniform_(.5, 1.5)
    return model.eval()


def official_layout(model: nn.Module) -> dict:
    """Bare state dict without prefixes, as the official repos release."""
    return {
        k.split('.', 1)[1]: v.clone()
        for k, v in model.state_dict().items()
    }


def outputs(model, x):
    with torch.no_grad():
        return model(x)


def assert_same_outputs(a, b, x):
    for ya, yb in zip(outputs(a, x), outputs(b, x)):
        torch.testing.assert_close(ya, yb, rtol=0, atol=0)


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_official_checkpoint_file_loads_strictly(arch, tmp_path):
    src = make_model(arch, seed=1)
    path = tmp_path / f'{arch}.pth'
    torch.save(official_layout(src), path)
    dst = make_model(arch, seed=2)
    report = load_pose_checkpoint(dst, str(path))
    assert report.ok and report.layout == 'official'
    assert report.matched == len(src.state_dict())
    assert_same_outputs(src, dst, torch.rand(1, 3, 64, 64))


def test_official_head_keys_go_to_head():
    converted, layout = convert_pose_state_dict(
        official_layout(make_model('higherhrnet')))
    assert layout == 'official'
    heads = {k.split('.')[1] for k in converted if k.startswith('head.')}
    assert heads == {'final_layers', 'deconv_layers'}
    assert 'backbone.stage4.1.fuse_layers.0.3.0.weight' in converted
    assert 'backbone.transition1.1.0.0.weight' in converted


def test_dataparallel_prefix_is_stripped():
    src = make_model('hrnet', 1)
    sd = {f'module.{k}': v for k, v in official_layout(src).items()}
    dst = make_model('hrnet', 2)
    assert load_pose_checkpoint(dst, sd).ok
    assert_same_outputs(src, dst, torch.rand(1, 3, 32, 32))


def test_mmpose_0x_checkpoint_with_extra_conv_layers():
    backbone, _ = ARCHS['simplebaseline']
    head = dict(type='HeatmapHead', in_channels=64, out_channels=3,
                deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ),
                conv_out_channels=(8, ), conv_kernel_sizes=(1, ))
    torch.manual_seed(0)
    src = TinyPoseNet(backbone, head).eval()
    old = {}
    for k, v in src.state_dict().items():
        # mmpose 0.x kept the extra convs inside ``final_layer``:
        # [conv, BN, ReLU, final conv] -> final_layer.{0,1,3}.
        k = k.replace('head.conv_layers.', 'head.final_layer.')
        k = k.replace('head.final_layer.weight', 'head.final_layer.3.weight')
        k = k.replace('head.final_layer.bias', 'head.final_layer.3.bias')
        old[k.replace('head.', 'keypoint_head.', 1)] = v
    assert 'keypoint_head.final_layer.1.running_var' in old
    checkpoint = dict(meta=dict(epoch=210), state_dict=old)
    assert detect_pose_layout(old) == 'mmpose0.x'
    torch.manual_seed(5)
    dst = TinyPoseNet(backbone, head).eval()
    report = load_pose_checkpoint(dst, checkpoint)
    assert report.ok and report.layout == 'mmpose0.x'
    assert_same_outputs(src, dst, torch.rand(1, 3, 64, 64))


def test_mmpose_1x_checkpoint_and_missing_bn_counters():
    src = make_model('higherhrnet', 1)
    sd = {
        k: v
        for k, v in src.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    dst = make_model('higherhrnet', 2)
    report = load_pose_checkpoint(dst, dict(state_dict=sd))
    assert report.ok and report.layout == 'mmpose1.x'
    assert report.filled and all(
        k.endswith('num_batches_tracked') for k in report.filled)
    assert 'filled' in str(report)
    assert_same_outputs(src, dst, torch.rand(1, 3, 32, 32))


def test_mismatch_is_reported_and_strict_refuses():
    src = official_layout(make_model('hrnet', 1))
    del src['stage2.0.branches.0.0.conv1.weight']
    src['incre_modules.0.weight'] = torch.zeros(1)
    src['final_layer.weight'] = torch.zeros(5, 4, 1, 1)
    dst = make_model('hrnet', 2)
    before = dst.state_dict()
    with pytest.raises(CheckpointMismatchError) as err:
        load_pose_checkpoint(dst, src)
    msg = str(err.value)
    assert 'missing in checkpoint (1)' in msg
    assert 'backbone.stage2.0.branches.0.0.conv1.weight' in msg
    assert 'unexpected in checkpoint (1)' in msg
    assert 'backbone.incre_modules.0.weight' in msg
    assert 'head.final_layer.weight: (5, 4, 1, 1) vs (3, 4, 1, 1)' in msg
    assert isinstance(err.value, ValueError)
    # Nothing was loaded by the refused strict call.
    assert all(torch.equal(v, before[k]) for k, v in dst.state_dict().items())

    report = load_pose_checkpoint(dst, src, strict=False)
    assert not report.ok
    assert report.missing == ['backbone.stage2.0.branches.0.0.conv1.weight']
    assert torch.equal(dst.head.final_layer.weight,
                       before['head.final_layer.weight'])
    assert torch.equal(dst.backbone.conv1.weight, src['conv1.weight'])


def test_submodule_loading():
    src = make_model('hrnet', 1)
    backbone = MODELS.build(TINY_HRNET)
    report = load_pose_checkpoint(backbone, official_layout(src),
                                  submodule='backbone')
    assert report.ok
    assert torch.equal(backbone.conv1.weight, src.backbone.conv1.weight)


def test_bad_inputs():
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_pose_checkpoint(make_model('hrnet'), '/nonexistent/ckpt.pth')
    with pytest.raises(ValueError, match='unknown checkpoint layout'):
        convert_pose_state_dict({'a': torch.zeros(1)}, layout='mmpose2')
    with pytest.raises(TypeError, match='checkpoint dict'):
        convert_pose_state_dict([1, 2])


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def tool():
    path = REPO / 'tools' / 'convert' / 'convert_pose_checkpoint.py'
    spec = importlib.util.spec_from_file_location('convert_pose_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(path: Path, num_joints: int = 3) -> Path:
    backbone, head = ARCHS['higherhrnet']
    head = dict(head, num_joints=num_joints)
    path.write_text("default_scope = 'mmpose_plus'\n"
                    f'model = dict(type={"ConvertTestPoseNet"!r}, '
                    f'backbone={backbone!r}, head={head!r})\n')
    return path


def test_cli_converts_and_checks_against_config(tool, tmp_path, capsys):
    src_model = make_model('higherhrnet', 1)
    src = tmp_path / 'pose_higher_hrnet_tiny.pth'
    torch.save(official_layout(src_model), src)
    dst = tmp_path / 'converted.pth'
    cfg = write_config(tmp_path / 'cfg.py')
    assert tool.main([str(src), str(dst), '--config', str(cfg)]) == 0
    out = capsys.readouterr().out
    assert 'official layout' in out and 'keys matched' in out
    saved = torch.load(dst, weights_only=True)  # tensors and strings only
    assert saved['meta']['source_layout'] == 'official'
    assert saved['meta']['converted_from'] == src.name
    assert set(saved['state_dict']) == set(src_model.state_dict())
    dst_model = make_model('higherhrnet', 2)
    dst_model.load_state_dict(saved['state_dict'], strict=True)
    assert_same_outputs(src_model, dst_model, torch.rand(1, 3, 32, 32))


def test_cli_refuses_mismatch(tool, tmp_path, capsys):
    src = tmp_path / 'ckpt.pth'
    torch.save(official_layout(make_model('higherhrnet')), src)
    dst = tmp_path / 'out.pth'
    cfg = write_config(tmp_path / 'cfg.py', num_joints=4)
    assert tool.main([str(src), str(dst), '--config', str(cfg)]) == 1
    captured = capsys.readouterr()
    assert 'shape mismatch' in captured.out
    assert 'head.final_layers.0.weight' in captured.out
    assert 'nothing written' in captured.err
    assert not dst.exists()
    assert tool.main([str(src), str(dst), '--config', str(cfg),
                      '--no-strict']) == 0
    assert dst.exists()
    assert tool.main([str(tmp_path / 'missing.pth'), str(dst)]) == 1
    assert 'does not exist' in capsys.readouterr().err
