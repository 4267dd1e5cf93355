"""Geometry of the pose transforms, checked against rendered images: each
keypoint is drawn as a Gaussian dot, the transform warps image and keypoints,
and the dot must land where the keypoint went."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from mmpose_plus.datasets.coco_meta import COCO_METAINFO
from mmpose_plus.datasets.transforms.pose2d_transforms import (
    BottomupGetHeatmapMask, BottomupRandomAffine, BottomupResize,
    GenerateTarget, GetBBoxCenterScale, LoadImage, PackPoseInputs,
    RandomBBoxTransform, RandomFlipPose, RandomHalfBody, TopdownAffine,
    apply_affine, get_warp_matrix)
from mmpose_plus.registry import KEYPOINT_CODECS
from mmpose_plus.structures import PoseDataSample

FLIP = COCO_METAINFO['flip_indices']
SIGMA = 1.5


def render_dots(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """A float image with one Gaussian dot per (x, y) point."""
    ys, xs = np.mgrid[:height, :width]
    img = np.zeros((height, width), np.float32)
    for x, y in points.reshape(-1, 2):
        img += np.exp(-((xs - x)**2 + (ys - y)**2) / (2 * SIGMA**2))
    return img


def dot_centre(img: np.ndarray, near: np.ndarray, radius: int) -> np.ndarray:
    """Intensity centroid of the dot around ``near``."""
    img = img if img.ndim == 2 else img[..., 0]
    x0, y0 = np.round(near).astype(int)
    ys, xs = np.mgrid[y0 - radius:y0 + radius + 1, x0 - radius:x0 + radius + 1]
    patch = img[ys, xs].astype(np.float64)
    return np.array([(patch * xs).sum(), (patch * ys).sum()]) / patch.sum()


def spread_points(rng, n: int, x_range, y_range, min_gap: float):
    """Random sub-pixel points at least ``min_gap`` apart."""
    points = []
    while len(points) < n:
        p = np.array([rng.uniform(*x_range), rng.uniform(*y_range)])
        if all(np.linalg.norm(p - q) >= min_gap for q in points):
            points.append(p)
    return np.array(points, np.float32)


def assert_dots_follow(img, keypoints, zoom, margin_ok):
    """Every keypoint well inside the canvas has its dot on it (< 0.35 px)."""
    radius = int(np.ceil(3 * SIGMA * zoom))
    h, w = img.shape[:2]
    checked = 0
    for p in keypoints.reshape(-1, 2):
        if not (radius + 1 <= p[0] < w - radius - 1
                and radius + 1 <= p[1] < h - radius - 1):
            continue
        np.testing.assert_allclose(dot_centre(img, p, radius), p, atol=0.35)
        checked += 1
    assert checked >= margin_ok


# ---------------------------------------------------------------------------
# top-down
# ---------------------------------------------------------------------------
def test_get_bbox_center_scale():
    out = GetBBoxCenterScale()(dict(bbox=np.array([[10, 20, 50, 100.]])))
    np.testing.assert_allclose(out['bbox_center'], [[30, 60]])
    np.testing.assert_allclose(out['bbox_scale'], [[50, 100]])
    out = GetBBoxCenterScale(padding=1., aspect_ratio=1.)(
        dict(bbox=np.array([[10, 20, 50, 100.]])))
    np.testing.assert_allclose(out['bbox_scale'], [[80, 80]])


@pytest.mark.parametrize('rotation', [0., 30., -75.])
def test_topdown_affine_moves_dots_with_keypoints(rotation):
    rng = np.random.default_rng(1)
    kpts = spread_points(rng, 17, (40, 160), (30, 130), 14)[None]
    img = render_dots(kpts, 160, 200)
    center, size = np.array([[100., 80.]]), np.array([[150., 120.]])
    out = TopdownAffine(input_size=(96, 128))(
        dict(
            img=img,
            bbox_center=center,
            bbox_scale=size,
            bbox_rotation=np.array([rotation]),
            keypoints=kpts.copy()))
    assert out['img'].shape == (128, 96)
    # the box was widened to 3:4 (150 x 200), so the zoom is 96 / 150
    np.testing.assert_allclose(out['bbox_scale'], [[150, 200]])
    np.testing.assert_allclose(out['input_scale'], [150, 200])
    assert out['input_size'] == (96, 128)
    # original keypoints untouched, warped copies in transformed_keypoints
    np.testing.assert_array_equal(out['keypoints'], kpts)
    assert_dots_follow(out['img'], out['transformed_keypoints'], 96 / 150, 8)
    # the box centre lands in the middle of the input
    np.testing.assert_allclose(
        apply_affine(center, out['warp_mat']), [[48, 64]], atol=1e-4)


def test_topdown_inverse_mapping_documented_in_module():
    """``p / input_size * input_scale + input_center - input_scale / 2``
    maps an input pixel back to the image (no rotation)."""
    out = TopdownAffine(input_size=(48, 64))(
        dict(
            img=np.zeros((100, 100, 3), np.uint8),
            bbox_center=np.array([[40., 55.]]),
            bbox_scale=np.array([[30., 30.]]),
            keypoints=np.array([[[33.3, 47.1], [51., 60.]]])))
    size = np.array(out['input_size'])
    back = (out['transformed_keypoints'] / size * out['input_scale'] +
            out['input_center'] - out['input_scale'] / 2)
    np.testing.assert_allclose(back, [[[33.3, 47.1], [51., 60.]]], atol=1e-4)


def test_topdown_affine_rejects_bad_boxes():
    t = TopdownAffine(input_size=(48, 64))
    img = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match='exactly one person'):
        t(dict(img=img, bbox_center=np.zeros((2, 2)),
               bbox_scale=np.ones((2, 2))))
    with pytest.raises(ValueError, match='empty box'):
        t(dict(img=img, bbox_center=np.zeros((1, 2)),
               bbox_scale=np.zeros((1, 2)), img_path='x.jpg'))
    with pytest.raises(KeyError, match='bbox_center'):
        t(dict(img=img, img_path='x.jpg'))


def test_flip_swaps_left_and_right_and_mirrors_x():
    rng = np.random.default_rng(2)
    kpts = spread_points(rng, 17, (10, 110), (10, 70), 12)[None]
    visible = (np.arange(17) % 3 != 0).astype(np.float32)[None]
    img = render_dots(kpts, 80, 120)
    results = dict(
        img=img.copy(),
        img_shape=(80, 120),
        keypoints=kpts.copy(),
        keypoints_visible=visible.copy(),
        bbox=np.array([[10., 5., 50., 60.]]),
        bbox_center=np.array([[30., 32.5]]),
        flip_indices=FLIP)
    out = RandomFlipPose(prob=1.)(results)
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    np.testing.assert_array_equal(out['img'], img[:, ::-1])
    # joint j after the flip is joint FLIP[j] before it, mirrored
    np.testing.assert_allclose(out['keypoints'][0, :, 0],
                               119 - kpts[0, FLIP, 0])
    np.testing.assert_allclose(out['keypoints'][0, :, 1], kpts[0, FLIP, 1])
    np.testing.assert_array_equal(out['keypoints_visible'][0],
                                  visible[0, FLIP])
    # a left shoulder becomes a right shoulder
    np.testing.assert_allclose(out['keypoints'][0, 6],
                               [119 - kpts[0, 5, 0], kpts[0, 5, 1]])
    np.testing.assert_allclose(out['bbox'], [[69., 5., 109., 60.]])
    np.testing.assert_allclose(out['bbox_center'], [[89., 32.5]])
    assert_dots_follow(out['img'], out['keypoints'], 1., 12)
    np.testing.assert_allclose(
        apply_affine(kpts[0, FLIP], out['warp_mat']), out['keypoints'][0])

    kept = RandomFlipPose(prob=0.)(dict(img=img, keypoints=kpts.copy()))
    assert kept['flip'] is False and kept['flip_direction'] is None
    np.testing.assert_array_equal(kept['keypoints'], kpts)
    with pytest.raises(KeyError, match='flip_indices'):
        RandomFlipPose(prob=1.)(dict(img=img, keypoints=kpts.copy()))


def test_flip_probability():
    np.random.seed(0)
    flips = [
        RandomFlipPose(prob=0.3)(dict(img=np.zeros((2, 2))))['flip']
        for _ in range(400)
    ]
    assert 0.22 < np.mean(flips) < 0.38


def _half_body_sample(visible):
    kpts = np.stack([np.arange(17.) * 2, np.arange(17.) * 3], -1)[None]
    return dict(
        keypoints=kpts,
        keypoints_visible=np.asarray(visible, np.float32)[None],
        upper_body_ids=COCO_METAINFO['upper_body_ids'],
        lower_body_ids=COCO_METAINFO['lower_body_ids'],
        bbox_center=np.array([[100., 100.]]),
        bbox_scale=np.array([[50., 50.]]))


def test_half_body_keeps_the_chosen_half():
    upper = RandomHalfBody(prob=1., upper_prioritized_prob=1.)(
        _half_body_sample(np.ones(17)))
    # joints 0..10 span x 0..20, y 0..30: centre (10, 15), size x1.5
    np.testing.assert_allclose(upper['bbox_center'], [[10, 15]])
    np.testing.assert_allclose(upper['bbox_scale'], [[30, 45]])
    lower = RandomHalfBody(prob=1., upper_prioritized_prob=0.)(
        _half_body_sample(np.ones(17)))
    np.testing.assert_allclose(lower['bbox_center'], [[27, 40.5]])
    np.testing.assert_allclose(lower['bbox_scale'], [[15, 22.5]])

    # only labelled joints count: with the legs unlabelled the upper body
    # is used even when the lower one is preferred
    vis = np.r_[np.ones(11), np.zeros(6)]
    out = RandomHalfBody(prob=1., upper_prioritized_prob=0.)(
        _half_body_sample(vis))
    np.testing.assert_allclose(out['bbox_center'], [[10, 15]])


@pytest.mark.parametrize('visible, prob', [(np.r_[np.ones(8),
                                                  np.zeros(9)], 1.),
                                           (np.ones(17), 0.)])
def test_half_body_not_applied(visible, prob):
    out = RandomHalfBody(prob=prob)(_half_body_sample(visible))
    np.testing.assert_allclose(out['bbox_center'], [[100, 100]])
    np.testing.assert_allclose(out['bbox_scale'], [[50, 50]])


def test_random_bbox_transform_ranges():
    sample = dict(bbox_center=np.full((500, 2), 100., np.float32),
                  bbox_scale=np.full((500, 2), 50., np.float32))
    np.random.seed(0)
    out = RandomBBoxTransform(shift_prob=1., rotate_prob=1.)(
        {k: v.copy() for k, v in sample.items()})
    shift = out['bbox_center'] - 100
    assert np.abs(shift).max() <= 0.16 * 50 + 1e-4 and shift.std() > 1
    zoom = out['bbox_scale'][:, 0] / 50
    assert zoom.min() >= 0.5 - 1e-6 and zoom.max() <= 1.5 + 1e-6
    np.testing.assert_allclose(out['bbox_scale'][:, 0], out['bbox_scale'][:,
                                                                           1])
    assert np.abs(out['bbox_rotation']).max() <= 80 + 1e-4
    assert out['bbox_rotation'].std() > 10

    still = RandomBBoxTransform(shift_prob=0., scale_prob=0., rotate_prob=0.)(
        {k: v.copy() for k, v in sample.items()})
    np.testing.assert_array_equal(still['bbox_center'], sample['bbox_center'])
    np.testing.assert_array_equal(still['bbox_scale'], sample['bbox_scale'])
    assert not still['bbox_rotation'].any()


# ---------------------------------------------------------------------------
# bottom-up
# ---------------------------------------------------------------------------
def test_bottomup_affine_keeps_every_person_and_moves_dots():
    rng = np.random.default_rng(3)
    kpts = spread_points(rng, 3 * 17, (10, 230), (10, 150),
                         16).reshape(3, 17, 2)
    img = render_dots(kpts, 160, 240)
    np.random.seed(0)
    t = BottomupRandomAffine(input_size=(128, 128), rotate_factor=40)
    for _ in range(3):
        out = t(dict(img=img.copy(), img_shape=(160, 240),
                     keypoints=kpts.copy(),
                     bbox=np.array([[0., 0., 50., 50.]] * 3)))
        assert out['img'].shape == (128, 128)
        assert out['keypoints'].shape == (3, 17, 2)  # nobody is dropped
        assert out['bbox'].shape == (3, 4)
        np.testing.assert_allclose(out['keypoints'],
                                   apply_affine(kpts, out['warp_mat']))
        zoom = float(np.hypot(*out['warp_mat'][:, 0]))
        assert_dots_follow(out['img'], out['keypoints'], zoom, 5)
        assert out['input_size'] == (128, 128) and out['img_shape'] == (128,
                                                                       128)


def test_bottomup_affine_scale_is_relative_to_short_side():
    out = BottomupRandomAffine(
        input_size=(64, 64), shift_prob=0., scale_prob=0., rotate_prob=0.)(
            dict(img=np.zeros((100, 200, 3), np.uint8),
                 keypoints=np.array([[[100., 50.], [50., 0.]]])))
    # the short side (100 px) fills the 64 px input; the centre goes middle
    np.testing.assert_allclose(out['keypoints'], [[[32, 32], [0, 0]]],
                               atol=1e-4)


@pytest.mark.parametrize('mode, expected', [('fit', (64, 64)),
                                            ('expand', (128, 64))])
def test_bottomup_resize_keeps_aspect_and_pads(mode, expected):
    rng = np.random.default_rng(4)
    pts = spread_points(rng, 12, (20, 180), (15, 85), 14)
    img = render_dots(pts, 100, 200)
    out = BottomupResize((64, 64), size_factor=32, resize_mode=mode)(
        dict(img=img, ori_shape=(100, 200)))
    assert out['input_size'] == expected
    assert out['img'].shape == expected[::-1]
    warped = apply_affine(pts, out['warp_mat'])
    zoom = out['warp_mat'][0, 0]
    assert out['warp_mat'][1, 1] == pytest.approx(zoom)  # aspect kept
    assert_dots_follow(out['img'], warped, zoom, 4)
    size = np.array(out['input_size'])
    back = (warped / size * out['input_scale'] + out['input_center'] -
            out['input_scale'] / 2)
    np.testing.assert_allclose(back, pts, atol=1e-3)


def test_bottomup_resize_multi_scale_and_errors():
    out = BottomupResize((64, 64), aug_scales=[2., 0.5],
                         resize_mode='expand')(
                             dict(img=np.zeros((100, 200, 3), np.uint8)))
    assert [im.shape[:2] for im in out['img']] == [(64, 128), (128, 256),
                                                   (32, 64)]
    assert out['input_size'] == (128, 64) and out['aug_scales'] == [2., 0.5]
    with pytest.raises(ValueError, match='multiple of size_factor'):
        BottomupResize((50, 64), size_factor=32)(
            dict(img=np.zeros((10, 10, 3), np.uint8)))


def test_heatmap_mask_follows_flip_and_affine_in_any_order():
    """The ignore region, painted white in the image, must coincide with the
    mask's zeros whatever order the geometric transforms ran in."""
    img = np.zeros((120, 160, 3), np.uint8)
    img[30:70, 100:140] = 255
    seg = [[100, 30, 140, 30, 140, 70, 100, 70]]
    hm = [np.zeros((17, 32, 32)), np.zeros((17, 64, 64))]
    affine = BottomupRandomAffine(input_size=(128, 128), rotate_factor=25)
    flip = RandomFlipPose(prob=1., flip_indices=FLIP)
    for order in ([affine, flip], [flip, affine]):
        np.random.seed(5)
        res = dict(img=img.copy(), img_shape=(120, 160), ori_shape=(120, 160),
                   invalid_segs=[seg], keypoints=np.zeros((0, 17, 2)))
        for t in order:
            res = t(res)
        res['heatmaps'] = hm
        res = BottomupGetHeatmapMask()(res)
        masks = res['heatmap_mask']
        assert [m.shape for m in masks] == [(32, 32), (64, 64)]
        for mask in masks:
            small = cv2.resize(res['img'][..., 0], mask.shape[::-1],
                               interpolation=cv2.INTER_AREA)
            ignored = mask == 0
            assert small[(small > 230)].size > 0
            # ignored where the white square is, kept on the (non-padded)
            # dark image, which covers most of the canvas
            assert (~ignored[small > 230]).mean() < 0.05
            canvas = cv2.warpAffine(
                np.ones((120, 160), np.float32),
                np.diag([mask.shape[1] / 128, mask.shape[0] / 128]) @
                res['warp_mat'], mask.shape[::-1])
            inside_dark = (canvas > 0.99) & (small < 20)
            assert ignored[inside_dark].mean() < 0.05
            assert ignored[canvas < 0.01].all()  # outside the image


