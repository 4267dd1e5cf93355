"""TopdownPoseEstimator: losses, decoding to image coordinates, flip test,
official checkpoints, the pose configs, learning on the tiny generated set,
the stock tools, and (when present) real COCO images."""
import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmpose_plus  # noqa: F401  (registers our modules)
from mmpose_plus.codecs import flip_heatmaps
from mmpose_plus.datasets import generate_tiny_coco
from mmpose_plus.datasets.coco_meta import COCO_FLIP_INDICES
from mmpose_plus.models.pose_estimators import (BasePoseEstimator,
                                                TopdownPoseEstimator)
from mmpose_plus.models.pose_estimators.topdown import heatmap_accuracy
from mmpose_plus.models.utils import (CheckpointMismatchError,
                                      convert_pose_state_dict,
                                      load_pose_checkpoint)
from mmpose_plus.registry import DATASETS, METRICS, MODELS
from mmpose_plus.structures import PoseDataSample

REPO = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO / 'configs' / 'pose'
TINY_SB = 'tiny/simplebaseline_res18_tiny_tinycoco.py'
TINY_HRNET = 'tiny/hrnet_tiny_tinycoco.py'
FULL_CONFIGS = ('simplebaseline_res50_8xb64-210e_coco-256x192.py',
                'hrnet_w32_8xb64-210e_coco-256x192.py')
SHARED_COCO = REPO / '..' / 'shared' / 'data' / 'coco'


def _cfg(name: str) -> Config:
    init_default_scope('mmpose_plus')
    return Config.fromfile(str(CONFIG_DIR / name))


def _model(name: str = TINY_SB, lively: bool = False,
           **test_cfg) -> TopdownPoseEstimator:
    """The config's model; ``lively`` re-initialises the head so that the
    heatmaps are O(1) instead of the official init's ~1e-9 (which would
    make any absolute tolerance meaningless)."""
    torch.manual_seed(0)
    cfg = _cfg(name).model
    cfg.test_cfg.update(test_cfg)
    model = MODELS.build(cfg)
    model.init_weights()
    if lively:
        for m in model.head.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.kaiming_normal_(m.weight)
    return model


@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('tiny_coco')
    generate_tiny_coco(str(root), 6, seed=0,
                       ann_name='person_keypoints_train.json',
                       img_dir='train')
    generate_tiny_coco(str(root), 4, seed=1,
                       ann_name='person_keypoints_val.json', img_dir='val')
    return root


def _dataset(name: str, split: str, root: Path):
    cfg = _cfg(name)
    loader = cfg.train_dataloader if split == 'train' else \
        cfg.val_dataloader
    ds_cfg = copy.deepcopy(loader.dataset)
    ds_cfg.data_root = str(root) + '/'
    return DATASETS.build(ds_cfg)


def _batch(dataset, n: int = 4) -> dict:
    return pseudo_collate([dataset[i] for i in range(n)])


# ----------------------------------------------------------------------
# building and training
# ----------------------------------------------------------------------
def test_estimator_needs_head_codec_and_known_mode():
    cfg = _cfg(TINY_SB).model
    with pytest.raises(ValueError, match='codec'):
        MODELS.build(dict(cfg, codec=None))
    with pytest.raises(ValueError, match='head'):
        MODELS.build(dict(cfg, head=None))
    with pytest.raises(ValueError, match='flip_mode'):
        MODELS.build(dict(cfg, test_cfg=dict(flip_mode='feature')))
    model = MODELS.build(cfg)
    assert isinstance(model, BasePoseEstimator)
    assert model.codec.heatmap_size == (16, 16)
    with pytest.raises(ValueError, match='Invalid mode'):
        model(torch.zeros(1, 3, 64, 64), mode='features')


def test_tensor_mode_returns_raw_heatmaps():
    model = _model().eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        out = model(x)  # mode='tensor'
        expected = model.head(model.backbone(x))
    assert out.shape == (2, 17, 16, 16)
    torch.testing.assert_close(out, expected)


