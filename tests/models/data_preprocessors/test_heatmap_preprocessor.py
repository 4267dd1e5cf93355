"""Device-side heatmap rendering: torch == numpy, and the keypoint-packet
pipeline == the heatmap pipeline (GeneratePoseTarget + FormatShape +
PackActionInputs + ActionDataPreprocessor), alone and inside RGBPose's
MultiModalDataPreprocessor, and a Recognizer3D run on it."""
import copy

import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import FormatShape, PackActionInputs
from mmaction.models.data_preprocessors import (ActionDataPreprocessor,
                                                MultiModalDataPreprocessor)
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

from mmpose_plus.datasets.transforms import (GeneratePoseTarget,
                                             PackPoseKeypoints)
from mmpose_plus.datasets.transforms.heatmap_rendering import \
    render_pose_heatmaps
from mmpose_plus.models.data_preprocessors import (HeatmapDataPreprocessor,
                                                   render_heatmaps_torch)
from _action_helpers import POSEC3D_KEYPOINT
from mmpose_plus.registry import MODELS

TOL = 1e-5


def _clip(rng, m, t, v=17, h=24, w=30):
    kp = np.stack(
        [rng.uniform(-3, w + 3, (m, t, v)),
         rng.uniform(-3, h + 3, (m, t, v))], -1).astype(np.float32)
    if v > 1:
        kp[:, :, 1] = kp[:, :, 0] + 0.4  # limbs shorter than a pixel
    score = rng.uniform(0.05, 1, (m, t, v)).astype(np.float32)
    score[rng.random((m, t, v)) < 0.15] = 0
    return kp, score


def _sample(rng, m, num_clips=1, clip_len=4, h=48, w=60, name='s'):
    kp, score = _clip(rng, m, num_clips * clip_len, h=h, w=w)
    return dict(keypoint=kp,
                keypoint_score=score,
                img_shape=(h, w),
                num_clips=num_clips,
                clip_len=clip_len,
                frame_dir=name,
                label=1)


def _collate(packed):
    return pseudo_collate(packed)  # what the default dataloader does


def _numpy_path(samples, cfg):
    """The stock pipeline end with heatmaps made by our numpy transform."""
    target = GeneratePoseTarget(**cfg)
    fmt, pack = FormatShape('NCTHW_Heatmap'), PackActionInputs()
    packed = [pack(fmt(target(copy.deepcopy(s)))) for s in samples]
    pre = ActionDataPreprocessor(format_shape='NCTHW')
    return pre(_collate(packed))['inputs']


def _device_path(samples, cfg, device='cpu', pack_double=False):
    """Keypoint packets rendered by HeatmapDataPreprocessor; ``double`` is
    asked for by the pack transform (as a test pipeline does) or set on the
    preprocessor."""
    if pack_double:
        cfg = dict(cfg)
        pack = PackPoseKeypoints(double=cfg.pop('double', False))
    else:
        pack = PackPoseKeypoints()
    packed = [pack(copy.deepcopy(s)) for s in samples]
    pre = HeatmapDataPreprocessor(**cfg).to(device)
    return pre(_collate(packed))['inputs']


def _assert_same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype == torch.float32
    assert (a.cpu() - b.cpu()).abs().max().item() <= TOL


@pytest.mark.parametrize('with_kp,with_limb', [(True, False), (False, True),
                                               (True, True)])
