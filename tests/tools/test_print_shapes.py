import pytest

from _action_helpers import SKELETON_BACKBONE
from mmpose_plus.utils.model_summary import (default_input_shapes,
                                             parse_shapes, summarize_model)


# reference.md section 1: the walkthrough's shapes for the default
# RGBPoseConv3D at imgs (4,3,8,224,224), heatmap_imgs (4,17,32,56,56)
WALKTHROUGH = {
    ('rgb_path', 'conv1'): (4, 64, 8, 112, 112),
    ('rgb_path', 'maxpool'): (4, 64, 8, 56, 56),
    ('rgb_path', 'layer1'): (4, 256, 8, 56, 56),
    ('rgb_path', 'layer2'): (4, 512, 8, 28, 28),
    ('pose_path', 'conv1'): (4, 32, 32, 56, 56),
    ('pose_path', 'maxpool'): (4, 32, 32, 56, 56),
    ('pose_path', 'layer1'): (4, 128, 32, 28, 28),
}
WALKTHROUGH_OUT = {'x_rgb': (4, 2048, 8, 7, 7), 'x_pose': (4, 512, 32, 7, 7)}


@pytest.fixture
def tool(load_tool):
    return load_tool('analysis/print_shapes.py', 'print_shapes')


def _assert_ours(summary_model_type: str, model) -> None:
    assert type(model).__module__.startswith('mmpose_plus'), (
        f'{summary_model_type} resolved to {type(model).__module__}')


def test_rgbpose_walkthrough_shapes_batch4_meta():
    from mmpose_plus.utils.model_summary import build_model
    model = build_model(dict(type='RGBPoseConv3D'))
    _assert_ours('RGBPoseConv3D', model)
    shapes = default_input_shapes(model)
    assert shapes == dict(
        imgs=(4, 3, 8, 224, 224), heatmap_imgs=(4, 17, 32, 56, 56))
    summary = summarize_model(model, shapes, device='meta')
    for (path, module), shape in WALKTHROUGH.items():
        assert summary.shape_of(path, module) == shape, (path, module)
    assert summary.outputs == WALKTHROUGH_OUT
    # pool2 is off in both pathways, so it never runs
    assert all(rec.module != 'pool2' for rec in summary.stages)


def test_rgbpose_walkthrough_shapes_batch1_cpu():
    # a real computation (not shape inference) at the walkthrough's sizes
    summary = summarize_model(
        dict(type='RGBPoseConv3D'),
        dict(imgs=(1, 3, 8, 224, 224), heatmap_imgs=(1, 17, 32, 56, 56)),
        device='cpu')
    for (path, module), shape in WALKTHROUGH.items():
        assert summary.shape_of(path, module) == (1, ) + shape[1:]
    assert summary.outputs == {
        k: (1, ) + v[1:]
        for k, v in WALKTHROUGH_OUT.items()
    }
    assert summary.params_total == summary.params_backbone > 35_000_000


def test_cli_config_file_with_recognizer(tool, tmp_path, capsys):
    cfg = tmp_path / 'tiny_posec3d.py'
    cfg.write_text(
        "default_scope = 'mmpose_plus'\n"
        f'model = dict(type=\'Recognizer3D\', backbone={SKELETON_BACKBONE!r},'
        " cls_head=dict(type='I3DHead', num_classes=5, in_channels=128))\n")
    assert tool.main([str(cfg), '--shape', 'heatmap_imgs=2,17,8,16,16']) == 0
    out = capsys.readouterr().out
    assert 'model: Recognizer3D (backbone ResNet3dSlowOnly)' in out
    assert 'inputs: heatmap_imgs (2, 17, 8, 16, 16)' in out
    lines = {tuple(line.split()[:2]): line.split(maxsplit=2)[2]
             for line in out.splitlines() if line.startswith('- ')}
    assert lines[('-', 'conv1')] == '(2, 8, 8, 16, 16)'
    assert lines[('-', 'layer1')] == '(2, 32, 8, 8, 8)'
    assert lines[('-', 'layer3')] == '(2, 128, 4, 2, 2)'
    assert 'backbone outputs: out (2, 128, 4, 2, 2)' in out
    # head parameters count in the total but not in the backbone
    params = next(line for line in out.splitlines()
                  if line.startswith('parameters:'))
    total, backbone = [
        int(word.replace(',', '')) for word in params.split()
        if word.replace(',', '').isdigit()
    ][::2]
    assert total - backbone == 128 * 5 + 5
    flops_line = next(line for line in out.splitlines()
                      if line.startswith('FLOPs'))
    assert 'batch 1' in flops_line
    assert int(flops_line.split('(')[-1].rstrip(')').replace(',', '')) > 0


def test_cli_inline_model_dict_default_shapes(tool, capsys):
    code = tool.main(
        [repr(dict(SKELETON_BACKBONE)), '--device', 'meta', '--no-flops'])
    assert code == 0
    out = capsys.readouterr().out
    # a 17-channel backbone gets the PoseC3D heatmap volume by default
    assert 'inputs: heatmap_imgs (4, 17, 48, 56, 56)' in out
    assert 'FLOPs: not computed' in out


def test_cli_reports_bad_shapes(tool, capsys):
    code = tool.main(["dict(type='RGBPoseConv3D')", '--device', 'meta',
                      '--no-flops', '--shape', 'imgs=1,3,8,64,64',
                      'depth=1,1,8,64,64'])
    assert code == 2
    err = capsys.readouterr().err
    assert 'depth' in err and 'heatmap_imgs' in err


def test_cli_rejects_unknown_config(tool):
    with pytest.raises(SystemExit):
        tool.main(['no_such_config.py'])


def test_parse_shapes():
    assert parse_shapes(['imgs=1,3,8,64,64', 'heatmap_imgs=1,17,32,56,56']) \
        == dict(imgs=(1, 3, 8, 64, 64), heatmap_imgs=(1, 17, 32, 56, 56))
    for bad in ['imgs', 'imgs=', 'imgs=1,a', '=1,2', 'imgs=1,0,2']:
        with pytest.raises(ValueError, match='--shape'):
            parse_shapes([bad])