def test_loss_and_train_step(tiny_coco):
    model = _model()
    data = _batch(_dataset(TINY_SB, 'train', tiny_coco))
    batch = model.data_preprocessor(data, training=True)
    losses = model(**batch, mode='loss')
    assert set(losses) == {'loss_kpt', 'acc_pose'}
    assert losses['loss_kpt'].ndim == 0 and losses['loss_kpt'] > 0
    assert 0 <= float(losses['acc_pose']) <= 1

    optim = OptimWrapper(torch.optim.Adam(model.parameters(), 1e-3))
    before = model.head.final_layer.weight.detach().clone()
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.head.final_layer.weight)


def test_loss_without_targets_names_the_fix(tiny_coco):
    model = _model()
    data = _batch(_dataset(TINY_SB, 'val', tiny_coco), 2)
    batch = model.data_preprocessor(data, training=True)
    with pytest.raises(KeyError, match='GenerateTarget'):
        model(**batch, mode='loss')


def test_heatmap_accuracy():
    target = torch.zeros(1, 3, 20, 20)
    target[0, :, 10, 10] = 1
    pred = torch.zeros_like(target)
    pred[0, 0, 10, 10] = 1  # exact
    pred[0, 1, 10, 12] = 1  # 2 px = 1.0 normalised: wrong
    pred[0, 2, 10, 11] = 1  # 1 px = 0.5 normalised: right
    assert float(heatmap_accuracy(pred, target, torch.ones(1, 3))) == \
        pytest.approx(2 / 3)
    # unlabelled joints are not counted
    weights = torch.tensor([[1., 0., 1.]])
    assert float(heatmap_accuracy(pred, target, weights)) == 1.0


# ----------------------------------------------------------------------
# prediction
# ----------------------------------------------------------------------
def test_predict_fields_and_shapes(tiny_coco):
    model = _model(output_heatmaps=True).eval()
    data = _batch(_dataset(TINY_SB, 'val', tiny_coco), 3)
    with torch.no_grad():
        outs = model.test_step(data)
    assert len(outs) == 3
    for out in outs:
        pred = out.pred_instances
        assert pred.keypoints.shape == (1, 17, 2)
        assert pred.keypoint_scores.shape == (1, 17)
        np.testing.assert_array_equal(pred.bbox_scores, [1.])
        np.testing.assert_allclose(pred.bboxes, out.gt_instances.bboxes)
        assert out.pred_fields.heatmaps.shape == (17, 16, 16)


def test_predict_maps_codec_targets_back_to_image_keypoints(tiny_coco):
    """A network that outputs the encoded ground truth must reproduce the
    image keypoints, through each crop's own centre and scale."""
    model = _model(flip_test=False).eval()
    data = _batch(_dataset(TINY_SB, 'val', tiny_coco), 4)
    samples = data['data_samples']
    targets = torch.stack([
        torch.from_numpy(
            model.codec.encode(s.gt_instances.transformed_keypoints)
            ['heatmaps']) for s in samples
    ])
    model._forward = lambda inputs, data_samples=None: targets
    outs = model.test_step(data)
    scales = np.stack([s.gt_instances.bbox_scales[0] for s in samples])
    assert len(np.unique(scales[:, 0])) > 1, 'crops should differ in size'
    for out, scale in zip(outs, scales):
        err = np.abs(out.pred_instances.keypoints[0] -
                     out.gt_instances.keypoints[0])
        # encoding rounds to the nearest heatmap pixel: <= 0.5 px there
        px = scale / np.array(model.codec.heatmap_size)
        assert (err <= 0.5 * px + 1e-3).all(), err.max(0)
        assert err.mean() < 0.3 * px.mean()


