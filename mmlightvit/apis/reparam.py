"""Re-parameterisation of a whole model or checkpoint: every module with a
``switch_to_deploy()`` (RepViT's backbone) folded, the deploy-form weights
saved, and the deploy form checked against the training form."""
import copy
import os
import os.path as osp
import shutil

import torch
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import weights_to_cpu

from ..compat import load_local_checkpoint
from .model import build_model, load_model_config, num_params


@torch.no_grad()
def switch_to_deploy(model):
    """Call ``switch_to_deploy()`` on the outermost modules of ``model`` that
    have it (their own children are handled by them) and return their
    names; empty when nothing in the model can be re-parameterised."""
    names = []
    for name, module in model.named_modules():
        if any(n == '' or name == n or name.startswith(n + '.')
               for n in names):
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
    """Flat list of the model's raw (mode='tensor') output tensors; for
    two-stage detectors (whose 'tensor' mode needs image metas for its
    proposals) the features and the RPN's raw outputs."""
    if hasattr(model, 'rpn_head'):
        feats = model.extract_feat(x)
        out = (feats, model.rpn_head(feats))
    else:
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


def reparameterize_checkpoint(cfg, checkpoint, out, check_shape=(64, 64)):
    """Write the deploy form of ``checkpoint`` (strictly loaded into the
    model of ``cfg``) to ``out``; copy it unchanged when the model has
    nothing to re-parameterise.

    Returns a dict: switched (module names), out, cfg_options (that build
    the deploy form) and, when ``check_shape`` is given, the check of ``out``
    loaded strictly into the deploy-form model against the training form on
    one random input: max_abs_diff, scale, params (training, deploy).
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    model = build_model(cfg, with_aux=True)
    state = load_checkpoint(model, checkpoint, map_location='cpu',
                            strict=True)
    reference = copy.deepcopy(model) if check_shape else None
    names = switch_to_deploy(model)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if not names:
        if osp.abspath(checkpoint) != osp.abspath(out):
            shutil.copyfile(checkpoint, out)
        return dict(switched=[], out=out)
    meta = dict(state.get('meta', {}) or {}, deploy=True)
    torch.save({'meta': meta, 'state_dict': weights_to_cpu(
        model.state_dict())}, out)
    result = dict(switched=names, out=out,
                  cfg_options=deploy_cfg_options(names))
    if not check_shape:
        return result
    deployed = build_model(load_model_config(cfg, result['cfg_options']),
                           with_aux=True)
    deployed.load_state_dict(
        load_local_checkpoint(out, map_location='cpu')['state_dict'],
        strict=True)
    x = torch.randn(1, 3, *check_shape)
    with torch.no_grad():
        diff, scale = max_difference(raw_outputs(reference, x),
                                     raw_outputs(deployed, x))
    result.update(max_abs_diff=diff, scale=scale,
                  params=(num_params(reference), num_params(deployed)))
    return result
