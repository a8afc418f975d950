"""The model zoo as OpenMMLab metafiles: model-index.yml imports every
configs/<family>/metafile.yml, which list every (non-toy) config with the
published numbers; what a metafile says a config is agrees with what the
config builds."""
import glob
import os.path as osp
import re

import pytest
import yaml
from modelindex.load_model_index import load

from mmlightvit.apis.model import load_model_config
from mmlightvit.apis.model_zoo import (TASK_NAMES, describe_config,
                                       load_model_index, lookup,
                                       project_root)

ROOT = project_root()
METAFILES = sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))


def zoo_config_names(folder):
    """The configs of a family folder that belong in the zoo: the recipes
    (``..._8xb4-...``), not the toy demos."""
    return sorted(osp.splitext(osp.basename(p))[0]
                  for p in glob.glob(osp.join(folder, '*.py'))
                  if re.search(r'_\d+xb\d+', osp.basename(p))
                  and 'toy' not in osp.basename(p))


def test_model_index_imports_every_metafile():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    assert sorted(osp.join(ROOT, p) for p in imports) == METAFILES
    assert len(METAFILES) >= 4  # EMO, RepViT, MobileViT, ExMobileViT


def test_modelindex_reads_the_zoo():
    """The reader of ``mim search`` loads it without errors."""
    index = load(osp.join(ROOT, 'model-index.yml'))
    assert index.check(silent=True) == []
    assert len(index.models) == len(load_model_index())
    assert {c.name for c in index.collections} >= {
        'EMO', 'RepViT', 'MobileViT', 'ExMobileViT'}


@pytest.mark.parametrize('metafile', METAFILES,
                         ids=[osp.basename(osp.dirname(m)) for m in METAFILES])
def test_metafile(metafile):
    with open(metafile) as f:
        data = yaml.safe_load(f)
    collections = {c['Name'] for c in data['Collections']}
    for c in data['Collections']:
        assert c['Paper']['URL'].startswith('https://arxiv.org/abs/')
    names = []
    for model in data['Models']:
        names.append(model['Name'])
        assert model['In Collection'] in collections
        assert osp.splitext(osp.basename(model['Config']))[0] == \
            model['Name']
        assert osp.isfile(osp.join(ROOT, model['Config']))
        meta = model['Metadata']
        assert meta['Training Data'] in ('ADE20K', 'COCO', 'ImageNet-1k',
                                         'PASCAL VOC 2012')
        assert 1 <= len(meta['Architecture']) <= 2
        for key in ('Parameters', 'FLOPs'):
            assert isinstance(meta.get(key, 0), int)
        for result in model.get('Results', []):
            assert result['Task'] in TASK_NAMES
            assert result['Dataset'] == meta['Training Data']
            assert result['Metrics'] and all(
                0 < v < 100 for v in result['Metrics'].values())
        assert model['Paper'] and model['Code']
    # every recipe config of the family, and only those, once
    assert sorted(names) == zoo_config_names(osp.dirname(metafile))


def test_published_numbers():
    """A few numbers of /work/shared/REFERENCE.md, as the metafiles hold
    them."""
    zoo = {e['name']: e for e in load_model_index()}
    emo = zoo['emo-1m_8xb256_in1k']
    assert emo['metrics'] == {'Top 1 Accuracy': 71.5}
    assert (emo['params'], emo['flops']) == (1_300_000, 261_000_000)
    assert emo['weights'].endswith('EMO_1M/net.pth')
    assert zoo['fpn_repvit-m1-1_8xb4-40k_ade20k-512x512']['metrics'] == {
        'mIoU': 40.6}
    assert zoo['retinanet_emo-5m_fpn_8xb4-1x_coco']['metrics'] == {
        'box AP': 38.9, 'box AP50': 59.8, 'box AP75': 41.0}
    assert zoo['ssdlite_mobilevit-s_8xb24-120e_coco-320x320']['params'] == \
        5_700_000
    assert zoo['repvit-m2-3_8xb256_in1k']['weights'].endswith(
        'repvit_m2_3_distill_300e.pth')
    published = [e for e in zoo.values() if e['metrics']]
    # 12 ImageNet, 9 ADE20K, 10 COCO, 3 PASCAL VOC
    assert len(published) == 34
    mask_rcnn = zoo['mask-rcnn_repvit-m1-1_fpn_8xb2-1x_coco']
    assert mask_rcnn['metrics'] == {'box AP': 39.8, 'mask AP': 37.2}


def test_metafiles_describe_their_configs():
    """Backbone, head, task and dataset of every model with published
    numbers are what its config builds (so lookup finds them)."""
    for entry in load_model_index():
        if not (entry['metrics'] or entry['params']):
            continue
        cfg = load_model_config(entry['config'])
        desc = describe_config(cfg)
        assert {k: entry[k] for k in desc} == desc, entry['name']
        assert lookup(cfg)['name'] == entry['name']


def test_lookup_tells_variants_apart_by_name(tmp_path):
    """RTMDet-tiny and -s of one backbone describe alike: the config's name
    chooses; a renamed copy of one finds nothing rather than the wrong one,
    while a renamed copy of a model without a twin is still found."""
    tiny = osp.join(ROOT, 'configs/emo/rtmdet_tiny_emo-1m_8xb32-300e_coco.py')
    assert lookup(load_model_config(tiny))['name'] == \
        'rtmdet_tiny_emo-1m_8xb32-300e_coco'
    copy = tmp_path / 'my_detector.py'
    copy.write_text(f"_base_ = '{tiny}'\n")
    assert lookup(load_model_config(str(copy))) is None
    deeplab = osp.join(
        ROOT, 'configs/emo/deeplabv3_emo-1m_8xb4-80k_ade20k-512x512.py')
    copy.write_text(f"_base_ = '{deeplab}'\n")
    assert lookup(load_model_config(str(copy)))['metrics']['mIoU'] == 33.5
