"""Speed of this project's RepViT and MobileViT backbones against timm's
implementations of the same archs, in one run.

    python tools/analysis_tools/benchmark_timm.py [--archs repvit_m1_1 ...]
        [--shape H W] [--batch-size N] [--repeat N] [--warmup N]
        [--threads N] [--device cpu|cuda] [--out FILE.md]

For every arch both models are built (eval mode, same weights: timm's
random initialisation converted into ours, and the outputs compared) and
called on the same input, interleaved: each timed round runs every
candidate of the arch once, in an order that alternates between rounds, so
drifts of a shared machine hit all of them alike. Medians over the rounds are
compared, and the median of the per-round ratios ``ours / timm`` (< 1:
ours is faster), which a slow drift of the machine does not bias.

Candidates: RepViT: ours in training form, timm's ``repvit_*`` (training
form), ours after ``switch_to_deploy()`` and timm's after ``fuse()``;
MobileViT: ours (``final_conv=True``: up to the final 1x1 conv) and timm's
``mobilevit_*`` ``forward_features`` (the same layers). Inputs: 224x224 for
RepViT, 256x256 for MobileViT (their ImageNet sizes) unless ``--shape``.
"""
import argparse
import copy

import torch

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.tables import fmt_ms
from mmlightvit.apis.timing import summarize, time_once
from mmlightvit.models.backbones.mobilevit import MobileViT, convert_mobilevit
from mmlightvit.models.backbones.repvit import RepViT, convert_repvit

REPVIT_ARCHS = ('m0_9', 'm1_0', 'm1_1', 'm1_5', 'm2_3')
MOBILEVIT_ARCHS = ('xxs', 'xs', 's')
ALL_ARCHS = tuple(f'repvit_{a}' for a in REPVIT_ARCHS) + tuple(
    f'mobilevit_{a}' for a in MOBILEVIT_ARCHS)
DEFAULT_SHAPES = {'repvit': (224, 224), 'mobilevit': (256, 256)}


class _Features(torch.nn.Module):
    """timm model -> its ``forward_features`` (no pooling / classifier)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.forward_features(x)


def _load_timm_weights(ours, ref, convert):
    """timm's weights (random init) into ours: the two compute the same."""
    state = {k: v for k, v in convert(ref.state_dict()).items()
             if k in ours.state_dict()}
    missing, _ = ours.load_state_dict(state, strict=False)
    if missing:
        raise RuntimeError(f'timm weights miss {len(missing)} keys of ours, '
                           f'e.g. {missing[:3]}')


def build_candidates(name):
    """``{label: module}`` of one arch (see the module docstring), all in
    eval mode with the same weights."""
    import timm
    family, arch = name.split('_', 1)
    ref = timm.create_model(name, pretrained=False).eval()
    with torch.no_grad():  # live BN statistics, not the identity
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    if family == 'repvit':
        ours = RepViT(arch=arch, out_indices=(1, 2, 3, 4))
        _load_timm_weights(ours, ref, convert_repvit)
        ours.eval()
        ours_deploy = copy.deepcopy(ours)
        ours_deploy.switch_to_deploy()
        ref_fused = copy.deepcopy(ref).fuse().eval()
        return {'ours': ours, 'timm': _Features(ref),
                'ours deploy': ours_deploy.eval(),
                'timm fused': _Features(ref_fused)}
    ours = MobileViT(arch=arch, out_indices=(0, 1, 2, 3, 4),
                     final_conv=True)
    _load_timm_weights(ours, ref, convert_mobilevit)
    return {'ours': ours.eval(), 'timm': _Features(ref)}


def _last(out):
    return out[-1] if isinstance(out, (list, tuple)) else out


@torch.no_grad()
def check_same_outputs(candidates, x):
    """Max abs difference of every candidate's last feature map to
    'timm'."""
    ref = _last(candidates['timm'](x))
    return {label: (_last(m(x)) - ref).abs().max().item()
            for label, m in candidates.items() if label != 'timm'}


