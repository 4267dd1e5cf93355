"""ONNX export of skeleton recognisers and pose networks: onnxruntime gives
the PyTorch outputs (atol 1e-4) on a batch size other than the traced one,
and the command line writes a verified file."""
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from _action_helpers import randomize
import mmpose_plus  # noqa: F401
from mmpose_plus.apis.export import (PoseNetExportModel,
                                     RecognizerExportModel,
                                     UntrainedWeightsWarning,
                                     build_export_model, export_onnx,
                                     infer_input_shapes)

REPO = Path(__file__).resolve().parents[2]
ATOL = 1e-4

SLOWONLY = dict(
    default_scope='mmpose_plus',
    model=dict(
        type='Recognizer3D',
        backbone=dict(
            type='ResNet3dSlowOnly', depth=50, in_channels=17,
            base_channels=4, num_stages=2, out_indices=(1, ),
            stage_blocks=(1, 1), conv1_stride_s=1, pool1_stride_s=1,
            inflate=(0, 1), spatial_strides=(2, 2), temporal_strides=(1, 2),
            dilations=(1, 1)),
        cls_head=dict(type='I3DHead', in_channels=32, num_classes=6,
                      dropout_ratio=0.5),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW')),
    test_pipeline=[
        dict(type='UniformSampleFrames', clip_len=8, num_clips=1,
             test_mode=True),
        dict(type='PoseDecode'),
        dict(type='Resize', scale=(32, 24), keep_ratio=False),
        dict(type='GeneratePoseTarget', with_kp=True, scaling=0.5),
        dict(type='FormatShape', input_format='NCTHW_Heatmap'),
        dict(type='PackActionInputs')
    ])

TINY_HRNET = dict(
    type='HRNet',
    extra=dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                    num_blocks=(1, ), num_channels=(8, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                    num_blocks=(1, 1), num_channels=(4, 8)),
        stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                    num_blocks=(1, 1, 1), num_channels=(4, 8, 16)),
        stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                    num_blocks=(1, 1, 1, 1), num_channels=(4, 8, 16, 32))))

# The estimator type is not needed to export: only backbone / head are built.
TOPDOWN = dict(
    default_scope='mmpose_plus',
    model=dict(
        type='TopdownPoseEstimator',
        backbone=TINY_HRNET,
        head=dict(type='HeatmapHead', in_channels=4, out_channels=17,
                  deconv_out_channels=None),
        codec=dict(type='MSRAHeatmap', input_size=(48, 64),
                   heatmap_size=(12, 16), sigma=2)))

HIGHER = dict(
    default_scope='mmpose_plus',
    model=dict(
        type='BottomupPoseEstimator',
        backbone=TINY_HRNET,
        head=dict(type='AEHigherResolutionHead', in_channels=4,
                  num_joints=17, num_deconv_filters=(4, ),
                  num_basic_blocks=1),
        codec=dict(type='AssociativeEmbedding', input_size=(64, 64))))


def build(cfg: dict, **kwargs) -> nn.Module:
    with pytest.warns(UntrainedWeightsWarning, match='UNTRAINED'):
        model = build_export_model(Config(cfg), **kwargs)
    return randomize(model).eval()


def run_ort(path, feeds):
    session = ort.InferenceSession(str(path),
                                   providers=['CPUExecutionProvider'])
    return session.run(None, {k: v.numpy() for k, v in feeds.items()})


def test_slowonly_recognizer(tmp_path):
    model = build(SLOWONLY)
    assert isinstance(model, RecognizerExportModel)
    # Frames from UniformSampleFrames, (h, w) = Resize (w, h) x scaling.
    shapes = infer_input_shapes(model)
    assert shapes == {'heatmaps': (1, 17, 8, 12, 16)}
    report = export_onnx(model, str(tmp_path / 'slowonly.onnx'))
    assert report.output_shapes == {'cls_score': (1, 6)}
    assert report.ok and report.verify_shapes['heatmaps'][0] == 2

    # Independently of the report: another batch size, our own comparison.
    x = torch.rand(3, 17, 8, 12, 16)
    (got, ) = run_ort(tmp_path / 'slowonly.onnx', {'heatmaps': x})
    with torch.no_grad():
        ref = model.cls_head(model.backbone(x))
    assert ref.abs().max() > 0.1
    np.testing.assert_allclose(got, ref.numpy(), atol=ATOL, rtol=0)
    graph = onnx.load(str(tmp_path / 'slowonly.onnx')).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    assert graph.output[0].name == 'cls_score'


