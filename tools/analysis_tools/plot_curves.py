"""Loss and metric curves of a training run, as a PNG.

    python tools/analysis_tools/plot_curves.py WORK_DIR [--out curves.png]
        [--keys loss decode.loss_ce ...] [--metrics mIoU ...]

Reads every ``<WORK_DIR>/<timestamp>/vis_data/scalars.json`` (mmengine's
LocalVisBackend, through :func:`mmlightvit.apis.logs.read_scalars`; a
resumed run adds a folder, later folders win on the same iteration) and
draws two panels: the training losses per iteration (default: every logged
key with 'loss' in its name) and the validation metrics per iteration
(default: the mmseg / mmdet / mmpretrain metrics found, e.g. mIoU / aAcc /
mAcc, coco/bbox_mAP, accuracy/top1). Rendered with matplotlib's Agg backend
(no display needed).
"""
import argparse
import os.path as osp

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.logs import METRICS, read_scalars


def _series(entries, key):
    steps = sorted(s for s, e in entries.items()
                   if isinstance(e.get(key), (int, float)))
    return steps, [entries[s][key] for s in steps]


def plot_curves(work_dir, out, keys=None, metrics=None, title=None):
    """Write the PNG; returns ``(loss keys, metric keys, number of training
    points, number of validation points)``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    train, val = read_scalars(work_dir)
    if keys is None:
        keys = sorted({k for e in train.values() for k in e if 'loss' in k},
                      key=lambda k: (k != 'loss', k))
    if metrics is None:
        found = {k for e in val.values() for k in e}
        metrics = [k for k in METRICS if k in found]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for key in keys:
        steps, values = _series(train, key)
        if steps:
            axes[0].plot(steps, values, label=key,
                         linewidth=2 if key == 'loss' else 1)
    axes[0].set_title('training loss')
    for key in metrics:
        steps, values = _series(val, key)
        if steps:
            axes[1].plot(steps, values, marker='o', label=key)
    axes[1].set_title('validation metrics')
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if not metrics:
        axes[1].text(0.5, 0.5, 'no validation metrics logged',
                     ha='center', va='center', transform=axes[1].transAxes)
    fig.suptitle(title or osp.basename(osp.normpath(work_dir)))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return keys, metrics, len(train), len(val)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot the loss and metric curves of a run')
    parser.add_argument('work_dir', help='the run\'s work dir')
    parser.add_argument('--out', default='curves.png', help='PNG to write')
    parser.add_argument('--keys', nargs='+',
                        help='loss keys (default: all with "loss")')
    parser.add_argument('--metrics', nargs='+',
                        help='metric keys (default: the known metrics found)')
    parser.add_argument('--title', help='figure title (default: work dir)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    keys, metrics, n_train, n_val = plot_curves(
        args.work_dir, args.out, args.keys, args.metrics, args.title)
    print(f'{n_train} training / {n_val} validation points; losses: '
          f'{", ".join(keys) or "none"}; metrics: '
          f'{", ".join(metrics) or "none"}\ncurves written to {args.out}')
    return keys, metrics, n_train, n_val


if __name__ == '__main__':
    run_cli(main)
