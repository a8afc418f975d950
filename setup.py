from setuptools import find_packages, setup

setup(
    name='mmlightvit',
    version='0.1.0',
    description='Lightweight vision backbones (EMO, RepViT, MobileViT, ExMobileViT) '
    'for mmsegmentation / mmdetection on the OpenMMLab 2.0 stack',
    packages=find_packages(include=['mmlightvit', 'mmlightvit.*']),
    python_requires='>=3.10',
    # The exact stack is installed by `make install` (requirements/*.txt with
    # requirements/constraints.txt): mmcv must be built from source against the
    # installed torch, which pip cannot express as a plain dependency.
    install_requires=[],
)
