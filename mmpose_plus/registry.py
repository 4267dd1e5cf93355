"""Registries of mmpose_plus.

Every registry is a child of mmaction2's registry of the same name, so that
(a) our configs, with ``default_scope='mmpose_plus'``, can still reach every
mmaction2 / mmengine type by its plain name (the lookup falls back to the
parent), and (b) an mmaction2 config can reach ours with the ``mmpose_plus.``
prefix after ``custom_imports=dict(imports=['mmpose_plus'])``.

``locations`` lists the modules that register into each node, so that a
Runner built in a fresh process imports them on first use.
"""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import FUNCTION as MMACTION_FUNCTION
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import INFERENCERS as MMACTION_INFERENCERS
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNER_CONSTRUCTORS as MMACTION_RUNNER_CONSTRUCTORS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TASK_UTILS as MMACTION_TASK_UTILS
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import \
    WEIGHT_INITIALIZERS as MMACTION_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

SCOPE = 'mmpose_plus'


def _child(name: str, parent: Registry, locations: list) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=locations)


RUNNERS = _child('runner', MMACTION_RUNNERS, ['mmpose_plus.engine'])
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             MMACTION_RUNNER_CONSTRUCTORS,
                             ['mmpose_plus.engine'])
LOOPS = _child('loop', MMACTION_LOOPS, ['mmpose_plus.engine'])
HOOKS = _child('hook', MMACTION_HOOKS, ['mmpose_plus.engine'])
LOG_PROCESSORS = _child('log processor', MMACTION_LOG_PROCESSORS,
                        ['mmpose_plus.engine'])
OPTIMIZERS = _child('optimizer', MMACTION_OPTIMIZERS, ['mmpose_plus.engine'])
OPTIM_WRAPPERS = _child('optim wrapper', MMACTION_OPTIM_WRAPPERS,
                        ['mmpose_plus.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMACTION_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['mmpose_plus.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMACTION_PARAM_SCHEDULERS,
                          ['mmpose_plus.engine'])

DATASETS = _child('dataset', MMACTION_DATASETS, ['mmpose_plus.datasets'])
DATA_SAMPLERS = _child('data sampler', MMACTION_DATA_SAMPLERS,
                       ['mmpose_plus.datasets'])
TRANSFORMS = _child('transform', MMACTION_TRANSFORMS,
                    ['mmpose_plus.datasets.transforms'])

MODELS = _child('model', MMACTION_MODELS, ['mmpose_plus.models'])
MODEL_WRAPPERS = _child('model wrapper', MMACTION_MODEL_WRAPPERS,
                        ['mmpose_plus.models'])
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMACTION_WEIGHT_INITIALIZERS,
                             ['mmpose_plus.models'])
TASK_UTILS = _child('task util', MMACTION_TASK_UTILS,
                    ['mmpose_plus.models', 'mmpose_plus.codecs'])
# Codecs (heatmap / associative-embedding encoders) are task utils in
# OpenMMLab; an alias keeps call sites readable.
KEYPOINT_CODECS = TASK_UTILS

METRICS = _child('metric', MMACTION_METRICS, ['mmpose_plus.evaluation'])
EVALUATOR = _child('evaluator', MMACTION_EVALUATOR, ['mmpose_plus.evaluation'])

VISUALIZERS = _child('visualizer', MMACTION_VISUALIZERS,
                     ['mmpose_plus.apis'])
VISBACKENDS = _child('vis_backend', MMACTION_VISBACKENDS,
                     ['mmpose_plus.apis'])
INFERENCERS = _child('inferencer', MMACTION_INFERENCERS, ['mmpose_plus.apis'])
FUNCTION = _child('function', MMACTION_FUNCTION, ['mmpose_plus.datasets'])