# ---------------------------------------------------------------------------
# targets, packing, loading
# ---------------------------------------------------------------------------
@KEYPOINT_CODECS.register_module(force=True)
class _EchoCodec:
    """Test codec: heatmap channel k holds keypoint k's x at every pixel."""

    def __init__(self, size=(4, 3), offset=0.):
        self.size, self.offset = size, offset

    def encode(self, keypoints, keypoints_visible=None):
        w, h = self.size
        x = keypoints[0, :, 0, None, None] + self.offset
        heatmaps = np.broadcast_to(x, (keypoints.shape[1], h, w)).copy()
        return dict(heatmaps=heatmaps.astype(np.float32),
                    keypoint_weights=np.ones(keypoints.shape[:2], np.float32))


def test_generate_target_uses_transformed_keypoints_and_weights():
    sample = dict(
        keypoints=np.zeros((1, 17, 2)),
        transformed_keypoints=np.arange(34.).reshape(1, 17, 2),
        keypoints_visible=np.ones((1, 17)),
        dataset_keypoint_weights=COCO_METAINFO['dataset_keypoint_weights'])
    out = GenerateTarget(
        encoder=dict(type='_EchoCodec'),
        use_dataset_keypoint_weights=True)(dict(sample))
    assert out['heatmaps'].shape == (17, 3, 4)
    np.testing.assert_allclose(out['heatmaps'][:, 0, 0], np.arange(0, 34, 2))
    np.testing.assert_allclose(out['keypoint_weights'][0],
                               COCO_METAINFO['dataset_keypoint_weights'])

    multi = GenerateTarget(encoder=[
        dict(type='_EchoCodec'),
        dict(type='_EchoCodec', size=(8, 6), offset=1.)
    ])(dict(sample))
    assert [h.shape for h in multi['heatmaps']] == [(17, 3, 4), (17, 6, 8)]
    assert multi['heatmaps'][1][3, 0, 0] == 7.
    assert len(multi['keypoint_weights']) == 2


