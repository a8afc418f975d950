import copy
import logging
import os.path as osp
import shutil
import sys
import tempfile
from urllib.parse import urlparse

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.visualization import Visualizer

# test modules import the shared helpers as ``from helpers import ...``
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: end-to-end runs through the tools (train, test, '
        'torchrun); deselect with -m "not slow"')


def pytest_terminal_summary(terminalreporter):
    """A line at the end when the disk where the tests write ran low (the
    runs that write checkpoints then fail with "no space left")."""
    free = shutil.disk_usage(tempfile.gettempdir()).free / 2**30
    if free < 1.5:
        terminalreporter.write_line(
            f'WARNING: {free:.2f} GB free in {tempfile.gettempdir()} at the '
            f'end; the suite holds up to about 1 GB there while it runs')


def _global_classes():
    """mmengine's classes whose instances live in the process by name: the
    default scope, and the visualizers (a Runner asks for its visualizer by
    name, so a second Runner in the process would get the first one's,
    writing into that run's folder, maybe an earlier test's removed
    tmp_path)."""
    classes, todo = [DefaultScope], [Visualizer]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo += cls.__subclasses__()
    return classes


def _keep_global_instances():
    saved = {cls: copy.copy(cls._instance_dict) for cls in _global_classes()}
    yield
    for cls in _global_classes():  # a class imported meanwhile had none
        cls._instance_dict = saved.get(cls, type(cls._instance_dict)())


# Tests (and module fixtures) that set mmengine's default scope (mmseg, mmdet,
# mmpretrain) or build a Runner do not leak it into the next test or module.
_isolate_test = pytest.fixture(autouse=True)(_keep_global_instances)
_isolate_module = pytest.fixture(autouse=True, scope='module')(
    _keep_global_instances)


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch):
    """Tests run offline: a download from anywhere but 127.0.0.1/localhost
    through torch hub's downloader (what URL checkpoints use) fails the
    test, naming the URL (configs start from the authors' weights by URL:
    tests set ``init_cfg=None`` or place the file in a temporary hub)."""
    download = torch.hub.download_url_to_file

    def local_only(url, *args, **kwargs):
        if urlparse(url).hostname not in ('127.0.0.1', 'localhost'):
            raise AssertionError(f'a test tried to download {url}')
        return download(url, *args, **kwargs)

    monkeypatch.setattr(torch.hub, 'download_url_to_file', local_only)


@pytest.fixture(scope='module')
def single_thread():
    """One intra-op thread for a module of tiny models (several times faster
    on a busy 2-core machine); restored afterwards. Use it with
    ``pytestmark = pytest.mark.usefixtures('single_thread')``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def log_messages():
    """Messages logged through mmengine's current logger during the test."""
    messages = []

    class Handler(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Handler(level=logging.DEBUG)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
