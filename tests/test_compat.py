"""The compatibility layer: safe checkpoint loading on torch >= 2.6 and the
single-process SyncBN fall-back."""
import builtins
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mmlightvit  # noqa: F401  (registers the loader)
from mmlightvit.compat import CheckpointError, sync_bn_to_bn
from helpers import ROOT, failure_summary, free_port


class _WritesMarker:
    """Unpickling this would run code: exec(...) writes a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (builtins.exec,
                (f'open({str(self.marker)!r}, "w").write("pwned")', ))


class _GetattrAbuse:
    """getattr on HistoryBuffer with a name that is not a statistic."""

    def __reduce__(self):
        return (builtins.getattr, (HistoryBuffer, '__subclasses__'))


def test_malicious_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'marker.txt'
    ckpt = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(2)},
                'meta': _WritesMarker(marker)}, ckpt)
    with pytest.raises(CheckpointError, match='evil.pth') as e:
        _load_checkpoint(str(ckpt), map_location='cpu')
    assert 'exec' in str(e.value)
    assert not marker.exists()
    # the same file does run code with plain pickle: the test is meaningful
    torch.load(ckpt, weights_only=False)
    assert marker.read_text() == 'pwned'


def test_getattr_only_reaches_history_buffer_statistics(tmp_path):
    ckpt = tmp_path / 'getattr.pth'
    torch.save({'meta': _GetattrAbuse()}, ckpt)
    with pytest.raises(CheckpointError, match='getattr.pth'):
        _load_checkpoint(str(ckpt), map_location='cpu')


def test_mmengine_objects_load(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    ckpt = tmp_path / 'ok.pth'
    payload = {
        'meta': {'iter': 3, 'seed': np.int64(7), 'arr': np.arange(3.0),
                 'stats': [HistoryBuffer.mean, HistoryBuffer.min]},
        'message_hub': {'log_scalars': {'loss': buf}},
        'state_dict': {'w': torch.arange(4.0)},
    }
    torch.save(payload, ckpt)
    loaded = _load_checkpoint(str(ckpt), map_location='cpu')
    assert loaded['meta']['iter'] == 3 and loaded['meta']['seed'] == 7
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3.0))
    assert loaded['meta']['stats'] == [HistoryBuffer.mean, HistoryBuffer.min]
    assert loaded['message_hub']['log_scalars']['loss'].mean() == 2.0
    assert torch.equal(loaded['state_dict']['w'], torch.arange(4.0))


@pytest.mark.parametrize('content, message', [
    (b'', 'broken.pth is empty .*truncated or corrupt'),
    (b'not a checkpoint at all', 'broken.pth is not a checkpoint.*zip archive'
     ".*starts with b'not a checkpoint"),
])
def test_corrupt_checkpoint_names_the_file(tmp_path, content, message):
    ckpt = tmp_path / 'broken.pth'
    ckpt.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        _load_checkpoint(str(ckpt), map_location='cpu')


def test_truncated_checkpoint_names_the_file(tmp_path):
    buf = io.BytesIO()
    torch.save({'state_dict': {'w': torch.randn(1000)}}, buf)
    ckpt = tmp_path / 'cut.pth'
    ckpt.write_bytes(buf.getvalue()[:len(buf.getvalue()) // 2])
    with pytest.raises(CheckpointError, match='cut.pth'):
        _load_checkpoint(str(ckpt), map_location='cpu')


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


def test_sync_bn_to_bn():
    cfg = ConfigDict(
        backbone=dict(type='EMO', norm_cfg=dict(type='SyncBN', eps=1e-6)),
        decode_head=dict(norm_cfg=dict(type='SyncBN', requires_grad=True),
                         loss=[dict(type='CE'), dict(type='SyncBN')]),
        other=dict(type='BN'))
    out = sync_bn_to_bn(cfg)
    assert out.backbone.norm_cfg == dict(type='BN', eps=1e-6)
    assert out.decode_head.norm_cfg.type == 'BN'
    assert out.decode_head.loss[1].type == 'BN'
    assert out.other.type == 'BN'
    assert cfg.backbone.norm_cfg.type == 'SyncBN'  # the input is not changed
    assert pickle.loads(pickle.dumps(out)) == out


def test_process_group_started_by_mmengine_is_destroyed_at_exit(tmp_path):
    """mmengine's ``init_dist('pytorch')`` on CPU (gloo) through compat: the
    group is destroyed at exit, before the interpreter shuts down, whichever
    tool started it (an exit hook registered before the group reads it)."""
    script = tmp_path / 'tool.py'
    script.write_text(
        'import atexit\n'
        'import torch.distributed as dist\n'
        'import mmlightvit  # noqa: F401\n'
        'from mmengine.dist import init_dist\n'
        "atexit.register(lambda: print('alive at exit:', "
        'dist.is_initialized()))\n'
        "init_dist('pytorch')\n"
        "print('started:', dist.get_backend())\n")
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT=free_port(),
               CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, failure_summary(proc.stdout + proc.stderr)
    assert 'started: gloo' in proc.stdout
    assert 'alive at exit: False' in proc.stdout
