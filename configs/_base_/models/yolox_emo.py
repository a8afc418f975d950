# YOLOX-s (yolox_s.py: mmdet's YOLOXPAFPN + YOLOXHead, multi-scale batches)
# on the EMO backbone of rtmdet_emo.py, with its input
# normalisation:
# the backbone is declared (and initialised) there only. The leaf configs
# set the arch and the PAFPN inputs, as for RTMDet.
_base_ = ['./rtmdet_emo.py', './yolox_s.py']
__yolox, __family = _base_.yolox_s, _base_.model  # local names
model = dict(
    __yolox,
    _delete_=True,
    backbone=__family.backbone,
    data_preprocessor=dict(
        __family.data_preprocessor,
        pad_size_divisor=__yolox.data_preprocessor.pad_size_divisor,
        batch_augments=__yolox.data_preprocessor.batch_augments),
    neck=dict(__yolox.neck, in_channels=__family.neck.in_channels))
