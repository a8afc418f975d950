"""The rows of ``tools/analysis_tools/results_table.py``: per work dir the
final metrics (:mod:`.logs`), params and FLOPs of the run's config
(:mod:`.flops`) and the published numbers of the same model
(:mod:`.model_zoo`)."""
import os.path as osp

from .flops import model_complexity
from .logs import (METRIC_NAMES, METRICS, PERCENT_FROM_FRACTION,
                   final_metrics, run_config)
from .model import load_model_config
from .model_zoo import describe_config, lookup, published_cells
from .tables import fmt_flops, fmt_params


def collect(work_dirs, flops=True, shape=None):
    """One dict per work dir: work_dir, name, config, task, metrics, source,
    step, params, flops, shape, published (zoo entry or None), error."""
    rows = []
    for work_dir in work_dirs:
        row = dict(work_dir=work_dir, name=osp.basename(osp.normpath(
            work_dir)), config=None, task='', metrics={}, source=None,
            step=None, params=None, flops=None, shape=None, published=None,
            error='')
        rows.append(row)
        if not osp.isdir(work_dir):
            row['error'] = 'no such folder'
            continue
        row['metrics'], row['source'], row['step'] = final_metrics(work_dir)
        if not row['metrics']:
            row['error'] = 'no metrics in the logs (run not finished?)'
        row['config'] = run_config(work_dir)
        if not row['config']:
            continue
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
    return rows


def _value(key, value):
    return value * 100 if key in PERCENT_FROM_FRACTION else value


def table_columns(rows):
    """Metric keys present in any row, in :data:`METRICS` order."""
    present = {k for r in rows for k in r['metrics']}
    return [k for k in METRICS if k in present]


def to_records(rows):
    """Flat records (column -> text) for Markdown and CSV; detection
    metrics in percent."""
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
        rec.update(zip(('published', 'published params', 'published FLOPs',
                        'source'), published_cells(r['published'])))
        rec['note'] = r['error']
        records.append(rec)
    return records
