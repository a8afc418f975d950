"""Bad input gets a clear message: heads that do not fit the backbone, bad
backbone arguments, checkpoints of another architecture."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS as SEG_MODELS

import mmlightvit  # noqa: F401
from mmlightvit.compat import sync_bn_to_bn
from mmlightvit.datasets.toy import make_toy_ade20k
from mmlightvit.models.checks import ChannelMismatchError, check_channels

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')


def build(**model_changes):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(model_changes)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_MODELS.build(sync_bn_to_bn(cfg.model))


def test_matching_channels_pass():
    check_channels(build())


@pytest.mark.parametrize('change, message', [
    ({'model.decode_head.in_channels': 100},
     'decode_head.in_channels is 100, but level 3 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 168 channels'),
    ({'model.auxiliary_head.in_channels': 64},
     'auxiliary_head.in_channels is 64, but level 2 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 80 channels'),
    ({'model.backbone.arch': '5M'},
     'decode_head.in_channels is 168, but level 3 of the EMO backbone '
     'outputs (out_indices (1, 2, 3, 4)) has 288 channels'),
    ({'model.backbone.out_indices': (1, 2, 3)},
     'decode_head takes level 3 (in_index), but the EMO backbone outputs '
     '(out_indices (1, 2, 3)) has only 3 levels'),
])
def test_mismatch_names_module_level_and_numbers(change, message):
    with pytest.raises(ChannelMismatchError) as e:
        check_channels(build(**change))
    assert message in str(e.value)


def test_train_tool_stops_with_the_message(tmp_path):
    root = make_toy_ade20k(str(tmp_path / 'toy'), num_train=2, num_val=1,
                           size=32, seed=0)
    opts = [f'{s}_dataloader.dataset.data_root={root}' for s in ('train', 'val')]
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(tmp_path / 'w'), '--cfg-options', *opts,
         'model.decode_head.in_channels=100'],
        cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1
    assert 'error: decode_head.in_channels is 100, but level 3' in proc.stderr
    assert 'Traceback' not in proc.stderr
