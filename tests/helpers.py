"""Plain helpers shared by the test modules (fixtures are in conftest.py)."""
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def run_tool(*args, env=None):
    """Run ``python ARGS`` in the repository root; ``(returncode, output)``.

    One OpenMP thread: on a busy 2-core machine two threads make the tiny
    iterations of the tool tests many times slower."""
    env = dict(os.environ if env is None else env, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr
