"""PoseDataPreprocessor: BGR->RGB + mean/std, stacking, multi-scale
batches, readable errors."""
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmpose_plus.models.data_preprocessors import PoseDataPreprocessor
from mmpose_plus.registry import MODELS

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _imgs(n=2, h=8, w=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
        for _ in range(n)
    ]


def _expected(img: torch.Tensor) -> torch.Tensor:
    rgb = img.flip(0).float()  # BGR -> RGB
    return (rgb - torch.tensor(MEAN)[:, None, None]) / \
        torch.tensor(STD)[:, None, None]


def test_normalises_rgb_and_stacks():
    pre = MODELS.build(
        dict(type='PoseDataPreprocessor', mean=MEAN, std=STD,
             bgr_to_rgb=True))
    imgs = _imgs()
    out = pre(dict(inputs=imgs, data_samples=['a', 'b']))
    assert out['inputs'].shape == (2, 3, 8, 6)
    assert out['inputs'].dtype == torch.float32
    for got, img in zip(out['inputs'], imgs):
        torch.testing.assert_close(got, _expected(img))
    assert out['data_samples'] == ['a', 'b']


def test_unequal_sizes_are_padded_at_the_bottom_right():
    pre = PoseDataPreprocessor()
    small, big = _imgs(1, 4, 4)[0], _imgs(1, 8, 6, seed=1)[0]
    out = pre(dict(inputs=[small, big]))['inputs']
    assert out.shape == (2, 3, 8, 6)
    # the original pixels keep their coordinates
    torch.testing.assert_close(out[0, :, :4, :4], small.float())
    assert out[0, :, 4:].abs().sum() == 0 and out[0, :, :, 4:].sum() == 0


def test_multiscale_inputs_give_one_batch_per_scale():
    """Samples with one image per scale, collated by mmengine (which makes
    the batch scale-major), come out as one normalised batch per scale."""
    pre = PoseDataPreprocessor(mean=MEAN, std=STD, bgr_to_rgb=True)
    a, b = _imgs(2, 8, 8)
    a_half, b_half = a[:, ::2, ::2].contiguous(), b[:, ::2, ::2].contiguous()
    data = pseudo_collate([dict(inputs=[a, a_half], data_samples='a'),
                           dict(inputs=[b, b_half], data_samples='b')])
    out = pre(data)
    assert [tuple(x.shape) for x in out['inputs']] == [(2, 3, 8, 8),
                                                       (2, 3, 4, 4)]
    torch.testing.assert_close(out['inputs'][0][1], _expected(b))
    torch.testing.assert_close(out['inputs'][1][1], _expected(b_half))
    assert out['data_samples'] == ['a', 'b']
    with pytest.raises(ValueError, match='scale 1 has 1'):
        pre(dict(inputs=[[a, b], [a_half]]))


def test_bad_inputs_have_clear_errors():
    pre = PoseDataPreprocessor(mean=MEAN, std=STD, bgr_to_rgb=True)
    with pytest.raises(ValueError, match=r'sample 1: expected a \(C, H, W\)'):
        pre(dict(inputs=[torch.zeros(3, 4, 4), torch.zeros(4, 4)]))
    with pytest.raises(ValueError, match='needs 3 channels'):
        pre(dict(inputs=[torch.zeros(1, 4, 4)]))
    with pytest.raises(ValueError, match='both mean and std'):
        PoseDataPreprocessor(mean=MEAN)
    with pytest.raises(ValueError, match='1 or 3 values'):
        PoseDataPreprocessor(mean=[1, 2], std=[1, 2])
    with pytest.raises(KeyError, match='inputs'):
        pre(dict(data_samples=[]))