def benchmark_arch(name, shape, batch_size=1, repeat=30, warmup=5,
                   device='cpu'):
    """Times of every candidate of ``name`` (interleaved rounds)."""
    candidates = {k: m.to(device) for k, m in build_candidates(name).items()}
    x = torch.randn(batch_size, 3, *shape, device=device)
    diffs = check_same_outputs(candidates, x)
    labels = list(candidates)
    runs = {k: (lambda m=m: m(x)) for k, m in candidates.items()}
    for _ in range(warmup):
        for label in labels:
            time_once(runs[label], device)
    times = {label: [] for label in labels}
    for r in range(repeat):
        order = labels if r % 2 == 0 else labels[::-1]
        for label in order:
            times[label].append(time_once(runs[label], device))
    stats = {k: summarize(v) for k, v in times.items()}
    # per-round ratios to timm's time of the same round: robust to drifts
    for label in labels:
        ref = 'timm fused' if label == 'ours deploy' else 'timm'
        if label.startswith('ours') and ref in times:
            stats[label]['paired'] = summarize(
                [a / b for a, b in zip(times[label], times[ref])])
    return stats, diffs


def _cell(stats):
    return f'{fmt_ms(stats["median"])} ± {fmt_ms(stats["iqr"] / 2)}'


def _ratio(stats):
    """Median of the per-round ratios (p25-p75)."""
    p = stats['paired']
    return f'{p["median"]:.3f} ({p["p25"]:.2f}-{p["p75"]:.2f})'


def results_table(results):
    """Markdown: per arch ours vs timm; RepViT deploy rows."""
    lines = ['| arch | input | ours | timm | ours/timm | max abs diff |',
             '|---|---|---|---|---|---|']
    for name, (shape, stats, diffs) in results.items():
        lines.append(f'| {name} | {shape[0]}x{shape[1]} | '
                     f'{_cell(stats["ours"])} | {_cell(stats["timm"])} | '
                     f'{_ratio(stats["ours"])} | {diffs["ours"]:.1e} |')
    deploy = {k: v for k, v in results.items() if 'ours deploy' in v[1]}
    if deploy:
        lines += ['', '| arch | ours train | ours deploy | speed-up '
                  '(train/deploy) | timm fused | ours deploy/timm fused |',
                  '|---|---|---|---|---|---|']
        for name, (shape, stats, diffs) in deploy.items():
            train = stats['ours']['median']
            dep = stats['ours deploy']['median']
            fused = stats['timm fused']['median']
            lines.append(
                f'| {name} | {_cell(stats["ours"])} | '
                f'{_cell(stats["ours deploy"])} | {train / dep:.2f}x | '
                f'{_cell(stats["timm fused"])} | '
                f'{_ratio(stats["ours deploy"])} |')
    lines += ['', 'Times: medians over interleaved rounds ± half the IQR. '
              'Ratios: median (p25-p75) over the rounds of ours / timm in '
              'the same round; < 1 means ours is faster.']
    return '\n'.join(lines) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='RepViT / MobileViT backbones: ours vs timm')
    parser.add_argument('--archs', nargs='+', default=list(ALL_ARCHS),
                        choices=ALL_ARCHS, metavar='ARCH',
                        help=f'timm names (default: all of {ALL_ARCHS})')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: 224 RepViT, 256 '
                        'MobileViT)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=30,
                        help='timed rounds per arch')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1: steadier)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='also write the tables here')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    for i, name in enumerate(args.archs, 1):
        shape = tuple(args.shape or DEFAULT_SHAPES[name.split('_')[0]])
        stats, diffs = benchmark_arch(name, shape, args.batch_size,
                                      args.repeat, args.warmup, args.device)
        results[name] = (shape, stats, diffs)
        print(f'[{i}/{len(args.archs)}] {name}: ours {_cell(stats["ours"])}'
              f', timm {_cell(stats["timm"])}, ours/timm '
              f'{_ratio(stats["ours"])}', flush=True)
    table = results_table(results)
    device = args.device if args.device != 'cpu' else \
        f'cpu, {torch.get_num_threads()} thread(s)'
    header = (f'Backbones, batch {args.batch_size}, {device}, '
              f'{args.repeat} rounds\n\n')
    print('\n' + header + table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(header + table)
        print(f'tables written to {args.out}')
    return results


if __name__ == '__main__':
    run_cli(main)