def test_predict_errors_are_readable():
    model = _model(flip_test=False).eval()
    sample = PoseDataSample(metainfo=dict(input_size=(64, 64)))
    with pytest.raises(KeyError, match='input_center'):
        model.predict(torch.rand(1, 3, 64, 64), [sample])
    with pytest.raises(ValueError, match='input_size'):
        model.predict(torch.rand(1, 3, 64, 48), [sample])
    with pytest.raises(ValueError, match='one data sample per'):
        model.predict(torch.rand(2, 3, 64, 64), [sample])


def _crop_sample() -> PoseDataSample:
    return PoseDataSample(
        metainfo=dict(
            input_size=(64, 64),
            input_center=np.array([40., 50.]),
            input_scale=np.array([80., 80.])))


def test_flip_test_needs_flip_indices_from_sample_or_model():
    x = torch.rand(1, 3, 64, 64)
    model = _model().eval()
    with pytest.raises(KeyError, match='flip_indices'):
        model.predict(x, [_crop_sample()])
    cfg = _cfg(TINY_SB).model
    torch.manual_seed(0)
    with_meta = MODELS.build(
        dict(cfg, metainfo=dict(flip_indices=list(COCO_FLIP_INDICES))))
    out = with_meta.eval().predict(x, [_crop_sample()])
    assert out[0].pred_instances.keypoints.shape == (1, 17, 2)


def test_flip_test_on_symmetric_input_gives_mirrored_joints():
    model = _model(lively=True, shift_heatmap=False).eval()
    x = torch.rand(1, 3, 64, 64)
    x = (x + x.flip(-1)) / 2  # a mirror-symmetric crop
    sample = _crop_sample()
    sample.set_metainfo(dict(flip_indices=list(COCO_FLIP_INDICES)))
    with torch.no_grad():
        hm = model.predict_heatmaps(x, [sample])
        pred = model.predict(x, [sample])[0].pred_instances
    # flip-averaging makes the heatmaps of a symmetric input symmetric
    assert hm.abs().mean() > 0.01
    torch.testing.assert_close(
        hm, flip_heatmaps(hm, COCO_FLIP_INDICES, False), rtol=0, atol=1e-5)
    idx = list(COCO_FLIP_INDICES)
    np.testing.assert_allclose(pred.keypoint_scores[0],
                               pred.keypoint_scores[0][idx], atol=1e-5)
    pairs = [k for k in range(17) if idx[k] != k]
    kpts = pred.keypoints[0]
    # mirrored about the crop centre: x_k + x_k' = 2 * cx - (one pixel of
    # the 4x-strided heatmap, in image pixels: 4 * 80 / 64)
    np.testing.assert_allclose(
        kpts[pairs, 0] + kpts[idx][pairs, 0], 2 * 40. - 4 * 80 / 64,
        atol=1e-3)
    np.testing.assert_allclose(kpts[pairs, 1], kpts[idx][pairs, 1],
                               atol=1e-4)


def test_flip_test_averages_the_realigned_mirrored_pass():
    """One batched forward equals two separate passes (eval-mode BN), with
    the mirrored heatmaps realigned by flip indices and the 1-px shift."""
    model = _model(lively=True).eval()
    x = torch.rand(3, 3, 64, 64)
    samples = [_crop_sample() for _ in range(3)]
    for s in samples:
        s.set_metainfo(dict(flip_indices=list(COCO_FLIP_INDICES)))
    with torch.no_grad():
        got = model.predict_heatmaps(x, samples)
        plain = model._forward(x)
        mirrored = model._forward(x.flip(-1))
    expected = (plain + flip_heatmaps(mirrored, COCO_FLIP_INDICES)) / 2
    assert plain.abs().mean() > 0.01
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got, plain, atol=1e-2)


# ----------------------------------------------------------------------
# official checkpoints
# ----------------------------------------------------------------------
def _official_layout(model) -> dict:
    """Our state dict renamed to the official repositories' bare keys."""
    return {
        k.split('.', 1)[1]: v.clone()
        for k, v in model.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }


def _randomise_bn(model) -> None:
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(
                torch.rand(m.num_features, generator=gen) + 0.5)