def test_torch_renderer_equals_numpy(with_kp, with_limb):
    rng = np.random.default_rng(0)
    sizes = [(24, 30), (17, 33), (24, 9)]  # per-clip canvases, padded
    clips = [_clip(rng, m, 3, h=h, w=w) for m, (h, w) in zip((2, 1, 0), sizes)]
    max_m = 2
    kps = np.full((3, max_m, 3, 17, 2), np.nan, np.float32)
    scores = np.zeros((3, max_m, 3, 17), np.float32)
    for i, (kp, score) in enumerate(clips):
        kps[i, :len(kp)], scores[i, :len(kp)] = kp, score
    for use_score in (True, False):
        expect = np.zeros((3, 3, 17 * with_kp + 17 * with_limb, 24, 33),
                          np.float32)
        for i, ((kp, score), (h, w)) in enumerate(zip(clips, sizes)):
            expect[i, ..., :h, :w] = render_pose_heatmaps(
                kp, score if use_score else None, (h, w), 0.7, with_kp,
                with_limb)
        got = render_heatmaps_torch(
            torch.from_numpy(kps),
            torch.from_numpy(scores) if use_score else None,
            torch.tensor(sizes), 0.7, with_kp, with_limb)
        _assert_same(got, torch.from_numpy(expect))
        first = render_heatmaps_torch(
            torch.from_numpy(kps),
            torch.from_numpy(scores) if use_score else None,
            sizes,
            0.7,
            with_kp,
            with_limb,
            channels_first=True)
        _assert_same(first, got.transpose(1, 2))
        assert got.max() > 0


def test_torch_renderer_nan_and_empty():
    kp = torch.full((2, 1, 2, 17, 2), 5.0)
    kp[0, 0, 0, 3] = float('nan')
    score = torch.ones(2, 1, 2, 17)
    score[1, 0, 1, 4] = float('inf')
    out = render_heatmaps_torch(kp, score, (10, 10), with_limb=True)
    assert torch.isfinite(out).all()
    assert not out[0, 0, 3].any() and not out[1, 1, 4].any()
    assert out[0, 1, 3].max() == 1
    none = render_heatmaps_torch(torch.zeros(2, 0, 3, 17, 2), None, (8, 8))
    assert none.shape == (2, 3, 17, 8, 8) and not none.any()
    with pytest.raises(ValueError, match=r'\(B, M, T, V, 2\)'):
        render_heatmaps_torch(torch.zeros(3, 17, 2), None, (8, 8))


@pytest.mark.parametrize('cfg', [
    dict(sigma=0.6),
    dict(sigma=0.7, scaling=0.5, double=True),
    dict(with_kp=False, with_limb=True, use_score=False, double=True),
])
def test_preprocessor_equals_heatmap_pipeline(cfg):
    rng = np.random.default_rng(1)
    # 2 clips per sample (test-time layout), varying person counts.
    samples = [_sample(rng, m, num_clips=2, name=f's{m}') for m in (2, 1, 3)]
    expect = _numpy_path(samples, cfg)
    for pack_double in (False, True):
        got = _device_path(samples, cfg, pack_double=pack_double)
        assert got.shape[:2] == (3, 4 if cfg.get('double') else 2)
        _assert_same(got, expect)


def test_preprocessor_pads_samples_of_different_sizes_like_stack_batch():
    rng = np.random.default_rng(2)
    samples = [_sample(rng, 2, h=40, w=52), _sample(rng, 1, h=48, w=44)]
    _assert_same(_device_path(samples, {}), _numpy_path(samples, {}))


def test_rgbpose_multimodal_preprocessor():
    rng = np.random.default_rng(3)
    cfg = dict(sigma=0.7, scaling=0.25)
    samples = []
    for m in (1, 2):
        s = _sample(rng, m, clip_len=8, h=64, w=64)
        s.update(clip_len=dict(RGB=2, Pose=8),
                 imgs=rng.integers(0, 255, (2, 64, 64, 3)).astype(np.uint8))
        samples.append(s)
    rgb = dict(type='ActionDataPreprocessor',
               mean=[123.675, 116.28, 103.53],
               std=[58.395, 57.12, 57.375],
               format_shape='NCTHW')
    keys = ('imgs', 'heatmap_imgs')

    fmt = FormatShape('NCTHW')
    target, pack = GeneratePoseTarget(**cfg), PackActionInputs(keys)
    ref_in = _collate([pack(fmt(target(copy.deepcopy(s)))) for s in samples])
    dev_in = _collate(
        [PackPoseKeypoints(keys)(fmt(copy.deepcopy(s))) for s in samples])
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        ref_pre = MultiModalDataPreprocessor(
            dict(imgs=rgb,
                 heatmap_imgs=dict(type='ActionDataPreprocessor',
                                   format_shape='NCTHW')))
        dev_pre = MODELS.build(
            dict(type='MultiModalDataPreprocessor',
                 preprocessors=dict(
                     imgs=rgb,
                     heatmap_imgs=dict(type='HeatmapDataPreprocessor',
                                       **cfg))))
    ref, dev = ref_pre(ref_in)['inputs'], dev_pre(dev_in)['inputs']
    assert dev['heatmap_imgs'].shape == (2, 1, 17, 8, 16, 16)
    _assert_same(dev['heatmap_imgs'], ref['heatmap_imgs'])
    _assert_same(dev['imgs'], ref['imgs'])


