"""One table of the final metrics of finished runs, from mmengine's logs.

    python tools/analysis_tools/results_table.py WORK_DIR [WORK_DIR ...]
        [--out table.md] [--csv table.csv] [--no-flops] [--shape H W]

For every work dir (``tools/train.py --work-dir``; ``tools/test.py`` with the
same ``--work-dir`` adds its results there) the final metrics are taken from
its logs, newest first:

* ``<work_dir>/<timestamp>/<timestamp>.json``: the results of
  ``tools/test.py`` (one JSON object), else
* ``<work_dir>/<timestamp>/vis_data/scalars.json`` (or ``<timestamp>.json``
  beside it): the last validation entry of the training run (JSON lines).

Metrics: segmentation ``aAcc`` / ``mIoU`` / ``mAcc``; detection
``coco/bbox_mAP`` / ``_50`` / ``_75`` / ``_s`` / ``_m`` / ``_l``, which mmdet
logs as fractions and the table gives in percent (as papers do);
classification ``accuracy/top1`` / ``top5``. Beside them: params and FLOPs of
the run's config (the one mmengine dumped into the work dir, counted by
``get_flops.py``) and the published number of the same model
(``mmlightvit/published.py``) where there is one.
"""
import argparse
import csv
import glob
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
for path in (ROOT, osp.join(ROOT, 'tools', 'analysis_tools')):
    if path not in sys.path:
        sys.path.insert(0, path)

from get_flops import (fmt_flops, fmt_params, load_model_config,  # noqa: E402
                       model_complexity)
from mmlightvit.apis.cli import run_cli  # noqa: E402
from mmlightvit.published import (METRIC_NAMES, describe_config,  # noqa: E402
                                  format_metrics, lookup)

SEG_METRICS = ('mIoU', 'aAcc', 'mAcc')
DET_METRICS = tuple(f'coco/bbox_mAP{s}'
                    for s in ('', '_50', '_75', '_s', '_m', '_l'))
CLS_METRICS = ('accuracy/top1', 'accuracy/top5')
METRICS = SEG_METRICS + DET_METRICS + CLS_METRICS
PERCENT_FROM_FRACTION = set(DET_METRICS)  # mmdet logs 0.344 for 34.4 AP


def _read_json_lines(path):
    entries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut by a killed run
    return entries


def _metrics_of(entry):
    return {k: entry[k] for k in METRICS if isinstance(
        entry.get(k), (int, float))}


def _run_dirs(work_dir):
    """``<work_dir>/<timestamp>`` folders, newest first."""
    dirs = [d for d in glob.glob(osp.join(work_dir, '*'))
            if osp.isdir(d) and (osp.isdir(osp.join(d, 'vis_data'))
                                 or glob.glob(osp.join(d, '*.json')))]
    return sorted(dirs, key=osp.basename, reverse=True)


def final_metrics(work_dir):
    """``(metrics, source, step)`` of the newest results in ``work_dir``:
    source 'test' (tools/test.py) or 'val' (last validation of training;
    step = its iteration/epoch); ``({}, None, None)`` if there are none."""
    for run in _run_dirs(work_dir):
        stamp = osp.basename(run)
        test_json = osp.join(run, f'{stamp}.json')
        if osp.isfile(test_json):
            for entry in reversed(_read_json_lines(test_json)):
                metrics = _metrics_of(entry)
                if metrics:
                    return metrics, 'test', None
        for name in ('scalars.json', f'{stamp}.json'):
            path = osp.join(run, 'vis_data', name)
            if not osp.isfile(path):
                continue
            for entry in reversed(_read_json_lines(path)):
                metrics = _metrics_of(entry)
                if metrics:
                    return metrics, 'val', entry.get('step')
    return {}, None, None


def run_config(work_dir):
    """The config mmengine dumped for the run: ``<work_dir>/<name>.py``,
    else the newest ``<timestamp>/vis_data/config.py``; None if neither."""
    dumped = sorted(glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime)
    if dumped:
        return dumped[-1]
    for run in _run_dirs(work_dir):
        path = osp.join(run, 'vis_data', 'config.py')
        if osp.isfile(path):
            return path
    return None


def collect(work_dirs, flops=True, shape=None):
    """One dict per work dir: name, config, task, metrics, source, step,
    params, flops, shape, published (entry or None), error."""
    rows = []
    for work_dir in work_dirs:
        row = dict(work_dir=work_dir, name=osp.basename(osp.normpath(
            work_dir)), config=None, task='', metrics={}, source=None,
            step=None, params=None, flops=None, shape=None, published=None,
            error='')
        if not osp.isdir(work_dir):
            row['error'] = 'no such folder'
            rows.append(row)
            continue
        row['metrics'], row['source'], row['step'] = final_metrics(work_dir)
        if not row['metrics']:
            row['error'] = 'no metrics in the logs (run not finished?)'
        row['config'] = run_config(work_dir)
        if row['config']:
            try:
                cfg = load_model_config(row['config'])
                row['task'] = describe_config(cfg)['task']
                row['published'] = lookup(cfg)
                if flops:
                    res = model_complexity(cfg, shape)
                    row.update(params=res['params'], flops=res['flops'],
                               shape=res['shape'])
            except Exception as e:  # keep the metrics of a broken config
                row['error'] = (row['error'] + '; ' if row['error'] else '') \
                    + f'config: {type(e).__name__}: {e}'.splitlines()[0]
        rows.append(row)
    return rows


def _value(key, value):
    return value * 100 if key in PERCENT_FROM_FRACTION else value


def table_columns(rows):
    """Metric keys present in any row, in METRICS order."""
    present = {k for r in rows for k in r['metrics']}
    return [k for k in METRICS if k in present]


def to_records(rows):
    """Flat records (column -> text) for Markdown and CSV."""
    columns = table_columns(rows)
    records = []
    for r in rows:
        rec = {'run': r['name'], 'task': r['task'],
               'config': osp.basename(r['config']) if r['config'] else ''}
        for k in columns:
            rec[METRIC_NAMES.get(k, k)] = (
                f'{_value(k, r["metrics"][k]):.2f}' if k in r['metrics']
                else '')
        rec['from'] = ('' if r['source'] is None else r['source'] + (
            f' @{r["step"]}' if r['step'] is not None else ''))
        rec['params'] = fmt_params(r['params']) if r['params'] else ''
        rec['FLOPs'] = fmt_flops(r['flops']) if r['flops'] else ''
        rec['input'] = f'{r["shape"][0]}x{r["shape"][1]}' if r['shape'] \
            else ''
        pub = r['published']
        rec['published'] = format_metrics(pub)
        rec['published params'] = (pub or {}).get('params') or ''
        rec['published FLOPs'] = (pub or {}).get('flops') or ''
        rec['source'] = (pub or {}).get('source') or ''
        rec['note'] = r['error']
        records.append(rec)
    return records


def to_markdown(records):
    if not records:
        return ''
    header = list(records[0])
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for rec in records:
        lines.append('| ' + ' | '.join(
            str(rec[h]).replace('|', '/') for h in header) + ' |')
    return '\n'.join(lines) + '\n'


def write_csv(records, path):
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


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
    table = to_markdown(records)
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
