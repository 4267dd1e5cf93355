from . import (backbones, data_preprocessors, heads, layers, losses,  # noqa
               necks, pose_estimators, recognizers)
