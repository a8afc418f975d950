"""One command from a published row of the model zoo to the number it
reproduces (``tools/reproduce.py``).

A row is a model of the metafiles (``configs/<family>/metafile.yml``) with
published ``Results``. :func:`reproduce` trains its config through
``tools/dist_train.sh`` with the published GPU count (the ``<gpus>xb<batch>``
of the config name), tests the last checkpoint through
``tools/dist_test.sh``, and writes ``reproduce.md`` and ``reproduce.csv`` in
the work dir: every published metric beside the reproduced one and their
difference (reproduced - published, in the metafile's units: percent).
"""
import difflib
import os.path as osp
import re
import shlex
import subprocess

from ..compat import read_last_checkpoint
from .logs import PERCENT_FROM_FRACTION, final_metrics
from .model_zoo import format_metrics, load_model_index, project_root
from .tables import markdown_table, write_csv

# metafile metric name -> the key mmseg / mmdet / mmpretrain log it under
LOGGED_AS = {
    'mIoU': 'mIoU', 'aAcc': 'aAcc', 'mAcc': 'mAcc',
    'box AP': 'coco/bbox_mAP', 'box AP50': 'coco/bbox_mAP_50',
    'box AP75': 'coco/bbox_mAP_75', 'mask AP': 'coco/segm_mAP',
    'Top 1 Accuracy': 'accuracy/top1', 'Top 5 Accuracy': 'accuracy/top5',
}
# OpenMMLab config names: <algo>_<backbone>_<gpus>xb<batch>-<schedule>...
GPUS_IN_NAME = re.compile(r'_(\d+)xb(\d+)[-_]')
COLUMNS = ('metric', 'published', 'reproduced', 'difference')


class ReproduceError(RuntimeError):
    """A row that cannot be reproduced as asked, or a step that failed."""


def published_rows():
    """The zoo entries with published results, in the metafiles' order."""
    return [e for e in load_model_index() if e['metrics']]


def find_row(name):
    """The published row called ``name``; :class:`ReproduceError` naming
    the closest ones otherwise."""
    rows = {e['name']: e for e in published_rows()}
    if name in rows:
        return rows[name]
    close = difflib.get_close_matches(name, list(rows), 3, 0.6)
    hint = f' (closest: {", ".join(close)})' if close else ''
    raise ReproduceError(f'no published row {name!r} in the metafiles{hint}; '
                         'tools/reproduce.py --list shows them')


def published_gpus(entry):
    """GPUs of the published run: the ``<gpus>xb<batch>`` of the config
    name."""
    match = GPUS_IN_NAME.search(osp.basename(entry['config']))
    if not match:
        raise ReproduceError(
            f'{entry["config"]}: no <gpus>xb<batch> in the config name to '
            'take the published GPU count from; pass --gpus N')
    return int(match.group(1))


def _options(cfg_options):
    return ['--cfg-options', *cfg_options] if cfg_options else []


def _config(entry):  # the tools run in the project root
    return osp.relpath(entry['config'], project_root())


def train_command(entry, gpus, work_dir, cfg_options=()):
    return ['tools/dist_train.sh', _config(entry), str(gpus), '--work-dir',
            work_dir, *_options(cfg_options)]


def test_command(entry, checkpoint, gpus, work_dir, cfg_options=()):
    return ['tools/dist_test.sh', _config(entry), checkpoint, str(gpus),
            '--work-dir', work_dir, *_options(cfg_options)]


def _fmt(value):
    return '' if value is None else f'{value:.2f}'


def compare(entry, metrics):
    """``[(metric, published, reproduced, difference), ...]`` for every
    published metric of ``entry``; ``metrics`` are the logged ones (keys as
    logged, detection fractions turned into percent). A metric the run did
    not log gets None."""
    rows = []
    for name, published in entry['metrics'].items():
        key = LOGGED_AS.get(name)
        value = metrics.get(key)
        if value is not None and key in PERCENT_FROM_FRACTION:
            value *= 100
        diff = None if value is None else value - published
        rows.append((name, published, value, diff))
    return rows


def write_results(entry, rows, work_dir, gpus, checkpoint):
    """``reproduce.md`` and ``reproduce.csv`` in ``work_dir``; their
    paths."""
    published = published_gpus(entry)
    cells = [(name, f'{pub:g}', _fmt(rep), '' if diff is None else
              f'{diff:+.2f}') for name, pub, rep, diff in rows]
    lines = [
        f'## {entry["name"]}', '',
        f'- config: `{_config(entry)}`',
        f'- GPUs: {gpus} (published: {published})',
        f'- checkpoint: `{checkpoint}`',
        f'- published: {entry["source"] or "the metafile"} '
        f'({format_metrics(entry)})', '',
        *markdown_table(list(COLUMNS), cells), '',
        'difference = reproduced - published (percent points).']
    md = osp.join(work_dir, 'reproduce.md')
    with open(md, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    csv = osp.join(work_dir, 'reproduce.csv')
    write_csv([dict(row=entry['name'], **dict(zip(COLUMNS, c)), gpus=gpus,
                    published_gpus=published, checkpoint=checkpoint)
               for c in cells], csv)
    return md, csv


def _run(cmd, step, log, env=None):
    log(f'[{step}] {shlex.join(cmd)}')
    proc = subprocess.run(cmd, cwd=project_root(), env=env)
    if proc.returncode:
        raise ReproduceError(f'{step} failed (exit {proc.returncode}): '
                             f'{shlex.join(cmd)}')


def reproduce(name, gpus=None, work_dir=None, cfg_options=(),
              dry_run=False, log=print, env=None):
    """Train and test the row ``name`` and write its results table.

    Args:
        name (str): A published row (:func:`published_rows`).
        gpus (int, optional): Processes (GPUs); default the published count.
        work_dir (str, optional): Default ``work_dirs/reproduce/<name>``.
        cfg_options (Sequence[str]): ``key=value`` overrides passed to both
            tools.
        dry_run (bool): Only log the two commands.
        log (callable): Where progress lines go.
        env (dict, optional): Environment of the launch scripts.

    Returns:
        The compared rows (:func:`compare`); None for a dry run.
    """
    entry = find_row(name)
    published = published_gpus(entry)
    gpus = published if gpus is None else gpus
    if gpus < 1:
        raise ReproduceError(f'--gpus must be at least 1, got {gpus}')
    work_dir = osp.abspath(work_dir or osp.join(
        project_root(), 'work_dirs', 'reproduce', name))
    cfg_options = list(cfg_options or ())
    log(f'{name}: published {format_metrics(entry)} '
        f'({entry["source"]}), {published} GPUs')
    if gpus != published:
        log(f'note: {gpus} GPU(s) instead of {published}: the total batch '
            'changes with them (the learning rate does not, unless '
            '--cfg-options auto_scale_lr.enable=True)')
    if dry_run:
        for step, cmd in (
                ('train', train_command(entry, gpus, work_dir, cfg_options)),
                ('test', test_command(entry, '<checkpoint named by '
                                      f'{work_dir}/last_checkpoint>', gpus,
                                      work_dir, cfg_options))):
            log(f'[{step}] {shlex.join(cmd)}')
        return None
    _run(train_command(entry, gpus, work_dir, cfg_options), 'train', log,
         env)
    checkpoint = read_last_checkpoint(work_dir)
    if checkpoint is None:
        raise ReproduceError(f'training wrote no {work_dir}/last_checkpoint')
    _run(test_command(entry, checkpoint, gpus, work_dir, cfg_options),
         'test', log, env)
    metrics, source, _ = final_metrics(work_dir)
    if source != 'test':
        raise ReproduceError(f'tools/test.py logged no metrics in {work_dir}')
    rows = compare(entry, metrics)
    md, csv = write_results(entry, rows, work_dir, gpus, checkpoint)
    with open(md) as f:
        log(f.read().rstrip())
    log(f'written: {md}, {csv}')
    return rows


def list_rows():
    """Markdown table of the published rows: name, task, published GPUs,
    numbers."""
    cells = []
    for e in published_rows():
        match = GPUS_IN_NAME.search(osp.basename(e['config']))
        cells.append([e['name'], e['task'], match.group(1) if match else '?',
                      format_metrics(e)])
    return markdown_table(['row', 'task', 'GPUs', 'published'], cells)
