"""mmpose_plus: pose estimation and pose-driven action recognition.

Importing the package checks the versions of the OpenMMLab stack it is
built against and registers every module into the ``mmpose_plus`` scope, so
that ``custom_imports=dict(imports=['mmpose_plus'])`` in an mmaction2 config
is enough to reach ``type='mmpose_plus.RGBPoseConv3D'``.
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from .version import __version__

# (package, distribution names to try, inclusive minimum, exclusive maximum)
_REQUIREMENTS = (
    ('mmengine', ('mmengine', ), '0.10.0', '1.0.0'),
    ('mmcv', ('mmcv-lite', 'mmcv'), '2.0.0', '2.1.0'),
    ('mmaction2', ('mmaction2', ), '1.1.0', '1.2.0'),
)


def _parse(ver: str) -> tuple:
    parts = []
    for piece in ver.split('+')[0].split('.'):
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
        if not piece.isdigit():
            break  # '0rc4' and the like: compare the numeric prefix only
    return tuple(parts + [0] * (3 - len(parts)))


def _check_versions() -> None:
    problems = []
    for name, dists, low, high in _REQUIREMENTS:
        found = None
        for dist in dists:
            try:
                found = _dist_version(dist)
                break
            except PackageNotFoundError:
                continue
        if found is None:
            problems.append(f'{name} is not installed (need >={low},<{high})')
        elif not _parse(low) <= _parse(found) < _parse(high):
            problems.append(f'{name}=={found} is installed but mmpose_plus '
                            f'needs >={low},<{high}')
    if problems:
        raise ImportError(
            'mmpose_plus cannot start: ' + '; '.join(problems) +
            '. The verified stack is torch==2.13.0, mmengine==0.10.7, '
            'mmcv-lite==2.0.1, mmaction2==1.1.0 (see README.md, '
            '"Installation"). Note: mmaction2 1.2.0 on PyPI is broken.')


_check_versions()

# mmcv-lite has no compiled ops; mmcv warns about one of them on import even
# though nothing here uses it.
import warnings  # noqa: E402

warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

# Our registries are children of mmaction2's: a plain name that we do not
# define (Recognizer3D, PackActionInputs, AccMetric, ...) is looked up in the
# parent, which therefore must be populated before any config is built.
from mmaction.utils import register_all_modules as _register_mmaction  # noqa

_register_mmaction(init_default_scope=False)

from . import codecs, datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
