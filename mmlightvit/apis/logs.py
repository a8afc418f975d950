"""Reading what mmengine logged for a run: the final metrics of a work dir
(``tools/test.py`` results, else the last validation of training), the
config it dumped, and the scalars per iteration.

Layout (mmengine's ``Runner`` with ``LocalVisBackend``)::

    <work_dir>/<name>.py                          the dumped config
    <work_dir>/<timestamp>/<timestamp>.json       tools/test.py results
    <work_dir>/<timestamp>/vis_data/scalars.json  training + validation
"""
import glob
import json
import os.path as osp

SEG_METRICS = ('mIoU', 'aAcc', 'mAcc')
DET_METRICS = tuple(f'coco/bbox_mAP{s}'
                    for s in ('', '_50', '_75', '_s', '_m', '_l'))
MASK_METRICS = tuple(f'coco/segm_mAP{s}' for s in ('', '_50', '_75'))
CLS_METRICS = ('accuracy/top1', 'accuracy/top5')
METRICS = SEG_METRICS + DET_METRICS + MASK_METRICS + CLS_METRICS
# mmdet logs 0.344 for 34.4 AP
PERCENT_FROM_FRACTION = set(DET_METRICS + MASK_METRICS)
# mmengine metric key -> the name tables print
METRIC_NAMES = {
    'mIoU': 'mIoU', 'aAcc': 'aAcc', 'mAcc': 'mAcc',
    'coco/bbox_mAP': 'AP', 'coco/bbox_mAP_50': 'AP50',
    'coco/bbox_mAP_75': 'AP75', 'coco/bbox_mAP_s': 'APs',
    'coco/bbox_mAP_m': 'APm', 'coco/bbox_mAP_l': 'APl',
    'coco/segm_mAP': 'mask AP', 'coco/segm_mAP_50': 'mask AP50',
    'coco/segm_mAP_75': 'mask AP75',
    'accuracy/top1': 'top-1', 'accuracy/top5': 'top-5',
}


def read_json_lines(path):
    """The JSON objects of a JSON-lines file; a line cut by a killed run is
    skipped."""
    entries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return entries


def metrics_of(entry):
    """The known metrics (:data:`METRICS`) of one log entry."""
    return {k: entry[k] for k in METRICS if isinstance(
        entry.get(k), (int, float))}


def run_dirs(work_dir):
    """``<work_dir>/<timestamp>`` folders, newest first."""
    dirs = [d for d in glob.glob(osp.join(work_dir, '*'))
            if osp.isdir(d) and (osp.isdir(osp.join(d, 'vis_data'))
                                 or glob.glob(osp.join(d, '*.json')))]
    return sorted(dirs, key=osp.basename, reverse=True)


def final_metrics(work_dir):
    """``(metrics, source, step)`` of the newest results in ``work_dir``:
    source 'test' (tools/test.py) or 'val' (last validation of training;
    step = its iteration/epoch); ``({}, None, None)`` if there are none."""
    for run in run_dirs(work_dir):
        stamp = osp.basename(run)
        test_json = osp.join(run, f'{stamp}.json')
        if osp.isfile(test_json):
            for entry in reversed(read_json_lines(test_json)):
                if metrics_of(entry):
                    return metrics_of(entry), 'test', None
        for name in ('scalars.json', f'{stamp}.json'):
            path = osp.join(run, 'vis_data', name)
            if not osp.isfile(path):
                continue
            for entry in reversed(read_json_lines(path)):
                if metrics_of(entry):
                    return metrics_of(entry), 'val', entry.get('step')
    return {}, None, None


def run_config(work_dir):
    """The config mmengine dumped for the run: ``<work_dir>/<name>.py``,
    else the newest ``<timestamp>/vis_data/config.py``; None if neither."""
    dumped = sorted(glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime)
    if dumped:
        return dumped[-1]
    for run in run_dirs(work_dir):
        path = osp.join(run, 'vis_data', 'config.py')
        if osp.isfile(path):
            return path
    return None


def read_scalars(work_dir):
    """``(train, val)``: ``{step: entry}`` of the training log entries
    (those with a learning rate) and of the validation entries, from every
    ``<timestamp>/vis_data/scalars.json`` (a resumed run adds a folder;
    later folders win on the same step)."""
    paths = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')),
                   key=lambda p: osp.basename(osp.dirname(osp.dirname(p))))
    if not paths:
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under {work_dir}')
    train, val = {}, {}
    for path in paths:
        for entry in read_json_lines(path):
            step = entry.get('step')
            if step is not None:
                (train if 'lr' in entry else val)[step] = entry
    return train, val
