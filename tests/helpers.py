"""Plain helpers shared by the test modules (fixtures are in conftest.py)."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import torch
from torch.nn.modules.batchnorm import _BatchNorm

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@torch.no_grad()
def randomise(model, seed=0):
    """``model`` in eval mode with random biases and norm affines (around 0
    and 1) and BN running statistics, O(1) so that features stay
    well-scaled: the same weights loaded into two models then say whether
    they compute the same thing."""
    torch.manual_seed(seed)
    for name, p in model.named_parameters():
        if p.ndim == 1:
            p.copy_(float(name.endswith('weight')) + 0.2 * torch.randn_like(p))
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 2.)
    return model.eval()


def free_port():
    """A TCP port free on 127.0.0.1 now (for a torchrun master)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def failure_summary(output, context=3):
    """The lines of a failed run's ``output`` that say why (errors and the
    lines around them), then its tail: an assertion message whose cause
    survives when a long log is cut in the middle."""
    lines = output.splitlines()
    hits = sorted({j for i, line in enumerate(lines)
                   if re.search(r'Error|Exception|Traceback|error:|Killed|'
                                r'exitcode|Signal', line)
                   for j in range(max(0, i - context),
                                  min(len(lines), i + context + 1))})
    why = '\n'.join(lines[i] for i in hits[-80:])
    return f'--- why ---\n{why}\n--- tail ---\n' + '\n'.join(lines[-30:])


def run_tool(*args, env=None):
    """Run ``python ARGS`` in the repository root; ``(returncode, output)``.

    One OpenMP thread: on a busy 2-core machine two threads make the tiny
    iterations of the tool tests many times slower."""
    env = dict(os.environ if env is None else env, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr
