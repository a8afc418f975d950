"""The contract every mmlightvit backbone follows.

Output indices. For every family, ``out_indices`` index ``i`` is the feature
map of stride ``2**(i + 1)``: 0 = stride 2, 1 = 4, 2 = 8, 3 = 16, 4 = 32.
Dense configs take ``out_indices=(1, 2, 3, 4)`` (or a subset) whatever the
backbone; outputs come in increasing index order, and ``out_channels[i]`` is
the width of index ``i`` (a dict over the indices the family has). A family
declares the indices it has in ``out_levels``; any other is refused with the
valid ones listed (RepViT, whose stem goes from stride 1 to 4 in one piece of
its official network, has no stride-2 output: its indices are 1-4).

Freezing. ``frozen_stages=k`` freezes everything that computes the feature
maps of indices 0..k (stride ``2**(k + 1)`` and finer): its parameters get
``requires_grad=False`` and its modules stay in eval mode. -1 freezes
nothing. ``norm_eval=True`` keeps every BatchNorm in eval mode while
training.

Weights. ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` (``{arch}``
in PATH stands for the arch) loads a local or remote checkpoint with
:func:`~mmlightvit.models.checkpoint.load_pretrained_weights`: nested
``state_dict``/``model``/``net`` and ``module.`` prefixes are unwrapped, a
whole OpenMMLab model gives its ``backbone.`` part, and
:meth:`BaseBackbone.convert_checkpoint` maps the official layouts of the
family (authors', timm) to its key names; missing and unexpected keys are
logged by name.

A family subclass sets ``arch_settings`` (and ``arch_aliases``), ``levels``
(index -> names of the modules that compute that level, in order) and
``out_levels``, builds its modules, fills ``out_channels`` and calls
:meth:`BaseBackbone._freeze_stages` at the end of ``__init__``.
"""
import functools

from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ..checkpoint import load_pretrained_weights


class BaseBackbone(BaseModule):
    """Argument checks, freezing, ``norm_eval``, ``init_weights`` and the
    level-by-level forward shared by the mmlightvit backbones.

    Args:
        arch (str): A key of ``arch_settings`` (or of ``arch_aliases``).
        out_indices (int | Sequence[int]): Outputs, from ``out_levels``.
        frozen_stages (int): Freeze the levels 0..``frozen_stages``; -1 =
            none.
        norm_eval (bool): Keep all BatchNorm layers in eval mode in training.
        init_cfg (dict | list[dict] | None): As mmengine's ``BaseModule``;
            ``dict(type='Pretrained', checkpoint=...)`` loads a checkpoint
            through :meth:`convert_checkpoint`.
    """
    arch_settings = {}
    arch_aliases = {}
    # index -> dotted names of the modules that compute that level from the
    # previous one (an attribute that is None, an unbuilt option, is skipped)
    levels = {}
    out_levels = ()  # the indices offered as outputs
    # keys of a whole OpenMMLab model (classifier, segmentor, detector)
    # hold the backbone under this prefix; None loads every key
    checkpoint_prefix = 'backbone.'

    def __init__(self, arch, out_indices, frozen_stages=-1, norm_eval=False,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.arch = self.resolve_arch(arch)
        self.out_indices = self._check_out_indices(out_indices)
        last = max(self.levels)
        if frozen_stages not in range(-1, last + 1):
            raise ValueError(
                f'frozen_stages of {type(self).__name__} must be in range '
                f'-1..{last} (-1 = none; k freezes the levels up to stride '
                f'2**(k + 1)), got {frozen_stages!r}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

    @classmethod
    def resolve_arch(cls, arch):
        """The key of ``arch_settings`` that ``arch`` (or its alias) names;
        ``ValueError`` listing the valid archs otherwise."""
        arch = cls.arch_aliases.get(str(arch), str(arch))
        if arch not in cls.arch_settings:
            raise ValueError(
                f'Unknown {cls.__name__} arch {arch!r}; valid archs: '
                f'{", ".join(cls.arch_settings)}')
        return arch

    def _check_out_indices(self, out_indices):
        out_indices = (out_indices, ) if isinstance(out_indices, int) \
            else tuple(out_indices)
        valid = ', '.join(map(str, self.out_levels))
        if not out_indices:
            raise ValueError(f'out_indices of {type(self).__name__} must not '
                             f'be empty; valid indices: {valid}')
        wrong = [i for i in out_indices if i not in self.out_levels
                 or not isinstance(i, int)]
        if wrong:
            raise ValueError(
                f'out_indices of {type(self).__name__} must be among {valid} '
                f'(index i = the feature map of stride 2**(i + 1)), got '
                f'{out_indices}')
        return tuple(sorted(set(out_indices)))

    def level_modules(self, index):
        """The built modules that compute level ``index`` from the previous
        level, in order."""
        modules = []
        for name in self.levels[index]:
            module = functools.reduce(getattr, name.split('.'), self)
            if module is not None:
                modules.append(module)
        return modules

    def forward_levels(self, x, last=None):
        """The feature maps of levels ``0..last`` (default: the last output
        index) as a list, ``levels[i]`` at stride ``2**(i + 1)``."""
        last = max(self.out_indices) if last is None else last
        levels = []
        for index in range(last + 1):
            for module in self.level_modules(index):
                x = module(x)
            levels.append(x)
        return levels

    def forward(self, x):
        levels = self.forward_levels(x)
        return tuple(levels[i] for i in self.out_indices)

    def _freeze_stages(self):
        for index in range(self.frozen_stages + 1):
            for module in self.level_modules(index):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    @property
    def pretrained_checkpoint(self):
        """The checkpoint of ``init_cfg=dict(type='Pretrained', ...)``, with
        ``{arch}`` replaced by the arch (one URL pattern serves a family's
        configs), or None."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            return str(cfg['checkpoint']).replace('{arch}', self.arch)
        return None

    def init_weights(self):
        checkpoint = self.pretrained_checkpoint
        if checkpoint is None:
            super().init_weights()
            return
        self.load_pretrained(checkpoint)
        self._is_init = True

    def load_pretrained(self, filename):
        """Load ``filename`` through :meth:`convert_checkpoint`."""
        return load_pretrained_weights(
            self, filename, convert=self.convert_checkpoint,
            prefix=self.checkpoint_prefix)

    def convert_checkpoint(self, state_dict):
        """Map a checkpoint's (unwrapped) keys to this backbone's: the
        family's official layouts; converted keys pass through."""
        return state_dict