def test_recognizer3d_runs_on_rendered_packets():
    rng = np.random.default_rng(4)
    model_cfg = dict(type='Recognizer3D',
                     data_preprocessor=dict(type='HeatmapDataPreprocessor',
                                            sigma=0.6,
                                            scaling=0.5),
                     backbone=dict(POSEC3D_KEYPOINT,
                                   type='ResNet3dSlowOnly',
                                   base_channels=4,
                                   stage_blocks=(1, 1, 1)),
                     cls_head=dict(type='I3DHead',
                                   in_channels=64,
                                   num_classes=5,
                                   average_clips='prob'))
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        model = MODELS.build(model_cfg)
    assert isinstance(model.data_preprocessor, HeatmapDataPreprocessor)
    # Test time: 2 clips per sample, flip-doubled -> 4 segments averaged.
    test = [
        PackPoseKeypoints(double=True)(_sample(rng,
                                               m,
                                               num_clips=2,
                                               clip_len=4,
                                               h=32,
                                               w=32)) for m in (1, 2)
    ]
    data = _collate(test)
    assert model.data_preprocessor(
        copy.deepcopy(data))['inputs'].shape == (2, 4, 17, 4, 16, 16)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(data)
    assert len(preds) == 2 and preds[0].pred_scores.item.shape == (5, )
    # Training: one clip per sample, not doubled.
    train = [PackPoseKeypoints()(_sample(rng, m, h=32, w=32)) for m in (1, 2)]
    model.train()
    losses = model.train_step(
        _collate(train),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01)))
    assert torch.isfinite(losses['loss'])


def test_preprocessor_errors_are_readable():
    pre = HeatmapDataPreprocessor()
    heatmaps = [torch.zeros(1, 17, 4, 8, 8)]
    with pytest.raises(ValueError, match='PackPoseKeypoints'):
        pre(dict(inputs=heatmaps, data_samples=[None]))
    rng = np.random.default_rng(5)
    packed = PackPoseKeypoints(meta_keys=())(_sample(rng, 1))
    packed['data_samples'].set_metainfo(dict(img_shape=None))
    with pytest.raises(ValueError, match='img_shape'):
        pre(_collate([packed]))
    a = PackPoseKeypoints()(_sample(rng, 1, clip_len=4))
    b = PackPoseKeypoints()(_sample(rng, 1, clip_len=5))
    with pytest.raises(ValueError, match='differ'):
        pre(_collate([a, b]))
    c = PackPoseKeypoints(double=True)(_sample(rng, 1, clip_len=4))
    with pytest.raises(ValueError, match='mixes'):
        pre(_collate([a, c]))
    with pytest.raises(ValueError, match='with_kp and with_limb'):
        HeatmapDataPreprocessor(with_kp=False)
    # the same option checks as GeneratePoseTarget
    for kwargs, what in ((dict(sigma=0), 'sigma'), (dict(scaling=-1),
                                                     'scaling')):
        for cls in (HeatmapDataPreprocessor, GeneratePoseTarget):
            with pytest.raises(ValueError, match=what):
                cls(**kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_cuda_equals_numpy():
    rng = np.random.default_rng(6)
    samples = [_sample(rng, m, num_clips=2) for m in (2, 1)]
    for cfg in (dict(double=True), dict(with_kp=False, with_limb=True)):
        got = _device_path(samples, cfg, device='cuda')
        assert got.is_cuda
        _assert_same(got, _numpy_path(samples, cfg))