def test_softmax_and_checkpoint(tmp_path):
    model = build(SLOWONLY)
    ckpt = tmp_path / 'epoch_1.pth'
    # The wrapper keeps the recogniser's key names.
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntrainedWeightsWarning)
        loaded = build_export_model(Config(SLOWONLY), str(ckpt), softmax=True)
    report = export_onnx(loaded, str(tmp_path / 'prob.onnx'))
    assert report.ok
    x = torch.rand(2, 17, 8, 12, 16)
    (prob, ) = run_ort(tmp_path / 'prob.onnx', {'heatmaps': x})
    np.testing.assert_allclose(prob.sum(axis=1), 1, atol=1e-5)
    with torch.no_grad():
        logits = model(x)
    np.testing.assert_allclose(prob, logits.softmax(-1).numpy(), atol=ATOL)


def test_rgbpose_recognizer(tmp_path):
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'tiny' / 'rgbposeconv3d_tiny_tinyntu.py'))
    with pytest.warns(UntrainedWeightsWarning):
        model = build_export_model(cfg)
    randomize(model).eval()
    shapes = {'imgs': (1, 3, 4, 32, 32), 'heatmap_imgs': (1, 17, 16, 8, 8)}
    report = export_onnx(model, str(tmp_path / 'rgbpose.onnx'), shapes)
    assert list(report.output_shapes) == ['rgb_score', 'pose_score']
    assert report.ok


def test_topdown_hrnet(tmp_path):
    model = build(TOPDOWN)
    assert isinstance(model, PoseNetExportModel)
    # codec input_size is (w, h).
    assert infer_input_shapes(model) == {'image': (1, 3, 64, 48)}
    report = export_onnx(model, str(tmp_path / 'hrnet.onnx'))
    assert report.output_shapes == {'heatmaps': (1, 17, 16, 12)}
    assert report.ok
    x = torch.randn(2, 3, 64, 48)
    (got, ) = run_ort(tmp_path / 'hrnet.onnx', {'image': x})
    with torch.no_grad():
        ref = model(x)
    assert ref.abs().max() > 0.1
    np.testing.assert_allclose(got, ref.numpy(), atol=ATOL, rtol=0)


def test_higherhrnet_two_outputs_dynamic_size(tmp_path):
    model = build(HIGHER)
    report = export_onnx(model, str(tmp_path / 'higher.onnx'),
                         dynamic_hw=True)
    assert report.output_shapes == {
        'heatmaps_tags_s4': (1, 34, 16, 16),
        'heatmaps_s2': (1, 17, 32, 32)
    }
    assert report.ok and report.verify_shapes['image'] == (2, 3, 96, 128)
    x = torch.randn(1, 3, 64, 96)
    got = run_ort(tmp_path / 'higher.onnx', {'image': x})
    with torch.no_grad():
        ref = model(x)
    assert [g.shape for g in got] == [(1, 34, 16, 24), (1, 17, 32, 48)]
    for ours, theirs in zip(got, ref):
        assert theirs.abs().max() > 0.1
        np.testing.assert_allclose(ours, theirs.numpy(), atol=ATOL, rtol=0)


def test_pretrained_inits_skipped_and_load_official_used(tmp_path):
    # A training-time Pretrained init (a URL) must not be fetched.
    cfg = Config(TOPDOWN)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint='https://example.invalid/w.pth')
    model = randomize(build(cfg.to_dict()))
    ckpt = tmp_path / 'official.pth'
    torch.save(model.state_dict(), ckpt)  # backbone.* / head.* keys
    cfg.model.load_official = str(ckpt)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntrainedWeightsWarning)
        loaded = build_export_model(cfg)
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_bad_requests():
    model = build(SLOWONLY)
    with pytest.raises(ValueError, match='missing'):
        export_onnx(model, 'unused.onnx', {'imgs': (1, 17, 8, 8, 8)})
    with pytest.raises(ValueError, match='pose networks'):
        export_onnx(model, 'unused.onnx', dynamic_hw=True)
    with pytest.raises(ValueError, match='cls_head'):
        build_export_model(dict(type='ResNet3dSlowOnly'))
    with pytest.raises(FileNotFoundError):
        build_export_model('no/such/config.py')


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('deployment/export_onnx.py', 'export_onnx_tool')


def test_cli(tool, tmp_path, capsys):
    cfg = tmp_path / 'tiny_slowonly.py'
    Config(SLOWONLY).dump(str(cfg))
    out = tmp_path / 'out' / 'model.onnx'
    assert tool.main([str(cfg), '--out', str(out), '--shape',
                      '1,17,4,16,16']) == 0
    captured = capsys.readouterr()
    assert 'UNTRAINED' in captured.err
    assert 'heatmaps: [1, 17, 4, 16, 16]' in captured.out
    assert ': OK' in captured.out
    assert out.is_file()
    assert tool.main([str(cfg), '--out', str(out), '--shape',
                      'image=1,3,8,8']) == 1
    assert "unknown input 'image'" in capsys.readouterr().err
    assert tool.main([str(cfg), str(tmp_path / 'none.pth')]) == 1
    assert 'does not exist' in capsys.readouterr().err
