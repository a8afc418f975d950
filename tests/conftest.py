import copy

import pytest
from mmengine.registry import DefaultScope


def _keep_default_scope():
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


# Tests (and module fixtures) that set mmengine's default scope (mmseg, mmdet,
# mmpretrain) do not leak it into the next test or module.
_isolate_test = pytest.fixture(autouse=True)(_keep_default_scope)
_isolate_module = pytest.fixture(autouse=True, scope='module')(
    _keep_default_scope)
