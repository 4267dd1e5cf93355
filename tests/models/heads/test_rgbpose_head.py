import pytest
import torch
from mmaction.evaluation import AccMetric
from mmaction.structures import ActionDataSample
from mmengine.structures import LabelData

from mmpose_plus.models.heads import RGBPoseHead
from mmpose_plus.registry import MODELS

NUM_CLASSES = 7
IN_CHANNELS = (32, 16)


def _ref_head(**kwargs):
    from mmaction.models.heads import RGBPoseHead as RefRGBPoseHead
    return RefRGBPoseHead(**kwargs)


def _feats(batch=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, IN_CHANNELS[0], 2, 3, 3, generator=g),
            torch.randn(batch, IN_CHANNELS[1], 4, 3, 3, generator=g))


def _samples(labels):
    return [ActionDataSample().set_gt_labels(int(y)) for y in labels]


def _pair(**kwargs):
    args = dict(num_classes=NUM_CLASSES, in_channels=list(IN_CHANNELS),
                average_clips='prob')
    args.update(kwargs)
    ref = _ref_head(**args)
    ref.init_weights()
    ours = RGBPoseHead(**args)
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


@pytest.mark.parametrize('weights', [1., [0.5, 2.]])
def test_loss_parity_with_mmaction2(weights):
    ours, ref = _pair(loss_weights=weights, dropout=0.)
    feats, samples = _feats(), _samples([0, 3, 6, 3])
    loss_ours = ours.loss(feats, samples)
    loss_ref = ref.loss(feats, samples)
    assert set(loss_ours) == set(loss_ref) == {
        'rgb_loss_cls', 'pose_loss_cls', 'rgb_top1_acc', 'rgb_top5_acc',
        'pose_top1_acc', 'pose_top5_acc'
    }
    for key, value in loss_ref.items():
        torch.testing.assert_close(loss_ours[key].float(), value.float())


def test_loss_weights_scale_losses():
    ours, _ = _pair(dropout=0.)
    weighted = RGBPoseHead(
        num_classes=NUM_CLASSES, in_channels=IN_CHANNELS,
        loss_weights=[2., 0.], dropout=0.)
    weighted.load_state_dict(ours.state_dict())
    feats, samples = _feats(), _samples([1, 2, 3, 4])
    base, scaled = ours.loss(feats, samples), weighted.loss(feats, samples)
    torch.testing.assert_close(scaled['rgb_loss_cls'],
                               2 * base['rgb_loss_cls'])
    assert scaled['pose_loss_cls'].item() == 0


def test_predict_parity_with_mmaction2_multi_clip():
    ours, ref = _pair()
    ours.eval()
    ref.eval()
    # 2 samples x 3 clips each, averaged as probabilities
    feats = _feats(batch=6, seed=1)
    out_ours = ours.predict(feats, _samples([1, 2]))
    out_ref = ref.predict(feats, _samples([1, 2]))
    for a, b in zip(out_ours, out_ref):
        for name in ('rgb', 'pose'):
            score = a.pred_scores.get(name)
            torch.testing.assert_close(score, b.pred_scores.get(name))
            assert a.pred_labels.get(name).item() == \
                b.pred_labels.get(name).item()
            assert score.shape == (NUM_CLASSES, )
            assert abs(a.pred_scores.get(name).sum().item() - 1) < 1e-5


def test_forward_shapes_and_dropout_dict():
    head = RGBPoseHead(num_classes=5, dropout=dict(rgb=0.3, pose=0.1))
    assert head.dropout_rgb.p == 0.3 and head.dropout_pose.p == 0.1
    assert head.fc_rgb.weight.shape == (5, 2048)
    assert head.fc_pose.weight.shape == (5, 512)
    scores = head((torch.rand(2, 2048, 1, 2, 2), torch.rand(2, 512, 2, 2, 2)))
    assert scores['rgb'].shape == scores['pose'].shape == (2, 5)


def test_dropout_dict_matches_mmaction2_in_eval():
    ours, ref = _pair(dropout=dict(rgb=0.7, pose=0.2))
    assert ours.dropout_rgb.p == ref.dropout_rgb.p
    assert ours.dropout_pose.p == ref.dropout_pose.p
    ours.eval()
    ref.eval()
    feats = _feats()
    a, b = ours(feats), ref(feats)
    for name in ('rgb', 'pose'):
        torch.testing.assert_close(a[name], b[name])


def test_init_weights():
    head = RGBPoseHead(num_classes=50, init_std=0.5)
    head.init_weights()
    assert head.fc_rgb.bias.abs().sum() == 0
    assert 0.4 < head.fc_rgb.weight.std().item() < 0.6


def test_single_loss_component_still_predicts_both_streams():
    head = RGBPoseHead(
        num_classes=NUM_CLASSES, in_channels=IN_CHANNELS,
        loss_components=['pose'], average_clips='prob')
    losses = head.loss(_feats(), _samples([0, 1, 2, 3]))
    assert 'pose_loss_cls' in losses and 'rgb_loss_cls' not in losses
    head.eval()
    with torch.no_grad():
        samples = head.predict(_feats(), _samples([0, 1, 2, 3]))
    # AccMetric sees both streams and can compute the fused metrics
    metric = AccMetric()
    metric.process(None, [s.to_dict() for s in samples])
    result = metric.compute_metrics(metric.results)
    assert 'pose_top1' in result and 'RGBPose_1:1_top1' in result


def test_soft_labels_batch_one():
    # mmaction2 calls .size() on the score dict here and crashes
    head = RGBPoseHead(num_classes=3, in_channels=IN_CHANNELS)
    sample = ActionDataSample()
    sample.gt_labels = LabelData(item=torch.tensor([0.2, 0.8, 0.]))
    losses = head.loss(_feats(batch=1), [sample])
    assert losses['rgb_loss_cls'].dim() == 0
    assert 'rgb_top1_acc' not in losses


@pytest.mark.parametrize('kwargs,match', [
    (dict(loss_components=['rgb', 'depth']), 'loss_components'),
    (dict(loss_components=[]), 'loss_components'),
    (dict(loss_components=['rgb', 'rgb']), 'loss_components'),
    (dict(loss_weights=[1., 2., 3.]), 'loss_weights'),
    (dict(loss_components=['rgb'], loss_weights=[1., 1.]), 'loss_weights'),
    (dict(dropout=dict(rgb=0.5)), 'dropout'),
    (dict(dropout=dict(rgb=0.5, pose=0.5, depth=0.1)), 'dropout'),
    (dict(dropout=1.5), 'dropout'),
    (dict(in_channels=(2048, )), 'in_channels'),
    (dict(average_clips='mean'), 'average_clips'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RGBPoseHead(num_classes=3, **kwargs)


def test_dropout_wrong_type():
    with pytest.raises(TypeError, match='dropout'):
        RGBPoseHead(num_classes=3, dropout='0.5')


def test_registered_in_our_scope():
    head = MODELS.build(dict(type='RGBPoseHead', num_classes=3))
    assert type(head) is RGBPoseHead
