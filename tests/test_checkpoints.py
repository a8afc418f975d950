"""Checkpoints: one weights-only loader for every source (a hostile pickle
given by URL, s3 or a model-zoo name never runs), writes that survive kill -9
and a full disk, ``--resume`` that never overwrites history, one training run
per work dir. Nothing here touches the network: URLs are served from a
temporary torch hub cache or a server on 127.0.0.1."""
import contextlib
import functools
import hashlib
import http.server
import importlib.util
import os
import os.path as osp
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import threading
import types
import zipfile

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from mmengine.runner.checkpoint import _load_checkpoint

import mmlightvit.compat as compat
from helpers import ROOT, failure_summary, run_tool
from mmlightvit.compat import (CheckpointError, UnsafeCheckpointError,
                               hub_cache_path, load_checkpoint_file,
                               read_last_checkpoint, save_checkpoint,
                               write_file_atomically, write_last_checkpoint)
from mmlightvit.datasets.toy import make_toy_ade20k
from mmlightvit.engine import (WorkDirBusyError, check_training_checkpoint,
                               find_resume_checkpoint, work_dir_lock)

URL = 'https://example.com/checkpoints/model.pth'
CONFIG = 'configs/emo/deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py'


# ------------------------------------------------------------------ helpers
class _RunsCommand:
    """Unpickling this runs ``os.system('touch MARKER')``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def hostile_checkpoint(path, marker, plain=False):
    """A checkpoint whose ``meta`` runs a command when unpickled: a torch zip
    (``plain=False``) or a plain pickle."""
    payload = {'state_dict': {'w': torch.zeros(2)},
               'meta': _RunsCommand(marker)}
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    if plain:
        with open(path, 'wb') as f:
            pickle.dump(payload, f)
    else:
        torch.save(payload, path)
    return str(path)


def training_checkpoint(path, it=2, weight=1.0):
    """A small checkpoint with what ``Runner.resume`` needs."""
    save_checkpoint(
        {'meta': {'epoch': 0, 'iter': it}, 'state_dict': {'w': torch.full(
            (2, ), weight)}, 'optimizer': {'state': {}, 'param_groups': []},
         'message_hub': {'log_scalars': {}, 'runtime_info': {}}}, str(path))
    return str(path)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """A temporary torch hub dir (and mmengine home): URLs are looked up in
    ``hub_dir/checkpoints/``."""
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine'))
    return tmp_path / 'hub'


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / 'code-ran.txt'
    yield path
    assert not path.exists(), 'the hostile pickle ran its code'


# --------------------------------------------------- one loader, every source
@pytest.mark.parametrize('plain', [False, True], ids=['torch-zip', 'pickle'])
def test_hostile_checkpoint_by_url_is_refused(hub_dir, marker, plain):
    cached = hostile_checkpoint(hub_cache_path(URL), marker, plain)
    assert cached == str(hub_dir / 'checkpoints' / 'model.pth')
    for load in (_load_checkpoint, load_checkpoint_file):
        with pytest.raises(UnsafeCheckpointError,
                           match=r'refused to load checkpoint .*model\.pth'):
            load(URL, map_location='cpu')
    # the file does run code when unpickled: the test is meaningful
    with open(cached, 'rb') as f:
        if plain:
            pickle.load(f)
        else:
            torch.load(f, weights_only=False)
    assert marker.exists()
    marker.unlink()


def test_plain_pickle_is_refused_not_corrupt(tmp_path, marker):
    path = hostile_checkpoint(tmp_path / 'evil.pkl', marker, plain=True)
    with pytest.raises(UnsafeCheckpointError) as e:
        _load_checkpoint(path)
    assert 'refused' in str(e.value) and 'plain Python pickle' in str(e.value)
    assert 'corrupt' not in str(e.value)


def test_init_cfg_pretrained_by_url_is_refused(hub_dir, marker):
    hostile_checkpoint(hub_cache_path(URL), marker)
    pretrained = dict(type='Pretrained', checkpoint=URL)
    emo = MODELS.build(dict(type='EMO', arch='1M', init_cfg=pretrained))
    plain = BaseModule(init_cfg=pretrained)  # mmengine's PretrainedInit
    for module in (emo, plain):
        with pytest.raises(UnsafeCheckpointError, match='model.pth'):
            module.init_weights()


def _converter(name):
    path = osp.join(ROOT, 'tools', 'model_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('name', ['emo2mmlightvit', 'mobilevit2mmlightvit',
                                  'repvit2mmlightvit'])
def test_converters_refuse_a_hostile_url(hub_dir, marker, tmp_path, name):
    hostile_checkpoint(hub_cache_path(URL), marker)
    dst = tmp_path / 'out.pth'
    with pytest.raises(UnsafeCheckpointError, match='model.pth'):
        _converter(name).convert(URL, str(dst))
    assert not dst.exists()


@pytest.mark.parametrize('name', [
    'torchvision://resnet18', 'modelzoo://resnet18',
    'open-mmlab://contrib/mobilenet_v3_small', 'mmcls://mobilenet_v2'])
def test_model_zoo_names_go_through_the_same_loader(hub_dir, marker, name):
    import mmengine.runner.checkpoint as table
    scheme, key = name.split('://')
    urls = {'torchvision': table.get_torchvision_models,
            'modelzoo': table.get_torchvision_models,
            'open-mmlab': table.get_external_models,
            'mmcls': table.get_mmcls_models}[scheme]()
    hostile_checkpoint(hub_cache_path(urls[key]), marker)
    with pytest.raises(UnsafeCheckpointError, match=osp.basename(urls[key])):
        _load_checkpoint(name)


def test_file_backend_bytes_go_through_the_same_loader(monkeypatch, marker,
                                                        tmp_path):
    """``s3://`` (petrel) checkpoints: the backend's bytes are unpickled
    weights-only (the backend itself is faked: no petrel client here)."""
    files = {'s3://bucket/evil.pth': hostile_checkpoint(
        tmp_path / 'evil.pth', marker),
        'cluster:s3://bucket/good.pth': training_checkpoint(
            tmp_path / 'good.pth')}

    class FakeBackend:

        def get(self, filepath):
            with open(files[filepath], 'rb') as f:
                return f.read()

    monkeypatch.setattr(compat, 'get_file_backend', lambda path: FakeBackend())
    with pytest.raises(UnsafeCheckpointError, match='s3://bucket/evil.pth'):
        _load_checkpoint('s3://bucket/evil.pth')
    good = _load_checkpoint('cluster:s3://bucket/good.pth')
    assert torch.equal(good['state_dict']['w'], torch.ones(2))


def test_genuine_checkpoint_by_url_loads_from_the_cache(hub_dir):
    """A cached file is loaded without network (example.com is never
    contacted), into a backbone too."""
    emo = MODELS.build(dict(type='EMO', arch='1M'))
    os.makedirs(osp.dirname(hub_cache_path(URL)))
    torch.save({'state_dict': emo.state_dict()}, hub_cache_path(URL))
    loaded = load_checkpoint_file(URL)
    assert loaded['state_dict'].keys() == emo.state_dict().keys()
    other = MODELS.build(dict(type='EMO', arch='1M', init_cfg=dict(
        type='Pretrained', checkpoint=URL)))
    other.init_weights()
    for key, value in emo.state_dict().items():
        assert torch.equal(other.state_dict()[key], value), key


@contextlib.contextmanager
def serve(folder):
    """An HTTP server for ``folder`` on 127.0.0.1 (no proxy); yields its
    base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_proxy(monkeypatch):
    for var in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('no_proxy', '127.0.0.1')


