"""Every pose-estimation config under configs/pose loads, builds its model
and runs its *own* pipelines on a generated COCO-format set (images of stick
figures): a test_step for every config, a train_step for the tiny ones (the
full-size ones get their training targets checked instead)."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose_plus  # noqa: F401  (registers our modules)
from mmpose_plus.datasets.tiny_coco import generate_tiny_coco
from mmpose_plus.registry import DATASETS, MODELS

REPO = Path(__file__).resolve().parents[1]
POSE_CONFIGS = sorted(
    p.relative_to(REPO / 'configs').as_posix()
    for p in (REPO / 'configs' / 'pose').rglob('*.py'))


def _load(name: str) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    init_default_scope(cfg.get('default_scope', 'mmpose_plus'))
    return cfg


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _strings(value)


def _no_pretrained(model_cfg):
    """Drop ``Pretrained`` inits: the files are not shipped with the repo."""
    if isinstance(model_cfg, dict):
        init = model_cfg.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            model_cfg['init_cfg'] = None
        for value in model_cfg.values():
            _no_pretrained(value)
    return model_cfg


@pytest.fixture(scope='module')
def coco_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('tiny_coco')
    ann = generate_tiny_coco(str(out), num_images=2, persons_per_image=2)
    return Path(ann), out / 'images'


def test_pose_configs_exist():
    assert len(POSE_CONFIGS) >= 6


@pytest.mark.parametrize('name', POSE_CONFIGS)
def test_pose_config_conventions(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmpose_plus'
    save_best = cfg.default_hooks.checkpoint.get('save_best')
    assert save_best and save_best != 'auto'
    # Nothing is fetched at run time: no URL anywhere in the config.
    urls = [s for s in _strings(cfg.to_dict()) if '://' in s]
    assert not urls, urls


@pytest.mark.parametrize('name', POSE_CONFIGS)
def test_pose_config_train_and_test_step(name, coco_dir):
    ann, images = coco_dir
    torch.manual_seed(0)
    np.random.seed(0)
    cfg = _load(name)
    model = revert_sync_batchnorm(MODELS.build(_no_pretrained(cfg.model)))
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    for loader, train in ((cfg.train_dataloader, True),
                          (cfg.test_dataloader, False)):
        ds_cfg = dict(loader.dataset)
        ds_cfg.update(ann_file=str(ann), data_root=None,
                      data_prefix=dict(img=str(images)))
        ds_cfg.pop('bbox_file', None)  # use ground-truth boxes
        dataset = DATASETS.build(ds_cfg)
        batch = pseudo_collate([dataset[0]])
        if train and not name.startswith('pose/tiny/'):
            # A backward pass of a full-size model at 512-640 px takes
            # minutes on 2 cores: check the targets its pipeline makes and
            # leave training to the tiny variants and the model tests.
            sample = batch['data_samples'][0]
            assert sample.gt_fields is not None
            assert batch['inputs'][0].shape[0] == 3
        elif train:
            model.train()
            log_vars = model.train_step(batch, optim_wrapper)
            assert all(math.isfinite(float(v)) for v in log_vars.values())
        else:
            model.eval()
            with torch.no_grad():
                outputs = model.test_step(batch)
            pred = outputs[0].pred_instances
            assert pred.keypoints.shape[1:] == (17, 2)
            assert pred.keypoint_scores.shape == pred.keypoints.shape[:2]