def test_generate_target_with_msra_heatmap_codec():
    if 'MSRAHeatmap' not in KEYPOINT_CODECS:
        pytest.skip('MSRAHeatmap codec not available')
    out = GenerateTarget(encoder=dict(
        type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16),
        sigma=2))(dict(
            transformed_keypoints=np.full((1, 17, 2), [20., 36.]),
            keypoints_visible=np.ones((1, 17))))
    assert out['heatmaps'].shape == (17, 16, 12)
    y, x = np.unravel_index(out['heatmaps'][0].argmax(), (16, 12))
    assert (x, y) == (5, 9)  # (20, 36) / 4


def test_pack_pose_inputs():
    results = dict(
        img=np.random.randint(0, 255, (8, 6, 3), np.uint8),
        img_id=3,
        id=11,
        img_shape=(8, 6),
        input_size=(6, 8),
        flip=False,
        not_meta='x',
        bbox=np.zeros((2, 4)),
        bbox_score=np.ones(2),
        keypoints=np.zeros((2, 17, 2)),
        keypoints_visible=np.ones((2, 17)),
        keypoint_weights=np.ones((2, 17), np.float32),
        heatmaps=np.zeros((17, 4, 3), np.float32),
        heatmap_mask=np.ones((4, 3), np.float32))
    out = PackPoseInputs()(results)
    assert torch.equal(out['inputs'],
                       torch.from_numpy(results['img']).permute(2, 0, 1))
    sample = out['data_samples']
    assert isinstance(sample, PoseDataSample)
    assert sample.img_id == 3 and sample.id == 11 and sample.input_size == (6,
                                                                            8)
    assert 'not_meta' not in sample.metainfo
    assert isinstance(sample.gt_instances, InstanceData)
    assert sample.gt_instances.bboxes.shape == (2, 4)
    assert sample.gt_instances.bbox_scores.shape == (2, )
    assert sample.gt_instances.keypoints.shape == (2, 17, 2)
    assert isinstance(sample.gt_instance_labels, InstanceData)
    assert isinstance(sample.gt_instance_labels.keypoint_weights,
                      torch.Tensor)
    assert isinstance(sample.gt_fields, PixelData)
    assert sample.gt_fields.heatmaps.shape == (17, 4, 3)
    assert sample.gt_fields.heatmap_mask.shape == (1, 4, 3)


