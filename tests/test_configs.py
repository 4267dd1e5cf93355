"""Every config under configs/ (except _base_) loads, builds its model and
runs one train_step and one test_step on tiny inputs of its modality.

Inputs are packed by the config's own PackActionInputs, with the frame
counts its pipelines sample and the channel count its GeneratePoseTarget
produces; only the spatial size is shrunk so that the full-size R50 models
stay fast. The tiny configs additionally run their real data pipeline on a
freshly generated tiny dataset.
"""
import inspect
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose_plus  # noqa: F401  (registers our modules)
from mmpose_plus.datasets.tiny_dataset import (TINY_ANN_FILE, TINY_VIDEO_DIR,
                                               generate_tiny_dataset)
from mmpose_plus.registry import DATASETS, METRICS, MODELS, TRANSFORMS

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs'
CONFIGS = sorted(
    p.relative_to(CONFIG_DIR).as_posix() for p in CONFIG_DIR.rglob('*.py')
    if '_base_' not in p.relative_to(CONFIG_DIR).parts)
TINY_CONFIGS = [c for c in CONFIGS if c.startswith('tiny/')]
# Pose-estimation configs have their own checks (tests/test_pose_configs.py).
ACTION_CONFIGS = [c for c in CONFIGS if not c.startswith('pose/')]
# Spatial size of the RGB input in these tests (heatmaps follow the
# pipeline's scaling). 32 still leaves 1x1 after the R50 strides.
RGB_SIZE = 32
HEATMAP_SIZE = 32
# Single-stream models also get fewer frames (the two-stream model keeps its
# configured RGB:pose frame ratio, which its lateral connections rely on).
MAX_FRAMES = dict(RGB=4, Pose=16)
BATCH = 2


def _load(name: str) -> Config:
    init_default_scope('mmpose_plus')
    return Config.fromfile(str(CONFIG_DIR / name))


def _leaf_dataset(loader: dict) -> dict:
    dataset = loader['dataset']
    while 'dataset' in dataset:  # RepeatDataset and other wrappers
        dataset = dataset['dataset']
    return dataset


def _find(pipeline: List[dict], *types: str) -> Optional[dict]:
    for step in pipeline:
        if step['type'] in types:
            return step
    return None