@pytest.mark.parametrize('name', [TINY_SB, TINY_HRNET])
def test_official_checkpoint_loads_strictly_with_identical_outputs(
        name, tmp_path):
    source = _model(name, lively=True).eval()
    _randomise_bn(source)
    official = _official_layout(source)
    assert any(k.startswith(('deconv_layers.', 'final_layer.'))
               for k in official)
    assert not any(k.startswith(('backbone.', 'head.')) for k in official)
    converted, layout = convert_pose_state_dict(official)
    assert layout == 'official'
    assert set(converted) == {
        k for k in source.state_dict() if not k.endswith('batches_tracked')
    }
    path = tmp_path / 'official.pth'
    torch.save({'state_dict': official}, path)

    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert source(x).abs().mean() > 0.01
    torch.manual_seed(123)  # a different random init underneath
    cfg = _cfg(name).model
    loaded = MODELS.build(dict(cfg, load_official=str(path)))
    loaded.init_weights()  # must not overwrite the loaded weights
    loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x), rtol=0, atol=1e-5)

    # mmpose 0.x layout (keypoint_head.*) through the same loader
    mmpose0 = {('keypoint_head.' if k.startswith(('deconv', 'final'))
                else 'backbone.') + k: v
               for k, v in official.items()}
    other = _model(name)
    report = load_pose_checkpoint(other, mmpose0)
    assert report.ok and report.layout == 'mmpose0.x'
    with torch.no_grad():
        torch.testing.assert_close(other.eval()(x), source(x), rtol=0,
                                   atol=1e-5)


def test_official_checkpoint_of_another_model_is_refused(tmp_path):
    path = tmp_path / 'hrnet.pth'
    torch.save(_official_layout(_model(TINY_HRNET)), path)
    cfg = _cfg(TINY_SB).model
    with pytest.raises(CheckpointMismatchError, match='missing'):
        MODELS.build(dict(cfg, load_official=str(path)))


# ----------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------
def _step(pipeline, type_):
    return [s for s in pipeline if s['type'] == type_]


@pytest.mark.parametrize('name', list(FULL_CONFIGS) + [TINY_SB, TINY_HRNET])
def test_pose_config_is_consistent(name):
    cfg = _cfg(name)
    assert cfg.default_scope == 'mmpose_plus'
    assert cfg.default_hooks.checkpoint.save_best == 'coco/AP'
    codec = cfg.model.codec
    w, h = codec.input_size
    assert tuple(codec.heatmap_size) == (w // 4, h // 4)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        pipeline = loader.dataset.pipeline
        assert [s.input_size for s in _step(pipeline, 'TopdownAffine')] == \
            [codec.input_size]
    targets = _step(cfg.train_dataloader.dataset.pipeline, 'GenerateTarget')
    assert [t.encoder for t in targets] == [codec]
    assert cfg.model.test_cfg.flip_test
    assert cfg.val_evaluator.type == 'CocoKeypointMetric'
    if name in FULL_CONFIGS:
        # built and run on their own pipelines by tests/test_pose_configs.py
        assert cfg.model.backbone.init_cfg.checkpoint.startswith(
            'checkpoints/')
        return
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, h, w))
    assert out.shape == (1, 17, h // 4, w // 4)


def test_published_recipes():
    sb, hr = (_cfg(n) for n in FULL_CONFIGS)
    for cfg in (sb, hr):
        assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=5e-4)
        assert cfg.train_cfg.max_epochs == 210
        warmup, steps = cfg.param_scheduler
        assert warmup.type == 'LinearLR' and not warmup.by_epoch
        assert steps.milestones == [170, 200]
        assert cfg.model.codec.sigma == 2
        assert cfg.test_dataloader.dataset.bbox_file.endswith(
            'COCO_val2017_detections_AP_H_56_person.json')
        assert cfg.train_dataloader.batch_size == 64
    assert sb.model.backbone.depth == 50
    assert hr.model.backbone.arch == 'w32'
    assert hr.model.head.deconv_out_channels is None


