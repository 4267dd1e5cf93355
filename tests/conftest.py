"""Fixtures shared by the test modules below this folder.

Pytest puts this folder on ``sys.path`` when it loads this file, so test
modules can also import the plain helpers of ``_pose_helpers.py``.
"""
import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import Optional

import pytest
import torch
from mmengine.logging import MMLogger

_TOOLS = Path(__file__).resolve().parents[1] / 'tools'


@pytest.fixture(scope='module')
def one_thread():
    """One intra-op thread for the whole module.

    The test machine is shared by many jobs: a single thread avoids
    oversubscription stalls (10x slower wall time otherwise). Use it with
    ``pytestmark = pytest.mark.usefixtures('one_thread')``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def logged():
    """Messages logged through mmengine's current logger during the test."""
    records = []

    class _Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = _Collect(level=logging.DEBUG)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.fixture(scope='session')
def load_tool():
    """Import a script below ``tools/`` as a module, e.g.
    ``load_tool('convert/merge_rgbpose_init.py')``; its ``main`` can then
    be called in-process."""

    def load(relative_path: str, name: Optional[str] = None) -> ModuleType:
        path = _TOOLS / relative_path
        spec = importlib.util.spec_from_file_location(
            name or f'{path.stem}_tool', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
