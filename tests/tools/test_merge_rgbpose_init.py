"""RGB SlowOnly + pose SlowOnly -> initial RGBPoseConv3D checkpoint:
renames, zero-padding of the lateral-widened weights, and each pathway of
the merged model reproducing its source backbone."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from _action_helpers import randomize
import mmpose_plus  # noqa: F401
from mmpose_plus.engine.checks import CheckpointMismatchError
from mmpose_plus.registry import MODELS
from mmpose_plus.utils.rgbpose_init import (is_lateral_key,
                                            merge_rgbpose_init,
                                            merge_rgbpose_init_with_report)

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'configs' / 'tiny' / 'rgbposeconv3d_tiny_tinyntu.py'
LATERAL_ARGS = ('lateral', 'lateral_inv', 'lateral_norm', 'lateral_infl',
                'lateral_activate', 'fusion_kernel', 'speed_ratio',
                'channel_ratio')
NUM_CLASSES = 5


def slowonly_from_pathway(pathway: dict, num_classes: int) -> dict:
    """A SlowOnly recogniser with a pathway's settings, without laterals."""
    backbone = {k: v for k, v in pathway.items() if k not in LATERAL_ARGS}
    backbone.update(type='ResNet3dSlowOnly', depth=50)
    out_channels = backbone['base_channels'] * 2**(
        backbone['num_stages'] - 1) * 4
    return dict(
        type='Recognizer3D',
        backbone=backbone,
        cls_head=dict(type='I3DHead', in_channels=out_channels,
                      num_classes=num_classes, dropout_ratio=0.),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW'))


@pytest.fixture(scope='module')
def models():
    init_default_scope('mmpose_plus')
    cfg = Config.fromfile(str(TINY_CONFIG))
    target_cfg = copy.deepcopy(cfg.model)
    target_cfg.cls_head.num_classes = NUM_CLASSES
    backbone = target_cfg.backbone
    rgb = MODELS.build(
        slowonly_from_pathway(dict(backbone.rgb_pathway), NUM_CLASSES))
    pose = MODELS.build(
        slowonly_from_pathway(dict(backbone.pose_pathway), NUM_CLASSES))
    target = MODELS.build(target_cfg)
    return (randomize(rgb, 1, bn_weight_offset=1.0).eval(),
            randomize(pose, 2, bn_weight_offset=1.0).eval(),
            randomize(target, 3, bn_weight_offset=1.0).eval())


@pytest.mark.parametrize('laterals', ['zeroed', 'random'])
def test_each_pathway_reproduces_its_source(models, laterals):
    rgb, pose, target = models
    target = copy.deepcopy(target)
    merged = merge_rgbpose_init(rgb.state_dict(), pose.state_dict(), target)
    result = target.load_state_dict(merged, strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(
        is_lateral_key(k) for k in result.missing_keys)
    if laterals == 'zeroed':
        with torch.no_grad():
            for name, tensor in target.state_dict().items():
                if is_lateral_key(name) and tensor.is_floating_point():
                    tensor.zero_()

    torch.manual_seed(0)
    imgs = torch.randn(2, 3, 4, 64, 64)
    heatmaps = torch.rand(2, 17, 16, 16, 16)
    with torch.no_grad():
        x_rgb, x_pose = target.backbone(imgs, heatmaps)
        ref_rgb = rgb.backbone(imgs)
        ref_pose = pose.backbone(heatmaps)
    assert x_rgb.shape == ref_rgb.shape and x_pose.shape == ref_pose.shape
    assert ref_rgb.abs().max() > 0.1 and ref_pose.abs().max() > 0.1
    assert (x_rgb - ref_rgb).abs().max() <= 1e-5
    assert (x_pose - ref_pose).abs().max() <= 1e-5

    for stream, source in (('rgb', rgb), ('pose', pose)):
        fc = getattr(target.cls_head, f'fc_{stream}')
        assert torch.equal(fc.weight, source.cls_head.fc_cls.weight)
        assert torch.equal(fc.bias, source.cls_head.fc_cls.bias)


def test_lateral_inputs_are_the_zero_padded_slice(models):
    rgb, pose, target = models
    merged, report = merge_rgbpose_init_with_report(rgb.state_dict(),
                                                    pose.state_dict(), target)
    assert not any(is_lateral_key(k) for k in merged)
    assert len(report.padded) == 8
    target_sd = target.state_dict()
    sources = dict(rgb=rgb.state_dict(), pose=pose.state_dict())
    for key, src_shape, dst_shape in report.padded:
        stream = key.split('.')[1][:-len('_path')]
        src = sources[stream]['backbone.' + key.split('.', 2)[2]]
        assert tuple(src.shape) == src_shape
        assert merged[key].shape == target_sd[key].shape == dst_shape
        channels = src_shape[1]
        # Own features come first in the concatenation, the lateral after.
        assert torch.equal(merged[key][:, :channels], src)
        assert not merged[key][:, channels:].any()
    # The default layout (no target) pads the same weights the same way.
    default = merge_rgbpose_init(rgb.state_dict(), pose.state_dict())
    assert default.keys() == merged.keys()
    assert all(torch.equal(default[k], merged[k]) for k in merged)


def test_full_size_shapes_match_reference():
    """The eight widened weights of the R50 recipe (reference layout)."""
    init_default_scope('mmpose_plus')
    with torch.device('meta'):
        rgb = MODELS.build(dict(type='ResNet3dSlowOnly', depth=50))
        pose = MODELS.build(
            dict(type='ResNet3dSlowOnly', depth=50, in_channels=17,
                 base_channels=32, num_stages=3, out_indices=(2, ),
                 stage_blocks=(4, 6, 3), conv1_stride_s=1, pool1_stride_s=1,
                 inflate=(0, 1, 1), spatial_strides=(2, 2, 2),
                 temporal_strides=(1, 1, 1), dilations=(1, 1, 1)))
    fc = {'cls_head.fc_cls.weight': torch.zeros(60, 2048),
          'cls_head.fc_cls.bias': torch.zeros(60)}
    rgb_sd = {f'backbone.{k}': v for k, v in rgb.state_dict().items()}
    pose_sd = {f'backbone.{k}': v for k, v in pose.state_dict().items()}
    merged, report = merge_rgbpose_init_with_report(
        {**rgb_sd, **fc}, dict(state_dict={**pose_sd, **fc}))
    shapes = {k: tuple(b) for k, _, b in report.padded}
    prefix = 'backbone.'
    assert shapes == {
        prefix + 'rgb_path.layer3.0.conv1.conv.weight': (256, 640, 3, 1, 1),
        prefix + 'rgb_path.layer3.0.downsample.conv.weight':
        (1024, 640, 1, 1, 1),
        prefix + 'rgb_path.layer4.0.conv1.conv.weight': (512, 1280, 3, 1, 1),
        prefix + 'rgb_path.layer4.0.downsample.conv.weight':
        (2048, 1280, 1, 1, 1),
        prefix + 'pose_path.layer2.0.conv1.conv.weight': (64, 160, 3, 1, 1),
        prefix + 'pose_path.layer2.0.downsample.conv.weight':
        (256, 160, 1, 1, 1),
        prefix + 'pose_path.layer3.0.conv1.conv.weight': (128, 320, 3, 1, 1),
        prefix + 'pose_path.layer3.0.downsample.conv.weight':
        (512, 320, 1, 1, 1),
    }
    assert {'cls_head.fc_rgb.weight', 'cls_head.fc_pose.bias'} <= set(merged)
    assert prefix + 'rgb_path.layer4.2.conv3.conv.weight' in merged


def test_bad_sources_get_clear_errors(models):
    rgb, pose, target = models
    rgb_sd, pose_sd = rgb.state_dict(), pose.state_dict()
    with pytest.raises(ValueError, match='swapped'):
        merge_rgbpose_init(pose_sd, rgb_sd)
    with pytest.raises(CheckpointMismatchError, match='swapped'):
        merge_rgbpose_init(pose_sd, rgb_sd, target)
    with pytest.raises(ValueError, match='already an RGBPoseConv3D'):
        merge_rgbpose_init(target.state_dict(), pose_sd)
    with pytest.raises(ValueError, match='no backbone'):
        merge_rgbpose_init({'fc.weight': torch.zeros(1)}, pose_sd)
    other = {k: v for k, v in pose_sd.items()}
    other['cls_head.fc_cls.weight'] = torch.zeros(7, 128)
    other['cls_head.fc_cls.bias'] = torch.zeros(7)
    with pytest.raises(CheckpointMismatchError, match='fc_pose'):
        merge_rgbpose_init(rgb_sd, other, target)
    # A DDP prefix is dropped; unknown keys are reported, not merged.
    wrapped = {f'module.{k}': v for k, v in rgb_sd.items()}
    wrapped['module.extra.thing'] = torch.zeros(1)
    with pytest.warns(UserWarning, match='extra.thing'):
        merged = merge_rgbpose_init(wrapped, pose_sd, target)
    assert 'backbone.rgb_path.conv1.conv.weight' in merged


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('convert/merge_rgbpose_init.py', 'merge_rgbpose_tool')


def test_cli_writes_a_checkpoint_that_loads(models, tool, tmp_path, capsys):
    rgb, pose, _ = models
    torch.save(dict(state_dict=rgb.state_dict()), tmp_path / 'rgb.pth')
    torch.save(dict(state_dict=pose.state_dict()), tmp_path / 'pose.pth')
    # The tiny config's classifier has 5 classes, like the sources.
    out = tmp_path / 'out' / 'init.pth'
    assert tool.main([
        str(tmp_path / 'rgb.pth'),
        str(tmp_path / 'pose.pth'),
        str(out), '--config',
        str(TINY_CONFIG)
    ]) == 0
    printed = capsys.readouterr().out
    assert 'zero-padded 8 widened weights' in printed
    assert 'lateral tensors left to their initialisation' in printed
    saved = torch.load(out, weights_only=True)
    assert 'backbone.pose_path.layer3.0.conv1.conv.weight' in saved[
        'state_dict']
    assert saved['meta']['rgb_source'] == 'rgb.pth'

    # Swapped inputs fail with a message and write nothing.
    bad_out = tmp_path / 'bad.pth'
    assert tool.main([
        str(tmp_path / 'pose.pth'),
        str(tmp_path / 'rgb.pth'),
        str(bad_out), '--config',
        str(TINY_CONFIG)
    ]) == 1
    assert 'swapped' in capsys.readouterr().err
    assert not bad_out.exists()
    assert tool.main([str(tmp_path / 'nope.pth'),
                      str(tmp_path / 'pose.pth'),
                      str(bad_out)]) == 1
    assert 'does not exist' in capsys.readouterr().err
