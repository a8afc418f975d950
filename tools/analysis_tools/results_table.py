"""One table of the final metrics of finished runs, from mmengine's logs.

    python tools/analysis_tools/results_table.py WORK_DIR [WORK_DIR ...]
        [--out table.md] [--csv table.csv] [--no-flops] [--shape H W]

For every work dir (``tools/train.py --work-dir``; ``tools/test.py`` with the
same ``--work-dir`` adds its results there) the final metrics come from its
logs, newest first: the results of ``tools/test.py``
(``<timestamp>/<timestamp>.json``), else the last validation of the training
run (``<timestamp>/vis_data/scalars.json``). Detection metrics, which mmdet
logs as fractions, are given in percent (as papers do). Beside them: params
and FLOPs of the run's dumped config (as ``get_flops.py`` counts them) and the
published numbers of the same model from the metafiles, where there are some.
"""
import argparse

from mmlightvit.apis.cli import run_cli
from mmlightvit.apis.results import collect, to_records
from mmlightvit.apis.tables import markdown_table, write_csv


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Table of the final metrics of finished runs')
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument('--out', help='write the Markdown table here')
    parser.add_argument('--csv', help='write the table as CSV here')
    parser.add_argument('--no-flops', action='store_true',
                        help='skip params / FLOPs (no model is built)')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size of the FLOPs (default as get_flops)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    rows = collect(args.work_dirs, flops=not args.no_flops, shape=args.shape)
    records = to_records(rows)
    table = '\n'.join(markdown_table(
        list(records[0]), [list(r.values()) for r in records])) + '\n'
    print(table, end='')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)
        print(f'Markdown table written to {args.out}')
    if args.csv:
        write_csv(records, args.csv)
        print(f'CSV written to {args.csv}')
    return rows


if __name__ == '__main__':
    run_cli(main)
