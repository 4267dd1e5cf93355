"""End-to-end behaviour of tools/train.py, tools/test.py and the dist
scripts on a very small skeleton recognizer."""
import os
import pickle
import socket
import sys

import pytest
import torch

from conftest import REPO, run_tool

TRAIN = REPO / 'tools' / 'train.py'
TEST = REPO / 'tools' / 'test.py'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    return result


@pytest.fixture
def trained(tiny_tool_config, tmp_path):
    work = tmp_path / 'work'
    _ok(run_tool(TRAIN, tiny_tool_config, '--work-dir', work))
    return tiny_tool_config, work


def test_train_saves_checkpoints_loadable_by_test(trained, tmp_path):
    cfg, work = trained
    assert (work / 'epoch_2.pth').is_file()
    dump = tmp_path / 'preds.pkl'
    res = _ok(run_tool(TEST, cfg, work / 'epoch_2.pth', '--work-dir',
                       tmp_path / 'test', '--dump', dump))
    assert 'acc/top1' in res.stdout + res.stderr
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 4  # the val split of the tiny pickle


def test_checkpoint_has_full_pickle_but_loads_without_env_var(trained):
    _, work = trained
    # torch >= 2.6 refuses mmengine checkpoints under weights_only=True ...
    with pytest.raises(Exception):
        torch.load(work / 'epoch_1.pth', weights_only=True)
    # ... and importing mmpose_plus makes mmengine's loader accept them.
    import mmpose_plus  # noqa: F401
    from mmengine.runner import load_checkpoint
    model = torch.nn.Module()
    model.backbone = torch.nn.Module()
    ckpt = load_checkpoint(model, str(work / 'epoch_1.pth'), strict=False,
                           logger='silent')
    assert ckpt['meta']['epoch'] == 1 and 'message_hub' in ckpt


def test_resume_auto_and_explicit(trained, tmp_path):
    cfg, work = trained
    res = _ok(run_tool(TRAIN, cfg, '--work-dir', work, '--resume',
                       '--cfg-options', 'train_cfg.max_epochs=3'))
    log = res.stdout + res.stderr
    assert 'resumed epoch: 2' in log
    assert (work / 'epoch_3.pth').is_file()

    other = tmp_path / 'other'
    res = _ok(run_tool(TRAIN, cfg, '--work-dir', other, '--resume',
                       work / 'epoch_1.pth'))
    assert 'resumed epoch: 1' in res.stdout + res.stderr
    assert (other / 'epoch_2.pth').is_file()
    assert not (other / 'epoch_1.pth').exists()


def test_amp_on_cpu_uses_bf16_wrapper(tiny_tool_config, tmp_path):
    res = _ok(run_tool(TRAIN, tiny_tool_config, '--work-dir', tmp_path / 'w',
                       '--amp', '--cfg-options', 'train_cfg.max_epochs=1'))
    log = res.stdout + res.stderr
    if not torch.cuda.is_available():
        assert 'CPUBf16OptimWrapper' in log
    assert 'acc/top1' in log


def test_missing_data_names_file_and_doc(tiny_tool_config, tmp_path):
    res = run_tool(TRAIN, tiny_tool_config, '--work-dir', tmp_path / 'w',
                   '--cfg-options',
                   'train_dataloader.dataset.ann_file=nowhere/ntu.pkl')
    assert res.returncode != 0
    assert 'nowhere/ntu.pkl' in res.stderr
    assert 'docs/data.md' in res.stderr
    assert 'Traceback' not in res.stderr


def test_test_tool_rejects_wrong_num_classes(trained, tmp_path):
    cfg, work = trained
    res = run_tool(TEST, cfg, work / 'epoch_2.pth', '--work-dir', tmp_path,
                   '--cfg-options', 'model.cls_head.num_classes=5')
    assert res.returncode != 0
    assert 'cls_head.fc_cls.weight' in res.stderr
    assert 'num_classes' in res.stderr and 'load_from' in res.stderr
    assert 'Traceback' not in res.stderr


def test_finetune_with_other_num_classes_reinitialises_classifier(
        trained, tmp_path):
    cfg, work = trained
    res = _ok(run_tool(TRAIN, cfg, '--work-dir', tmp_path / 'ft',
                       '--cfg-options', f'load_from={work / "epoch_2.pth"}',
                       'model.cls_head.num_classes=3',
                       'train_cfg.max_epochs=1'))
    assert 'classifier is re-initialised' in res.stdout + res.stderr


def test_missing_checkpoint_is_a_clear_error(tiny_tool_config, tmp_path):
    res = run_tool(TEST, tiny_tool_config, tmp_path / 'nope.pth')
    assert res.returncode != 0
    assert 'nope.pth' in res.stderr and 'Traceback' not in res.stderr


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(tiny_tool_config, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()))
    work = tmp_path / 'dist'
    import subprocess
    res = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(tiny_tool_config),
         '2', '--work-dir', str(work)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    assert (work / 'epoch_2.pth').is_file()
    env['PORT'] = str(_free_port())
    res = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_test.sh'), str(tiny_tool_config),
         str(work / 'epoch_2.pth'), '2'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert 'acc/top1' in res.stdout + res.stderr
