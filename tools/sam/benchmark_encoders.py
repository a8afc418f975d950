"""Latency of SAM image encoders at SAM's input size, in one run: this
project's RepViT-SAM (training and re-parameterised form), EMO-SAM and
MobileViT-SAM against SAM's ViT-B (``segment-anything``) and timm's
TinyViT-5M (MobileSAM's encoder family), all with random weights.

    python tools/sam/benchmark_encoders.py [--img-size 1024] [--repeat 5]
        [--warmup 1] [--threads N] [--device cpu|cuda] [--out FILE.md]
        [--encoders repvit repvit-deploy emo mobilevit vit_b tinyvit_5m]

Every timed round runs each encoder once on the same 1x3xSxS input, in an
order that alternates between rounds, so drifts of a shared machine hit all
alike. Printed: the median latency (± half the interquartile range) and,
for each encoder, the median over rounds of ``ViT-B time / its time`` and
``TinyViT-5M time / its time`` (speed-ups; > 1 = faster than that one).
SAM ViT-B is built as ``sam_model_registry['vit_b']`` builds it (its
position embedding sized for the input). TinyViT-5M is timm's
``tiny_vit_5m_224`` (timm's TinyViT takes no ``img_size``: its windowed
attention pads any input) run at the same input without pooling and classifier;
its last stage is at stride 32, where MobileSAM's TinyViT keeps 16, so
MobileSAM's encoder costs somewhat more than this row.
"""
import argparse
import os.path as osp
import statistics
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

import torch  # noqa: E402

from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.apis.tables import fmt_ms, markdown_table  # noqa: E402
from mmlightvit.apis.timing import summarize, time_once  # noqa: E402
from mmlightvit.sam.build import build_sam  # noqa: E402
from mmlightvit.sam.teacher import sam_vit_encoder  # noqa: E402

ENCODERS = ('repvit', 'repvit-deploy', 'emo', 'mobilevit', 'vit_b',
            'tinyvit_5m')
LABELS = {
    'repvit': 'RepViT-SAM (M2.3, ours)',
    'repvit-deploy': 'RepViT-SAM (M2.3, ours, deploy)',
    'emo': 'EMO-SAM (5M, ours)',
    'mobilevit': 'MobileViT-SAM (S, ours)',
    'vit_b': 'SAM ViT-B (segment-anything)',
    'tinyvit_5m': 'TinyViT-5M (timm)',
}


def build_encoder(name, img_size):
    """The image encoder ``name`` (see ``ENCODERS``), eval mode."""
    if name == 'vit_b':
        return sam_vit_encoder('vit_b', img_size).eval()
    if name == 'tinyvit_5m':
        import timm
        # no pooling, no classifier: the feature map (after the head's norm)
        return timm.create_model('tiny_vit_5m_224', num_classes=0,
                                 global_pool='').eval()
    encoder = build_sam(name.split('-')[0], img_size=img_size).image_encoder
    if name.endswith('-deploy'):
        encoder.switch_to_deploy()
    return encoder.eval()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--encoders', nargs='+', choices=ENCODERS,
                        default=list(ENCODERS))
    parser.add_argument('--img-size', type=int, default=1024)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='also write the table to this file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    x = torch.randn(1, 3, args.img_size, args.img_size, device=args.device)
    models, shapes = {}, {}
    for name in args.encoders:
        models[name] = build_encoder(name, args.img_size).to(args.device)
        with torch.inference_mode():
            shapes[name] = tuple(models[name](x).shape[1:])
    times = {name: [] for name in models}
    names = list(models)
    for r in range(args.warmup + args.repeat):
        for name in names if r % 2 == 0 else names[::-1]:
            t = time_once(lambda: models[name](x), args.device)
            if r >= args.warmup:
                times[name].append(t)
        print(f'round {r + 1}/{args.warmup + args.repeat} ({args.warmup} '
              'warm-up)', file=sys.stderr, flush=True)
    refs = [n for n in ('vit_b', 'tinyvit_5m') if n in times]
    rows = []
    for name in names:
        s = summarize(times[name])
        ratios = []
        for ref in refs:
            per_round = sorted(a / b for a, b in zip(times[ref], times[name]))
            ratios.append(f'{statistics.median(per_round):.2f}x')
        params = sum(p.numel() for p in models[name].parameters()) / 1e6
        rows.append([LABELS[name], f'{params:.2f}M',
                     'x'.join(map(str, shapes[name])),
                     f'{fmt_ms(s["median"])} ± {fmt_ms(s["iqr"] / 2)}',
                     *ratios])
    title = (f'SAM image encoders, 1x3x{args.img_size}x{args.img_size}, '
             f'{args.device}, {torch.get_num_threads()} thread(s), '
             f'{args.repeat} rounds, random weights')
    header = ['encoder', 'params', 'output', 'latency',
              *(f'speed-up vs {LABELS[n]}' for n in refs)]
    table = '\n'.join([title, ''] + markdown_table(header, rows))
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    run_cli(main)