# ----------------------------------------------------------------------
# learning (slow)
# ----------------------------------------------------------------------
def _evaluate(model, samples, ann_file):
    metric = METRICS.build(
        dict(type='CocoKeypointMetric', ann_file=str(ann_file)))
    preds = []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(samples), 16):
            outs = model.test_step(pseudo_collate(samples[i:i + 16]))
            metric.process(None, [o.to_dict() for o in outs])
            preds += [o.pred_instances.keypoints[0] for o in outs]
    return metric.compute_metrics(metric.results)['AP'], np.stack(preds)


@pytest.mark.slow
def test_tiny_simplebaseline_learns_the_tiny_set(tmp_path):
    root = tmp_path / 'tiny_coco'
    generate_tiny_coco(str(root), 48, seed=0,
                       ann_name='person_keypoints_train.json',
                       img_dir='train')
    generate_tiny_coco(str(root), 12, seed=1,
                       ann_name='person_keypoints_val.json', img_dir='val')
    train = _dataset(TINY_SB, 'train', root)
    val = _dataset(TINY_SB, 'val', root)
    val_samples = [val[i] for i in range(len(val))]
    ann = root / 'person_keypoints_val.json'

    torch.manual_seed(0)
    np.random.seed(0)
    model = _model()
    ap_before, _ = _evaluate(model, val_samples, ann)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), 3e-3))
    rng = np.random.default_rng(0)
    losses = []
    for it in range(150):
        model.train()
        for group in optim.param_groups:  # short warm-up, then a decay
            group['lr'] = 3e-3 * min(1., (it + 1) / 20) * (
                0.1 if it >= 120 else 1.)
        idx = rng.choice(len(train), 16, replace=False)
        log_vars = model.train_step(
            pseudo_collate([train[int(i)] for i in idx]), optim)
        losses.append(float(log_vars['loss'].detach()))
    ap_after, flip_preds = _evaluate(model, val_samples, ann)

    print(f'loss {np.mean(losses[:10]):.5f} -> {np.mean(losses[-20:]):.5f}, '
          f'AP {ap_before:.3f} -> {ap_after:.3f}')
    assert np.mean(losses[-20:]) < 0.6 * np.mean(losses[:10]), losses
    assert ap_before < 0.05
    assert ap_after > ap_before + 0.3, (ap_before, ap_after)
    # with a trained model, flip test only refines the predictions
    model.test_cfg['flip_test'] = False
    ap_plain, plain_preds = _evaluate(model, val_samples, ann)
    dist = np.linalg.norm(flip_preds - plain_preds, axis=-1)
    assert np.median(dist) < 3.0, np.median(dist)
    print(f'without flip test: AP {ap_plain:.3f}, median shift '
          f'{np.median(dist):.2f} px')
    assert ap_plain > ap_before + 0.2


@pytest.mark.slow
def test_stock_tools_train_and_test_tiny_hrnet(tmp_path):
    root = tmp_path / 'tiny_coco'
    generate_tiny_coco(str(root), 8, seed=0,
                       ann_name='person_keypoints_train.json',
                       img_dir='train')
    generate_tiny_coco(str(root), 4, seed=1,
                       ann_name='person_keypoints_val.json', img_dir='val')
    data_root = str(root) + '/'
    options = [
        '--cfg-options', 'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_evaluator.ann_file={data_root}person_keypoints_val.json',
        f'test_evaluator.ann_file={data_root}person_keypoints_val.json',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.persistent_workers=False'
    ]
    config = str(CONFIG_DIR / TINY_HRNET)
    work = tmp_path / 'work'

    def run(*args):
        res = subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        return res.stdout + res.stderr

    log = run(REPO / 'tools' / 'train.py', config, '--work-dir', work,
              *options)
    assert 'coco/AP' in log
    assert (work / 'epoch_2.pth').is_file()
    log = run(REPO / 'tools' / 'test.py', config, work / 'epoch_2.pth',
              '--work-dir', tmp_path / 'test', *options)
    assert 'coco/AP:' in log and 'coco/AR:' in log


