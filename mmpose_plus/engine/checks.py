"""Early, readable checks of a config before a long run starts."""
import os.path as osp
from typing import Dict, Iterator, List, Tuple

import torch
from mmengine.config import Config, ConfigDict

DATA_DOC = 'docs/data.md'


class UserInputError(Exception):
    """Marks a problem with a file or setting the user supplied.

    ``tools/*.py`` print these as one-line errors; they are raised as
    subclasses of the built-in types below so library callers can catch
    ``FileNotFoundError`` / ``ValueError`` as usual.
    """


class MissingDataError(UserInputError, FileNotFoundError):
    """A file or folder named by the config or the command line is absent."""


class CheckpointMismatchError(UserInputError, ValueError):
    """A checkpoint does not fit the model built from the config."""
CLASSIFIER_SUFFIXES = ('fc_cls.weight', 'fc_cls.bias', 'fc_rgb.weight',
                       'fc_rgb.bias', 'fc_pose.weight', 'fc_pose.bias')


def _iter_datasets(cfg: dict, where: str) -> Iterator[Tuple[str, dict]]:
    """Yield every leaf dataset config, following wrapper datasets."""
    if not isinstance(cfg, dict):
        return
    if 'dataset' in cfg:
        yield from _iter_datasets(cfg['dataset'], f'{where}.dataset')
    elif 'datasets' in cfg:
        for i, sub in enumerate(cfg['datasets']):
            yield from _iter_datasets(sub, f'{where}.datasets[{i}]')
    else:
        yield where, cfg


def _resolve(data_root, path: str) -> str:
    if data_root and not osp.isabs(path):
        return osp.join(data_root, path)
    return path


def missing_data_files(cfg: Config,
                       splits=('train', 'val', 'test')) -> List[str]:
    """List readable messages for annotation files / data folders that a
    config names but that do not exist.

    Args:
        cfg (Config): A full config with ``*_dataloader`` entries.
        splits (tuple[str]): Which dataloaders to look at.

    Returns:
        list[str]: One message per missing path (empty when all exist).
    """
    problems = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for where, ds in _iter_datasets(loader, f'{split}_dataloader'):
            data_root = ds.get('data_root')
            ann_file = ds.get('ann_file')
            if ann_file:
                path = _resolve(data_root, ann_file)
                if not osp.isfile(path):
                    problems.append(f'{where}.ann_file: "{path}" does not '
                                    'exist')
            prefix = ds.get('data_prefix')
            if isinstance(prefix, (dict, ConfigDict)):
                for name, folder in prefix.items():
                    if not folder or not isinstance(folder, str):
                        continue
                    path = _resolve(data_root, folder)
                    if not osp.isdir(path):
                        hint = ''
                        if name == 'video':
                            hint = (' (make training copies of the videos '
                                    'with tools/data/prepare_videos.py, or '
                                    'point it at the originals and set '
                                    'video_name_tmpl to their file names)')
                        problems.append(f'{where}.data_prefix.{name}: folder '
                                        f'"{path}" does not exist{hint}')
    return problems


def check_data_files(cfg: Config, splits=('train', 'val', 'test')) -> None:
    """Raise :class:`FileNotFoundError` naming every missing data path.

    Args:
        cfg (Config): A full config.
        splits (tuple[str]): Which dataloaders to check.
    """
    problems = missing_data_files(cfg, splits)
    if problems:
        raise MissingDataError(
            'The data this config names is missing:\n  - ' +
            '\n  - '.join(problems) +
            f'\nSee {DATA_DOC} for how to obtain and lay out the data; the '
            'built-in tiny dataset is made by '
            '`python tools/data/generate_tiny_dataset.py`.')