def test_download_checks_the_hash_in_the_name(hub_dir, tmp_path, no_proxy):
    served = tmp_path / 'served'
    served.mkdir()
    data = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'w': torch.arange(3.0)}}, data)
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    shutil.copy(data, served / f'weights-{digest[:8]}.pth')
    shutil.copy(data, served / 'weights-00000000.pth')  # a wrong hash
    with serve(served) as base:
        good = f'{base}/weights-{digest[:8]}.pth'
        loaded = load_checkpoint_file(good)
        assert torch.equal(loaded['state_dict']['w'], torch.arange(3.0))
        assert osp.isfile(hub_cache_path(good))
        bad = f'{base}/weights-00000000.pth'
        with pytest.raises(CheckpointError, match='invalid hash value'):
            load_checkpoint_file(bad)
        assert not osp.exists(hub_cache_path(bad))


def test_offline_url_says_where_to_put_the_file(hub_dir, no_proxy):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    url = f'http://127.0.0.1:{port}/emo_1m-0123abcd.pth'
    with pytest.raises(CheckpointError) as e:
        _load_checkpoint(url)
    message = str(e.value)
    assert '\n' not in message
    assert f'could not download {url}' in message
    assert f'put the file at {hub_dir}/checkpoints/emo_1m-0123abcd.pth' in \
        message
    assert '--cfg-options model.backbone.init_cfg.checkpoint=PATH' in message


