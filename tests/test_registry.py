"""Our registries are children of mmaction2's: both directions work."""
import subprocess
import sys
import textwrap

import mmpose_plus  # noqa: F401
from mmengine.registry import DefaultScope

from mmpose_plus.registry import MODELS, TRANSFORMS, DATASETS

MMACTION_CONFIG = '''
custom_imports = dict(imports=['mmpose_plus'], allow_failed_imports=False)
default_scope = 'mmaction'
model = dict(
    type='MMRecognizer3D',
    backbone=dict(type='mmpose_plus.RGBPoseConv3D'),
    cls_head=dict(type='mmpose_plus.RGBPoseHead', num_classes=7,
                  in_channels=[2048, 512]),
    data_preprocessor=dict(type='MultiModalDataPreprocessor', preprocessors=dict(
        imgs=dict(type='ActionDataPreprocessor', format_shape='NCTHW'),
        heatmap_imgs=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))))
'''

SCRIPT = '''
import sys
from mmengine.config import Config
from mmaction.utils import register_all_modules
register_all_modules()
from mmaction.registry import MODELS
cfg = Config.fromfile(sys.argv[1])
model = MODELS.build(cfg.model)
print(type(model).__module__, type(model.backbone).__module__,
      type(model.cls_head).__module__)
'''


def test_mmaction2_config_reaches_our_modules_by_scope(tmp_path):
    cfg = tmp_path / 'mmaction_cfg.py'
    cfg.write_text(MMACTION_CONFIG)
    script = tmp_path / 'build.py'
    script.write_text(textwrap.dedent(SCRIPT))
    res = subprocess.run([sys.executable, str(script), str(cfg)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    recognizer, backbone, head = res.stdout.split()[-3:]
    assert recognizer.startswith('mmaction.')
    assert backbone == 'mmpose_plus.models.backbones.rgbposeconv3d'
    assert head == 'mmpose_plus.models.heads.rgbpose_head'


def test_our_scope_prefers_ours_and_falls_back_to_mmaction2():
    with DefaultScope.overwrite_default_scope('mmpose_plus'):
        assert MODELS.get('ResNet3d').__module__.startswith('mmpose_plus.')
        assert MODELS.get('Recognizer3D').__module__.startswith('mmaction.')
        assert TRANSFORMS.get('MMCompact').__module__.startswith(
            'mmpose_plus.')
        assert TRANSFORMS.get('PackActionInputs').__module__.startswith(
            'mmaction.')
        assert DATASETS.get('PoseDataset').__module__.startswith(
            'mmpose_plus.')


def test_registries_are_children_with_locations():
    from mmaction.registry import MODELS as MMA_MODELS
    assert MODELS.parent is MMA_MODELS
    assert MODELS.scope == 'mmpose_plus'
    assert MODELS._locations == ['mmpose_plus.models']
