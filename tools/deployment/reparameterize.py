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
tool says so and copies CHECKPOINT to OUT unchanged. The work is done by
:func:`mmlightvit.apis.reparam.reparameterize_checkpoint`.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.model import load_model_config, task_of
from mmlightvit.apis.reparam import reparameterize_checkpoint

RTOL = 1e-3  # max |deploy - train| / max |train| accepted by the check


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
    cfg = load_model_config(args.config, args.cfg_options)
    result = reparameterize_checkpoint(
        cfg, args.checkpoint, args.out,
        check_shape=None if args.no_check else tuple(args.shape))
    if not result['switched']:
        backbone = cfg.model.get('backbone', {}).get('type', 'this model')
        print(f'{backbone} has no re-parameterisation (no module with '
              f'switch_to_deploy): {args.checkpoint} copied unchanged to '
              f'{args.out}')
        return result
    print(f'switched to deploy form: {", ".join(result["switched"])}')
    print(f'deploy-form checkpoint written to {args.out}; load it with '
          '--cfg-options ' + ' '.join(
              f'{k}=True' for k in result['cfg_options']))
    if 'max_abs_diff' not in result:
        return result
    diff, scale = result['max_abs_diff'], result['scale']
    n_train, n_deploy = result['params']
    print(f'check ({task_of(cfg)}, input {args.shape[0]}x{args.shape[1]}): '
          f'params {n_train} -> {n_deploy}; max abs difference to the '
          f'training form {diff:.3g} (outputs up to {scale:.3g})')
    if diff > RTOL * max(scale, 1e-6):
        sys.exit(f'error: the deploy-form model differs from the training '
                 f'form by {diff:.3g} (> {RTOL:g} x {scale:.3g})')
    return result


if __name__ == '__main__':
    run_cli(main)