class _Numpy1Pickler(pickle._Pickler):
    """Writes numpy's array functions under numpy 1.x's module path
    (``numpy.core.multiarray``), as a checkpoint saved under numpy 1.x."""

    def save_global(self, obj, name=None):
        if obj in (np._core.multiarray._reconstruct,
                   np._core.multiarray.scalar):
            self.write(pickle.GLOBAL + b'numpy.core.multiarray\n'
                       + obj.__name__.encode() + b'\n')
            self.memoize(obj)
            return
        super().save_global(obj, name)


def test_numpy1_and_numpy2_checkpoints_load(tmp_path):
    payload = {'meta': {'seed': np.int64(7), 'arr': np.arange(3.0)},
               'state_dict': {'w': torch.ones(2)}}
    numpy1, numpy2 = tmp_path / 'numpy1.pth', tmp_path / 'numpy2.pth'
    torch.save(payload, numpy1, pickle_module=types.SimpleNamespace(
        __name__='numpy1_pickle', Pickler=_Numpy1Pickler))
    torch.save(payload, numpy2)
    for path, module in ((numpy1, b'numpy.core.'), (numpy2, b'numpy._core.')):
        with zipfile.ZipFile(path) as z:
            data = z.read(next(n for n in z.namelist()
                               if n.endswith('data.pkl')))
        assert b'c' + module + b'multiarray\n_reconstruct' in data
        assert b'c' + module + b'multiarray\nscalar' in data
        loaded = load_checkpoint_file(path)
        assert loaded['meta']['seed'] == 7
        np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3.0))
    # numpy 2's names alone (as before) do not cover the numpy 1.x file
    with torch.serialization.safe_globals([
            np._core.multiarray._reconstruct, np._core.multiarray.scalar,
            np.ndarray, np.dtype, type(np.dtype('f8')),
            type(np.dtype('i8'))]):
        with pytest.raises(pickle.UnpicklingError, match='numpy.core'):
            torch.load(numpy1, weights_only=True)


def test_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('epoch 3: loss 0.25\n')
    with pytest.raises(CheckpointError,
                       match=r'notes\.pth is not a checkpoint') as e:
        _load_checkpoint(str(path))
    assert '\n' not in str(e.value)


# -------------------------------------------------------------- atomic saving
def test_full_disk_leaves_the_old_file_and_nothing_else(tmp_path,
                                                         monkeypatch):
    """ENOSPC part-way through the write (simulated: the writer raises
    OSError 28 after 1000 bytes): the old file is intact, no temporary file
    is left, one line names the file and the space it needs."""
    path = tmp_path / 'iter_4.pth'
    path.write_bytes(b'old complete checkpoint')

    def write_then_fail(f, data):
        f.write(bytes(data[:1000]))
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(compat, '_write_all', write_then_fail)
    with pytest.raises(CheckpointError) as e:
        write_file_atomically(b'x' * 3 * 2**20, str(path))
    message = str(e.value)
    assert '\n' not in message
    assert f'no space left to write {path}: it needs 3.0 MiB' in message
    assert 'MiB were free' in message
    assert path.read_bytes() == b'old complete checkpoint'
    assert os.listdir(tmp_path) == ['iter_4.pth']


def test_save_checkpoint_is_atomic_and_loads(tmp_path):
    path = tmp_path / 'iter_2.pth'
    training_checkpoint(path, it=2)
    check_training_checkpoint(str(path))
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_last_checkpoint_is_relative_and_read_both_ways(tmp_path,
                                                         log_messages):
    work = tmp_path / 'work'
    work.mkdir()
    write_last_checkpoint(str(work), str(work / 'iter_2.pth'))
    assert (work / 'last_checkpoint').read_text() == 'iter_2.pth'
    assert read_last_checkpoint(str(work)) == str(work / 'iter_2.pth')
    outside = str(tmp_path / 'elsewhere' / 'iter_2.pth')
    write_last_checkpoint(str(work), outside)
    assert read_last_checkpoint(str(work)) == outside
    write_last_checkpoint(str(work), URL)
    assert read_last_checkpoint(str(work)) == URL
    (work / 'last_checkpoint').write_text('')
    assert read_last_checkpoint(str(work)) is None
    assert any('last_checkpoint is empty' in m for m in log_messages)
    assert sorted(os.listdir(work)) == ['last_checkpoint']