def compare_state_dicts(model_sd: Dict[str, torch.Tensor],
                        ckpt_sd: Dict[str, torch.Tensor]) -> dict:
    """Compare a checkpoint's state dict with a model's.

    Returns:
        dict: ``missing`` (in model, not in checkpoint), ``unexpected``,
        ``classifier`` (name, ckpt shape, model shape) for classification
        layers whose shapes differ, ``mismatched`` for other shape
        differences.
    """
    def strip(sd):
        # DDP-saved checkpoints prefix every key with ``module.``
        if sd and all(k.startswith('module.') for k in sd):
            return {k[len('module.'):]: v for k, v in sd.items()}
        return sd

    ckpt_sd = strip(dict(ckpt_sd))
    report = dict(missing=[], unexpected=[], classifier=[], mismatched=[])
    for key, value in model_sd.items():
        if key not in ckpt_sd:
            if not key.endswith('num_batches_tracked'):
                report['missing'].append(key)
            continue
        other = ckpt_sd[key]
        if tuple(other.shape) != tuple(value.shape):
            entry = (key, tuple(other.shape), tuple(value.shape))
            if key.endswith(CLASSIFIER_SUFFIXES):
                report['classifier'].append(entry)
            else:
                report['mismatched'].append(entry)
    report['unexpected'] = [k for k in ckpt_sd if k not in model_sd]
    return report


def _fmt(entries, limit=8) -> str:
    lines = [f'{k}: checkpoint {a} vs model {b}' for k, a, b in entries]
    more = f'\n    ... and {len(lines) - limit} more' \
        if len(lines) > limit else ''
    return '\n    ' + '\n    '.join(lines[:limit]) + more


def check_checkpoint(model: torch.nn.Module, ckpt_sd: dict, path: str,
                     purpose: str) -> List[str]:
    """Check a checkpoint against a model before it is loaded.

    Args:
        model (nn.Module): The built model.
        ckpt_sd (dict): The checkpoint's state dict.
        path (str): The checkpoint's path, for messages.
        purpose (str): ``'test'`` (every weight must load) or
            ``'finetune'`` (``load_from`` in training: a classifier with a
            different class count is re-initialised, anything else that does
            not fit is an error).

    Returns:
        list[str]: Warnings to log.

    Raises:
        ValueError: The checkpoint does not fit the model.
    """
    report = compare_state_dicts(model.state_dict(), ckpt_sd)
    warnings = []
    if report['classifier']:
        if purpose == 'test':
            raise CheckpointMismatchError(
                f'The classifier in checkpoint "{path}" does not match the '
                f'config\'s num_classes:{_fmt(report["classifier"])}\n'
                'Testing would report meaningless scores. Set num_classes in '
                'the config to the checkpoint\'s class count, or fine-tune '
                'first: put the checkpoint in `load_from` of a training '
                'config with your num_classes (`tools/train.py CONFIG '
                f'--cfg-options load_from={path}`); the classifier is then '
                're-initialised and trained.')
        warnings.append(
            f'Fine-tuning from "{path}": the classifier is re-initialised '
            'because its class count differs from the config'
            f'{_fmt(report["classifier"])}')
    if report['mismatched']:
        raise CheckpointMismatchError(
            f'Checkpoint "{path}" does not fit the model built from the '
            f'config; these weights have other shapes:'
            f'{_fmt(report["mismatched"])}\nCheck that the config (depth, '
            'in_channels, number of heatmap channels, pathways) matches the '
            'checkpoint.')
    if report['missing']:
        msg = (f'{len(report["missing"])} weights of the model are not in '
               f'checkpoint "{path}", e.g. {report["missing"][:5]}')
        if purpose == 'test':
            raise CheckpointMismatchError(msg + '. They would stay randomly initialised; '
                             'use the checkpoint that matches this config.')
        warnings.append(msg + ' (they keep their initialisation)')
    if report['unexpected']:
        warnings.append(f'{len(report["unexpected"])} checkpoint entries are '
                        f'not used by the model, e.g. '
                        f'{report["unexpected"][:5]}')
    return warnings
