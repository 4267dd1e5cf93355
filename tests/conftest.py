"""Fixtures shared by the test modules below this folder.

Pytest puts this folder on ``sys.path`` when it loads this file, so test
modules can also import the plain helpers of ``_pose_helpers.py``.
"""
import pytest
import torch


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