class _FakeRunner:
    """What CheckpointHook uses of a Runner; ``save_checkpoint`` notes which
    checkpoints exist while it writes."""

    def __init__(self, work_dir):
        self.work_dir = str(work_dir)
        self.message_hub = MessageHub.get_instance(f'hub-{id(self)}')
        self.logger = MMLogger.get_current_instance()
        self.iter = self.epoch = 0
        self.seen = []

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        self.seen.append(sorted(os.listdir(out_dir)))
        training_checkpoint(osp.join(out_dir, filename), it=self.iter + 1)


def test_hook_writes_before_it_deletes(tmp_path):
    """max_keep_ckpts=1: the old checkpoint and last_checkpoint stay until
    the new checkpoint is complete."""
    runner = _FakeRunner(tmp_path)
    hook = CheckpointHook(interval=2, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    for runner.iter in (1, 3, 5):
        hook._save_checkpoint_with_step(runner, runner.iter + 1, {})
    assert runner.seen == [
        [], ['iter_2.pth', 'last_checkpoint'],
        ['iter_4.pth', 'last_checkpoint']]
    assert sorted(os.listdir(tmp_path)) == ['iter_6.pth', 'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_6.pth'
    assert runner.message_hub.get_info('keep_ckpt_ids') == [6]


def test_best_checkpoint_is_replaced_after_the_new_one_is_written(tmp_path):
    runner = _FakeRunner(tmp_path)
    hook = CheckpointHook(interval=1, by_epoch=False, save_best='acc',
                          rule='greater')
    hook.before_train(runner)
    for runner.iter, acc in ((1, 0.5), (2, 0.7)):
        hook._save_best_checkpoint(runner, {'acc': acc})
    assert runner.seen == [[], ['best_acc_iter_1.pth']]
    assert os.listdir(tmp_path) == ['best_acc_iter_2.pth']


# ------------------------------------------------------------------ resuming
def test_not_a_training_checkpoint_says_so(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'state_dict': {}}, path)
    with pytest.raises(CheckpointError) as e:
        check_training_checkpoint(str(path))
    assert str(e.value).startswith(
        f'{path} is not a training checkpoint: it has no meta, optimizer, '
        "message_hub (its keys: ['state_dict'])")


def test_resume_finds_the_newest_complete_checkpoint(tmp_path,
                                                     log_messages):
    """No last_checkpoint; iter_6 truncated (mmengine's in-place writer was
    killed), iter_4 a weights-only file: iter_2 is the one to resume."""
    training_checkpoint(tmp_path / 'iter_2.pth', it=2)
    torch.save({'state_dict': {}}, tmp_path / 'iter_4.pth')
    training_checkpoint(tmp_path / 'iter_6.pth', it=6)
    data = (tmp_path / 'iter_6.pth').read_bytes()
    (tmp_path / 'iter_6.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'iter_10.pth.tmp').write_bytes(b'unfinished')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'iter_2.pth')
    skipped = [m for m in log_messages if m.startswith('cannot resume from')]
    assert len(skipped) == 2 and 'iter_6.pth' in skipped[0] and \
        'truncated or corrupt' in skipped[0]
    assert 'iter_4.pth is not a training checkpoint' in skipped[1]


def test_resume_prefers_last_checkpoint_and_survives_its_loss(tmp_path):
    for it in (2, 4):
        training_checkpoint(tmp_path / f'iter_{it}.pth', it=it)
    write_last_checkpoint(str(tmp_path), str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)).endswith('iter_2.pth')
    # last_checkpoint names a deleted file (mmengine's max_keep_ckpts order)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_0.pth'))
    assert find_resume_checkpoint(str(tmp_path)).endswith('iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)).endswith('iter_4.pth')


def test_resume_stops_when_no_checkpoint_can_be_resumed(tmp_path):
    (tmp_path / 'iter_2.pth').write_bytes(b'')
    torch.save({'state_dict': {}}, tmp_path / 'epoch_1.pth')
    before = {p: (tmp_path / p).read_bytes() for p in os.listdir(tmp_path)}
    with pytest.raises(CheckpointError) as e:
        find_resume_checkpoint(str(tmp_path))
    assert '\n' not in str(e.value)
    assert 'none of the 2 checkpoint(s)' in str(e.value)
    assert 'iter_2.pth, epoch_1.pth' in str(e.value)
    assert before == {p: (tmp_path / p).read_bytes()
                      for p in os.listdir(tmp_path)}
    assert find_resume_checkpoint(str(tmp_path / 'empty')) is None


def test_resume_refuses_a_hostile_last_checkpoint(tmp_path, hub_dir, marker):
    """A URL in last_checkpoint that holds code stops the run (no silent
    fall-back to another file)."""
    hostile_checkpoint(hub_cache_path(URL), marker)
    training_checkpoint(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text(URL)
    with pytest.raises(UnsafeCheckpointError, match='refused'):
        find_resume_checkpoint(str(tmp_path))


# ------------------------------------------------------------- work dir lock
HOLD_LOCK = ('import sys, time\n'
             'from mmlightvit.engine import work_dir_lock\n'
             'with work_dir_lock(sys.argv[1]):\n'
             '    print("held", flush=True)\n'
             '    time.sleep(120)\n')


@contextlib.contextmanager
def live_holder(work_dir):
    """A process holding ``work_dir``'s lock."""
    proc = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(work_dir)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == 'held'
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_work_dir_held_by_a_live_run_is_refused(tmp_path):
    with live_holder(tmp_path) as holder:
        with pytest.raises(WorkDirBusyError) as e:
            with work_dir_lock(str(tmp_path)):
                pass
        assert f'pid {holder.pid} on {socket.gethostname()}' in str(e.value)
        assert 'in use by another training run' in str(e.value)
    # the holder was killed (-9): its lock is gone with it
    with work_dir_lock(str(tmp_path)):
        assert f'pid {os.getpid()}' in (tmp_path / 'train.lock').read_text()


def test_stale_lock_is_taken_over(tmp_path, log_messages):
    (tmp_path / 'train.lock').write_text('pid 4194304 on gone-host since x\n')
    (tmp_path / 'iter_4.pth.tmp').write_bytes(b'half a checkpoint')
    (tmp_path / 'last_checkpoint.tmp').write_bytes(b'iter_')
    (tmp_path / 'notes.tmp').write_bytes(b'not ours')
    with work_dir_lock(str(tmp_path)):
        pass
    assert any('taking over the lock of a run that is gone (pid 4194304 on '
               'gone-host' in m for m in log_messages)
    assert sorted(os.listdir(tmp_path)) == ['notes.tmp', 'train.lock']
    assert (tmp_path / 'train.lock').read_text() == ''


# ------------------------------------------------- end to end, tools/train.py
@pytest.fixture(scope='module')
def toy_ade(tmp_path_factory):
    return make_toy_ade20k(str(tmp_path_factory.mktemp('ade')), num_train=8,
                           num_val=2, size=64, seed=3)


def train_args(data_root, work_dir, *extra, iters=4, keep=1):
    opts = [f'{split}_dataloader.{key}' for split in ('train', 'val')
            for key in (f'dataset.data_root={data_root}', 'num_workers=0',
                        'persistent_workers=False')]
    return [CONFIG, '--work-dir', str(work_dir), *extra, '--cfg-options',
            *opts, 'train_dataloader.batch_size=2',
            f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=100',
            'default_hooks.checkpoint.interval=2',
            f'default_hooks.checkpoint.max_keep_ckpts={keep}',
            'randomness.seed=0', 'randomness.deterministic=True']


def train(*args, env=None):
    return run_tool('tools/train.py', *args, env=env)


def error_lines(out):
    return [line for line in out.splitlines() if line.startswith('error:')]


@pytest.fixture(scope='module')
def uninterrupted(toy_ade, tmp_path_factory):
    work = tmp_path_factory.mktemp('full')
    rc, out = train(*train_args(toy_ade, work))
    assert rc == 0, failure_summary(out)
    return torch.load(work / 'iter_4.pth', weights_only=False)['state_dict']


# tools/train.py, killed (SIGKILL) once it has written FRACTION of TARGET
# (but not when last_checkpoint first names iter_2.pth).
KILL_DURING = '''
import os, runpy, signal, sys
import mmlightvit.compat as compat
target, fraction = sys.argv[1], float(sys.argv[2])
real_write_all = compat._write_all
def write_then_die(f, data):
    if f.name.endswith(target + '.tmp') and bytes(data[:10]) != b'iter_2.pth':
        f.write(bytes(data[:int(len(data) * fraction)]))
        f.flush()
        os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    real_write_all(f, data)
compat._write_all = write_then_die
sys.argv = ['tools/train.py'] + sys.argv[3:]
runpy.run_path('tools/train.py', run_name='__main__')
'''


@pytest.mark.slow
@pytest.mark.parametrize('target, fraction', [
    ('iter_4.pth', 0.0), ('iter_4.pth', 0.999), ('last_checkpoint', 0.5)])
def test_kill_during_a_checkpoint_write_then_resume(toy_ade, tmp_path,
                                                    uninterrupted, target,
                                                    fraction):
    """kill -9 while iter_4 (or last_checkpoint) is written, with
    max_keep_ckpts=1: iter_2 and last_checkpoint survive; --resume continues
    from iter_2 and ends with the uninterrupted run's weights."""
    work = tmp_path / 'work'
    rc, out = run_tool('-c', KILL_DURING, target, str(fraction),
                       *train_args(toy_ade, work))
    assert rc == -signal.SIGKILL, out[-3000:]
    assert (work / f'{target}.tmp').exists()  # the unfinished write
    assert (work / 'last_checkpoint').read_text() == 'iter_2.pth'
    check_training_checkpoint(str(work / 'iter_2.pth'))
    # iter_4 is complete when the kill came while last_checkpoint was written
    assert (work / 'iter_4.pth').exists() == (target == 'last_checkpoint')

    rc, out = train(*train_args(toy_ade, work, '--resume'))
    assert rc == 0, failure_summary(out)
    assert f'removed {work}/{target}.tmp' in out
    assert f'resuming from {work}/iter_2.pth' in out
    assert 'Resumed the data order at iteration 2' in out
    assert sorted(p for p in os.listdir(work) if not p[0].isdigit()) == [
        'deeplabv3_emo-1m_1xb8-300iter_toy-ade20k-128x128.py', 'iter_4.pth',
        'last_checkpoint', 'train.lock']
    got = torch.load(work / 'iter_4.pth', weights_only=False)['state_dict']
    for key, value in uninterrupted.items():
        assert torch.equal(got[key], value), key


@contextlib.contextmanager
def small_disk(path, size='90m'):
    """A tmpfs of ``size`` at ``path``; None when mounting is not permitted
    (then the full disk is simulated)."""
    path.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}',
                              'tmpfs', str(path)], capture_output=True)
    try:
        yield path if mounted.returncode == 0 else None
    finally:
        if mounted.returncode == 0:
            subprocess.run(['umount', str(path)], check=True)