# ----------------------------------------------------------------------
# real COCO images (skipped without ../shared/data/coco)
# ----------------------------------------------------------------------
needs_coco = pytest.mark.skipif(
    not (SHARED_COCO / 'test_coco.json').is_file(),
    reason='real COCO sample data (../shared/data/coco) not present')


def _real_coco_dataset(**kwargs):
    """The full SimpleBaseline test pipeline (256x192 crops) on the real
    COCO images."""
    cfg = _cfg(FULL_CONFIGS[0])
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    ds_cfg.update(
        data_root=None,
        ann_file=str(SHARED_COCO / 'test_coco.json'),
        data_prefix=dict(img=str(SHARED_COCO) + '/'),
        bbox_file=None)
    ds_cfg.update(kwargs)
    return cfg, DATASETS.build(ds_cfg)


def _small_model_for(cfg):
    """The config's model with the tiny HRNet backbone (fast on CPU)."""
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone = copy.deepcopy(_cfg(TINY_HRNET).model.backbone)
    model_cfg.head.update(in_channels=16, deconv_out_channels=None)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model.eval()


@needs_coco
def test_real_coco_gt_boxes_through_pipeline_model_and_metric():
    cfg, dataset = _real_coco_dataset()
    assert len(dataset) == 12  # people with labelled joints
    samples = [dataset[i] for i in range(len(dataset))]
    model = _small_model_for(cfg)
    metric_cfg = dict(cfg.test_evaluator,
                      ann_file=str(SHARED_COCO / 'test_coco.json'))
    metric = METRICS.build(metric_cfg)
    gt_metric = METRICS.build(metric_cfg)
    with torch.no_grad():
        outs = model.test_step(pseudo_collate(samples))
    for out in outs:
        kpts = out.pred_instances.keypoints[0]
        x0, y0, x1, y1 = out.gt_instances.bboxes[0]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        sw, sh = out.gt_instances.bbox_scales[0]
        # predictions land inside the (padded, aspect-fixed) crop
        assert (np.abs(kpts[:, 0] - cx) <= sw / 2 + 1).all()
        assert (np.abs(kpts[:, 1] - cy) <= sh / 2 + 1).all()
    metric.process(None, [o.to_dict() for o in outs])
    ap = metric.compute_metrics(metric.results)['AP']
    assert 0.0 <= ap <= 1.0

    # ground truth as predictions through the same plumbing: AP 1.0
    for out in outs:
        out.pred_instances = InstanceData(
            keypoints=out.gt_instances.keypoints.astype(np.float32),
            keypoint_scores=np.ones((1, 17), np.float32),
            bbox_scores=np.ones(1, np.float32))
    gt_metric.process(None, [o.to_dict() for o in outs])
    assert gt_metric.compute_metrics(gt_metric.results)['AP'] == \
        pytest.approx(1.0)


@needs_coco
def test_real_coco_detected_boxes_through_pipeline_and_metric():
    cfg, dataset = _real_coco_dataset(
        bbox_file=str(SHARED_COCO / 'test_coco_det_AP_H_56.json'))
    assert len(dataset) == 118
    model = _small_model_for(cfg)
    metric = METRICS.build(
        dict(cfg.test_evaluator,
             ann_file=str(SHARED_COCO / 'test_coco.json')))
    # every 4th detection (all four images) keeps the test fast
    batch = pseudo_collate([dataset[j] for j in range(0, len(dataset), 4)])
    with torch.no_grad():
        outs = model.test_step(batch)
    metric.process(None, [o.to_dict() for o in outs])
    scores = [float(o.pred_instances.bbox_scores[0]) for o in outs]
    # the detector's scores travel to the metric's rescoring
    assert len({o.img_id for o in outs}) == 4
    assert len(set(scores)) > 10 and max(scores) <= 1.0
    ap = metric.compute_metrics(metric.results)['AP']
    assert 0.0 <= ap <= 1.0