def test_pack_pose_inputs_multilevel_and_padded_labels():
    out = PackPoseInputs()(dict(
        img=[np.zeros((8, 8, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)],
        keypoints=np.zeros((2, 17, 2)),
        keypoint_weights=np.ones((2, 17), np.float32),
        keypoint_indices=np.zeros((30, 17, 2), np.int64),
        heatmaps=[np.zeros((17, 2, 2)), np.zeros((17, 4, 4))],
        heatmap_mask=[np.ones((2, 2)), np.ones((4, 4))]))
    assert [x.shape for x in out['inputs']] == [(3, 8, 8), (3, 16, 16)]
    fields = out['data_samples'].gt_fields
    assert [f.heatmaps.shape[-1] for f in fields] == [2, 4]
    assert [f.heatmap_mask.shape for f in fields] == [(1, 2, 2), (1, 4, 4)]
    labels = out['data_samples'].gt_instance_labels
    assert labels.keypoint_indices.shape == (30, 17, 2)
    assert labels.keypoint_weights.shape == (2, 17)


def test_load_image(tmp_path):
    path = tmp_path / 'a.png'
    cv2.imwrite(str(path), np.full((5, 7, 3), 9, np.uint8))
    out = LoadImage()(dict(img_path=str(path)))
    assert out['img'].shape == (5, 7, 3) and out['ori_shape'] == (5, 7)
    given = LoadImage()(dict(img=np.zeros((4, 6, 3), np.uint8)))
    assert given['img_shape'] == (4, 6)
    with pytest.raises(FileNotFoundError, match='missing.png'):
        LoadImage()(dict(img_path=str(tmp_path / 'missing.png')))
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='bad.png'):
        LoadImage()(dict(img_path=str(bad)))


def test_warp_matrix_is_a_rotation_and_zoom():
    m = get_warp_matrix(np.array([10., 20.]), np.array([40., 40.]), 90.,
                        (20, 20))
    # 90 degrees: image +y (down) maps to output +x, zoom 0.5
    np.testing.assert_allclose(
        apply_affine(np.array([[10., 20.], [10., 30.]]), m),
        [[10., 10.], [15., 10.]], atol=1e-5)
