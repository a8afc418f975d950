"""Write a deploy-form checkpoint: the model's re-parameterisable modules
(RepViT's backbone) folded by their ``switch_to_deploy()``.

    python tools/deployment/reparameterize.py CONFIG CHECKPOINT OUT
        [--cfg-options k=v ...] [--shape H W] [--no-check]

The result loads into the same config built in deploy form, e.g.

    python tools/test.py CONFIG OUT --cfg-options model.backbone.deploy=True

and gives the same outputs as CHECKPOINT in the training form (in eval mode):
the tool checks that on one random input (``--no-check`` skips it) and
prints the largest difference. Families without re-parameterisation (EMO,
MobileViT, ExMobileViT: no ``switch_to_deploy``) have no deploy form: the
tool says so and copies CHECKPOINT to OUT unchanged.

:func:`switch_to_deploy` is shared with ``benchmark.py --deploy`` and
``pytorch2onnx.py --deploy``.
"""
import argparse
import copy
import os
import os.path as osp
import shutil
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for path in (ROOT, osp.join(ROOT, 'tools', 'analysis_tools')):
    if path not in sys.path:
        sys.path.insert(0, path)

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402
from mmengine.runner.checkpoint import weights_to_cpu  # noqa: E402

from get_flops import (build_model, load_model_config,  # noqa: E402
                       task_of)
from mmlightvit.compat import load_local_checkpoint  # noqa: E402
from mmlightvit.apis.cli import run_cli  # noqa: E402

RTOL = 1e-3  # max |deploy - train| / max |train| accepted by the check


@torch.no_grad()
def switch_to_deploy(model):
    """Call ``switch_to_deploy()`` on the outermost modules of ``model`` that
    have it (their own children are handled by them) and return their
    names; empty when nothing in the model can be re-parameterised."""
    names = []
    for name, module in model.named_modules():
        if any(name == n or name.startswith(n + '.') for n in names):
            continue
        if callable(getattr(module, 'switch_to_deploy', None)):
            names.append(name)
    modules = dict(model.named_modules())
    for name in names:
        modules[name].switch_to_deploy()
    return names


def deploy_cfg_options(names):
    """``--cfg-options`` that build the switched modules in deploy form."""
    return {f'model.{name}.deploy': True for name in names if name}


def raw_outputs(model, x):
    """Flat list of the model's raw (mode='tensor') output tensors."""
    out = model(x, mode='tensor')
    flat, stack = [], [out]
    while stack:
        item = stack.pop(0)
        if torch.is_tensor(item):
            flat.append(item)
        elif isinstance(item, (list, tuple)):
            stack[:0] = list(item)
        elif isinstance(item, dict):
            stack[:0] = list(item.values())
    return flat


def max_difference(outs_a, outs_b):
    """(max abs difference, max abs value of ``outs_a``)."""
    diff = max((a - b).abs().max().item() for a, b in zip(outs_a, outs_b))
    scale = max(a.abs().max().item() for a in outs_a)
    return diff, scale


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Save a re-parameterised (deploy-form) checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint (training form)')
    parser.add_argument('out', help='deploy-form checkpoint to write')
    parser.add_argument('--shape', type=int, nargs=2, default=(64, 64),
                        metavar=('H', 'W'),
                        help='input size of the equivalence check')
    parser.add_argument('--no-check', action='store_true',
                        help='skip loading OUT into the deploy-form model '
                        'and comparing outputs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_model_config(args.config, args.cfg_options)
    model = build_model(cfg, with_aux=True)
    checkpoint = load_checkpoint(model, args.checkpoint, map_location='cpu',
                                 strict=True)
    reference = copy.deepcopy(model) if not args.no_check else None
    names = switch_to_deploy(model)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    if not names:
        backbone = cfg.model.get('backbone', {}).get('type', 'this model')
        print(f'{backbone} has no re-parameterisation (no module with '
              f'switch_to_deploy): {args.checkpoint} copied unchanged to '
              f'{args.out}')
        if osp.abspath(args.checkpoint) != osp.abspath(args.out):
            shutil.copyfile(args.checkpoint, args.out)
        return dict(switched=[], out=args.out)

    meta = dict(checkpoint.get('meta', {}) or {})
    meta['deploy'] = True
    torch.save({'meta': meta, 'state_dict': weights_to_cpu(
        model.state_dict())}, args.out)
    options = deploy_cfg_options(names)
    print(f'switched to deploy form: {", ".join(names)}')
    print(f'deploy-form checkpoint written to {args.out}; load it with '
          '--cfg-options ' + ' '.join(f'{k}=True' for k in options))
    result = dict(switched=names, out=args.out, cfg_options=options)
    if args.no_check:
        return result

    deploy_cfg = load_model_config(cfg, options)
    deployed = build_model(deploy_cfg, with_aux=True)
    state = load_local_checkpoint(args.out, map_location='cpu')['state_dict']
    deployed.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, *args.shape)
    with torch.no_grad():
        diff, scale = max_difference(raw_outputs(reference, x),
                                     raw_outputs(deployed, x))
    n_train, n_deploy = (sum(p.numel() for p in m.parameters())
                         for m in (reference, deployed))
    print(f'check ({task_of(cfg)}, input {args.shape[0]}x{args.shape[1]}): '
          f'params {n_train} -> {n_deploy}; max abs difference to the '
          f'training form {diff:.3g} (outputs up to {scale:.3g})')
    if diff > RTOL * max(scale, 1e-6):
        sys.exit(f'error: the deploy-form model differs from the training '
                 f'form by {diff:.3g} (> {RTOL:g} x {scale:.3g})')
    result.update(max_abs_diff=diff, scale=scale, params=(n_train, n_deploy))
    return result


if __name__ == '__main__':
    run_cli(main)