FAIL_WRITING = '''
import runpy, sys
import mmlightvit.compat as compat
real_write_all = compat._write_all
def no_space(f, data):
    if f.name.endswith('iter_4.pth.tmp'):
        f.write(bytes(data[:4096]))
        raise OSError(28, 'No space left on device')
    real_write_all(f, data)
compat._write_all = no_space
sys.argv = ['tools/train.py'] + sys.argv[1:]
runpy.run_path('tools/train.py', run_name='__main__')
'''


@pytest.mark.slow
def test_full_disk_then_moved_work_dir_resumes(toy_ade, tmp_path):
    """A 90 MB tmpfs holds iter_2 (65 MiB) but not iter_4 as well (when
    mounting is not permitted, the writer raises ENOSPC instead). The run
    stops with one line; iter_2 and last_checkpoint are intact. The work dir,
    moved to another disk, resumes."""
    with small_disk(tmp_path / 'disk') as disk:
        work = (disk or tmp_path) / 'work'
        args = train_args(toy_ade, work)
        rc, out = run_tool('-c', FAIL_WRITING, *args) if disk is None else \
            train(*args)
        assert rc == 1, out[-3000:]
        assert error_lines(out) == [out.strip().splitlines()[-1]]
        assert f'error: no space left to write {work}/iter_4.pth: it needs ' \
            in out
        assert '--- Logging error ---' not in out and 'Traceback' not in out
        assert (work / 'last_checkpoint').read_text() == 'iter_2.pth'
        assert not any(p.endswith('.tmp') for p in os.listdir(work))
        check_training_checkpoint(str(work / 'iter_2.pth'))
        moved = tmp_path / 'moved'
        shutil.copytree(work, moved)
    rc, out = train(*train_args(toy_ade, moved, '--resume'))
    assert rc == 0, failure_summary(out)
    assert f'resuming from {moved}/iter_2.pth' in out
    assert torch.load(moved / 'iter_4.pth', weights_only=False)['meta'][
        'iter'] == 4


@pytest.mark.slow
def test_resume_without_last_checkpoint_never_restarts(toy_ade, tmp_path):
    """iter_2.pth and a truncated iter_4.pth, no last_checkpoint (the case
    where mmengine restarted at iteration 1 and overwrote iter_2.pth):
    --resume continues from iter_2."""
    work = tmp_path / 'work'
    rc, out = train(*train_args(toy_ade, work, iters=2))
    assert rc == 0, failure_summary(out)
    (work / 'last_checkpoint').unlink()
    data = (work / 'iter_2.pth').read_bytes()
    (work / 'iter_4.pth').write_bytes(data[:len(data) // 3])
    rc, out = train(*train_args(toy_ade, work, '--resume', keep=-1))
    assert rc == 0, failure_summary(out)
    assert f'cannot resume from {work}/iter_4.pth' in out
    assert f'resuming from {work}/iter_2.pth' in out
    assert 'Resumed the data order at iteration 2' in out
    assert (work / 'iter_2.pth').read_bytes() == data
    assert torch.load(work / 'iter_4.pth', weights_only=False)['meta'][
        'iter'] == 4


@pytest.mark.slow
def test_second_run_on_a_held_work_dir_is_refused(toy_ade, tmp_path):
    work = tmp_path / 'work'
    with live_holder(work) as holder:
        rc, out = train(*train_args(toy_ade, work))
    assert rc == 1, out[-3000:]
    assert error_lines(out) == [out.strip().splitlines()[-1]]
    assert f'is in use by another training run (pid {holder.pid} ' in out
    assert not any(p.endswith('.pth') for p in os.listdir(work))


@pytest.mark.slow
@pytest.mark.parametrize('entry', ['--resume URL', 'last_checkpoint',
                                   'load_from', 'init_cfg'])
def test_hostile_url_refused_by_every_training_entry(toy_ade, tmp_path,
                                                     marker, entry):
    """The hostile checkpoint, served from a torch hub cache (TORCH_HOME),
    reaches tools/train.py as --resume URL, a URL in last_checkpoint,
    load_from and init_cfg=Pretrained: refused every time, code never run."""
    hostile_checkpoint(tmp_path / 'torch' / 'hub' / 'checkpoints' /
                       'model.pth', marker)
    env = dict(os.environ, TORCH_HOME=str(tmp_path / 'torch'))
    work = tmp_path / 'work'
    extra = {
        '--resume URL': ['--resume', URL],
        'last_checkpoint': ['--resume'],
        'load_from': ['--cfg-options', f'load_from={URL}'],
        'init_cfg': ['--cfg-options',  # the toy config has init_cfg=None
                     'model.backbone.init_cfg._delete_=True',
                     'model.backbone.init_cfg.type=Pretrained',
                     f'model.backbone.init_cfg.checkpoint={URL}'],
    }[entry]
    if entry == 'last_checkpoint':
        work.mkdir()
        (work / 'last_checkpoint').write_text(URL)
    args = train_args(toy_ade, work)
    if extra[0] == '--cfg-options':
        args += extra[1:]
    else:
        args[3:3] = extra
    rc, out = train(*args, env=env)
    assert rc == 1, out[-3000:]
    assert error_lines(out) == [out.strip().splitlines()[-1]]
    assert 'error: refused to load checkpoint ' in out and 'model.pth' in out
    assert not any(p.endswith('.pth') for p in os.listdir(work))