def _heatmap_channels(target: dict) -> int:
    """Channels the GeneratePoseTarget step of a pipeline produces."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(
            TRANSFORMS.get('GeneratePoseTarget')).parameters.items()
    }
    with_kp = target.get('with_kp', defaults['with_kp'])
    with_limb = target.get('with_limb', defaults['with_limb'])
    channels = 17 if with_kp else 0
    if with_limb:
        channels += len(target.get('skeletons', defaults['skeletons']))
    return channels


def _clip_lens(pipeline: List[dict]) -> Dict[str, int]:
    """Frames per modality that the sampling step of a pipeline yields."""
    sampler = _find(pipeline, 'MMUniformSampleFrames', 'UniformSampleFrames',
                    'SampleFrames')
    assert sampler is not None, 'no frame sampling step in the pipeline'
    clip_len = sampler['clip_len']
    if isinstance(clip_len, dict):
        return {k: int(v) for k, v in clip_len.items()}
    modality = 'Pose' if _find(pipeline, 'GeneratePoseTarget') else 'RGB'
    return {modality: int(clip_len)}


def _num_views(pipeline: List[dict]) -> int:
    sampler = _find(pipeline, 'MMUniformSampleFrames', 'UniformSampleFrames',
                    'SampleFrames')
    views = sampler.get('num_clips', 1)
    if _find(pipeline, 'ThreeCrop'):
        views *= 3
    target = _find(pipeline, 'GeneratePoseTarget')
    if target is not None and target.get('double', False):
        views *= 2
    return views


def _synthetic_batch(pipeline: List[dict], views: int,
                     rng: np.random.Generator) -> dict:
    """A collated batch shaped like what ``pipeline`` produces."""
    lens = _clip_lens(pipeline)
    if len(lens) == 1:
        lens = {k: min(v, MAX_FRAMES[k]) for k, v in lens.items()}
    target = _find(pipeline, 'GeneratePoseTarget')
    pack_cfg = pipeline[-1]
    assert pack_cfg['type'] == 'PackActionInputs'
    pack = TRANSFORMS.build(pack_cfg)
    samples = []
    for label in range(BATCH):
        results = dict(label=label)
        if 'RGB' in lens:
            results['imgs'] = rng.uniform(
                0, 255,
                (views, 3, lens['RGB'], RGB_SIZE, RGB_SIZE)).astype(np.float32)
        if target is not None:
            if 'RGB' in lens:
                size = int(round(RGB_SIZE * target.get('scaling', 1.0)))
            else:
                size = HEATMAP_SIZE
            key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
            results[key] = rng.uniform(
                0, 1, (views, _heatmap_channels(target), lens['Pose'], size,
                       size)).astype(np.float32)
        samples.append(pack(results))
    return pseudo_collate(samples)


def _backbone_in_channels(model_cfg: dict) -> Tuple[Optional[int], int]:
    """(RGB input channels or None, heatmap input channels or None)."""
    backbone = model_cfg['backbone']
    if 'pose_pathway' in backbone:
        return 3, backbone['pose_pathway'].get('in_channels', 17)
    channels = backbone.get('in_channels', 3)
    return (channels, None) if channels == 3 else (None, channels)


def _scalar(value) -> float:
    return float(torch.as_tensor(value).detach())


def _train_pipeline(cfg: Config) -> List[dict]:
    return _leaf_dataset(cfg.train_dataloader)['pipeline']


def _test_pipeline(cfg: Config) -> List[dict]:
    return _leaf_dataset(cfg.test_dataloader)['pipeline']


def test_every_config_is_found():
    assert 'rgbpose_ntu.py' in CONFIGS
    assert len(TINY_CONFIGS) >= 2


@pytest.mark.parametrize('name', ACTION_CONFIGS)
def test_config_conventions(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmpose_plus'
    save_best = cfg.default_hooks.checkpoint.get('save_best')
    assert save_best and save_best != 'auto', \
        'name the best-checkpoint metric explicitly'
    # The model's input channels match what the pipelines produce.
    rgb_in, pose_in = _backbone_in_channels(cfg.model)
    for pipeline in (_train_pipeline(cfg), _test_pipeline(cfg)):
        target = _find(pipeline, 'GeneratePoseTarget')
        if pose_in is not None:
            assert target is not None
            assert _heatmap_channels(target) == pose_in
        else:
            assert target is None
        assert rgb_in in (None, 3)


@pytest.mark.parametrize('name', ACTION_CONFIGS)
def test_config_train_and_test_step(name):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cfg = _load(name)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    num_classes = cfg.model.cls_head.num_classes
    multimodal = cfg.model.type == 'MMRecognizer3D'

    # One optimisation step with the config's own optimizer wrapper.
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = _synthetic_batch(_train_pipeline(cfg), 1, rng)
    head = model.cls_head
    fc = head.fc_pose if multimodal else head.fc_cls
    before = fc.weight.detach().clone()
    log_vars = model.train_step(data, optim_wrapper)
    assert math.isfinite(_scalar(log_vars['loss']))
    if multimodal:
        assert {'rgb_loss_cls', 'pose_loss_cls'} <= set(log_vars)
    assert not torch.equal(before, fc.weight.detach()), \
        'the classifier did not change after a train step'

    # Test step: two views per sample (stands in for the config's
    # multi-clip / multi-crop testing), class probabilities averaged.
    views = min(_num_views(_test_pipeline(cfg)), 2)
    data = _synthetic_batch(_test_pipeline(cfg), views, rng)
    model.eval()
    with torch.no_grad():
        outputs = model.test_step(data)
    assert len(outputs) == BATCH
    streams = ('rgb', 'pose') if multimodal else ('item', )
    for out in outputs:
        for stream in streams:
            score = getattr(out.pred_scores, stream)
            assert score.shape == (num_classes, )
            if cfg.model.cls_head.get('average_clips') == 'prob':
                assert float(score.sum()) == pytest.approx(1.0, abs=1e-4)

    # The metric named by save_best is one the evaluator reports.
    evaluator = cfg.val_evaluator
    metric_cfg = evaluator[0] if isinstance(evaluator, list) else evaluator
    metric = METRICS.build(metric_cfg)
    metric.process(None, [o.to_dict() for o in outputs])
    keys = metric.evaluate(len(outputs))
    assert cfg.default_hooks.checkpoint.save_best in keys, sorted(keys)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    out = tmp_path_factory.mktemp('tiny_ntu')
    generate_tiny_dataset(str(out), videos_per_class=3, val_per_class=1)
    return out


def _ours(name: str) -> bool:
    return TRANSFORMS.get(name).__module__.startswith('mmpose_plus')


@pytest.mark.parametrize('name', TINY_CONFIGS)
def test_tiny_config_runs_on_generated_data(name, tiny_data):
    """The tiny configs read the generator's default layout, and their real
    pipelines feed their models."""
    cfg = _load(name)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        dataset = _leaf_dataset(loader)
        assert dataset['ann_file'] == f'data/tiny_ntu/{TINY_ANN_FILE}'
        if 'video' in dataset.get('data_prefix', {}):
            assert dataset['data_prefix']['video'] == \
                f'data/tiny_ntu/{TINY_VIDEO_DIR}'
    compact = _find(_train_pipeline(cfg), 'MMCompact', 'PoseCompact')
    if compact is not None and not _ours(compact['type']):
        pytest.skip(f'mmpose_plus {compact["type"]} is not registered yet '
                    "(mmaction2's crashes on numpy 2)")

    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    for loader, train in ((cfg.train_dataloader, True),
                          (cfg.val_dataloader, False)):
        dataset_cfg = dict(_leaf_dataset(loader))
        dataset_cfg['ann_file'] = str(tiny_data / TINY_ANN_FILE)
        if 'video' in dataset_cfg.get('data_prefix', {}):
            dataset_cfg['data_prefix'] = dict(
                video=str(tiny_data / TINY_VIDEO_DIR))
        dataset = DATASETS.build(dataset_cfg)
        samples = [dataset[0], dataset[len(dataset) - 1]]
        labels = [s['data_samples'].gt_labels.item.item() for s in samples]
        assert labels[0] != labels[1]
        batch = pseudo_collate(samples)
        if train:
            model.train()
            log_vars = model.train_step(batch, optim_wrapper)
            assert math.isfinite(_scalar(log_vars['loss']))
        else:
            model.eval()
            with torch.no_grad():
                outputs = model.test_step(batch)
            assert [o.gt_labels.item.item() for o in outputs] == labels


def test_missing_rgbpose_videos_point_to_the_preparation_tool(tmp_path,
                                                               monkeypatch):
    from mmpose_plus.engine.checks import missing_data_files
    monkeypatch.chdir(tmp_path)  # no data/ here
    cfg = Config.fromfile(str(REPO / 'configs' / 'rgbpose_ntu.py'))
    problems = missing_data_files(cfg, ('train', ))
    video = [p for p in problems if '.data_prefix.video' in p]
    assert video and 'nturgbd_videos_540p' in video[0]
    assert 'tools/data/prepare_videos.py' in video[0]
    assert any('ntu60_2d.pkl' in p for p in problems)
