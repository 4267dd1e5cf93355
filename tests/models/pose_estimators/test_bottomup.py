"""BottomupPoseEstimator (HigherHRNet): losses, inference geometry (flip,
multi-scale, the official half-pixel convention), official checkpoints, a
short learning run and the real-COCO plumbing.

Most inference tests replace the network by an *oracle* that returns the
encoded ground truth of whatever tensor it is given (flipped or not, at any
test scale), so that everything after the network - resampling, flip-back,
scale merging, decoding and the inverse affine - runs for real and must
give back the annotated people.
"""
import copy
import json
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose_plus  # noqa: F401  (registers our modules)
from mmpose_plus.codecs import AssociativeEmbedding
from mmpose_plus.datasets.coco_meta import COCO_FLIP_INDICES
from mmpose_plus.datasets.tiny_coco import generate_tiny_coco
from mmpose_plus.models.pose_estimators import (BottomupPoseEstimator,
                                                resample_maps)
from mmpose_plus.models.utils import load_pose_checkpoint
from mmpose_plus.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmpose_plus.structures import PoseDataSample

K = 17
FLIP = list(COCO_FLIP_INDICES)
REPO = Path(__file__).resolve().parents[3]
CONFIGS = REPO / 'configs' / 'pose'
TINY_CONFIG = CONFIGS / 'tiny' / 'higherhrnet_tiny_tinycoco.py'
SHARED_COCO = REPO / '..' / 'shared' / 'data' / 'coco'


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmpose_plus')
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def _tiny_model_cfg(**test_cfg) -> dict:
    cfg = copy.deepcopy(Config.fromfile(str(TINY_CONFIG)).model.to_dict())
    cfg['test_cfg'] = dict(cfg.get('test_cfg', {}), **test_cfg)
    return cfg


def _tiny_model(seed: int = 0, **test_cfg) -> BottomupPoseEstimator:
    torch.manual_seed(seed)
    model = MODELS.build(_tiny_model_cfg(**test_cfg))
    model.init_weights()
    return model.eval()


def _pipeline(input_size, aug_scales=None, size_factor=32) -> Compose:
    return Compose([
        TRANSFORMS.build(dict(type='LoadImage')),
        TRANSFORMS.build(
            dict(
                type='BottomupResize',
                input_size=input_size,
                aug_scales=aug_scales,
                size_factor=size_factor,
                resize_mode='expand')),
        TRANSFORMS.build(dict(type='PackPoseInputs'))
    ])


def _batch(model, packed: Sequence[dict]) -> dict:
    """Collate packed samples as the dataloader does (mmengine's
    pseudo_collate) and preprocess them."""
    return model.data_preprocessor(pseudo_collate(list(packed)))


# ----------------------------------------------------------------------
# scenes and the oracle network
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """A 200x150 image with three people (non-square: the test canvases
    are padded, and scale 2 is not twice scale 1)."""
    out = tmp_path_factory.mktemp('bu_scene')
    ann = generate_tiny_coco(
        str(out), num_images=1, persons_per_image=3, image_size=(200, 150),
        seed=3)
    coco = json.loads(Path(ann).read_text())
    kpts = np.array([a['keypoints'] for a in coco['annotations']],
                    np.float64).reshape(-1, K, 3)
    img = TRANSFORMS.build(dict(type='LoadImage'))(
        dict(img_path=str(out / 'images' /
                          coco['images'][0]['file_name'])))['img']
    return dict(img=img, keypoints=kpts[..., :2], visible=kpts[..., 2] > 0)


class Oracle:
    """Stands in for ``model._forward``: returns ``[heatmaps + tags at 1/4,
    heatmaps at 1/2]`` encoding the ground-truth people of each image it
    receives, mirrored (with left/right swapped) when the image is the
    mirror of the test canvas, at the geometry of its test scale.

    Tags: every pixel of tag channel k carries ``2 * p`` for the person p
    whose joint k is nearest. A little noise breaks exact heatmap ties.
    """

    def __init__(self, keypoints: np.ndarray, visible: np.ndarray,
                 data: dict) -> None:
        self.keypoints = keypoints
        self.visible = visible
        self.canvases: Dict[Tuple[int, int], dict] = {}
        imgs = data['inputs']
        imgs = list(imgs) if isinstance(imgs, list) else [imgs]
        meta = data['data_samples'][0].metainfo
        scales = [1.] + list(meta.get('aug_scales') or [])
        for scale, img in zip(scales, imgs):
            h, w = img.shape[-2:]
            # BottomupResize: image centre -> canvas centre, zoom scale * z1
            zoom = scale * meta['input_size'][0] / meta['input_scale'][0]
            self.canvases[(w, h)] = dict(
                img=img[0], zoom=zoom, center=meta['input_center'])
        self.gen = torch.Generator().manual_seed(0)
        self.calls = []

    def _encode(self, img: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        h, w = img.shape[-2:]
        canvas = self.canvases[(w, h)]
        kpts = ((self.keypoints - canvas['center']) * canvas['zoom'] +
                np.array([w, h]) / 2.)
        visible = self.visible
        mirrored = not torch.equal(img, canvas['img'])
        if mirrored:
            assert torch.equal(img, canvas['img'].flip(-1))
            kpts = kpts[:, FLIP].copy()
            visible = visible[:, FLIP]
            kpts[..., 0] = w - 1 - kpts[..., 0]
        self.calls.append(((w, h), mirrored))
        codec = AssociativeEmbedding((w, h), [(w // 4, h // 4),
                                              (w // 2, h // 2)])
        enc = codec.encode(kpts, visible.astype(np.float32))
        ys, xs = np.mgrid[0:h // 4, 0:w // 4]
        tags = np.zeros((K, h // 4, w // 4), np.float32)
        for k in range(K):
            d = ((xs[None] - kpts[:, k, 0, None, None] / 4)**2 +
                 (ys[None] - kpts[:, k, 1, None, None] / 4)**2)
            d[~visible[:, k]] = np.inf
            tags[k] = 2. * d.argmin(axis=0)
        return np.concatenate([enc['heatmaps'][0], tags]), \
            enc['heatmaps'][1]

    def __call__(self, inputs: torch.Tensor, data_samples=None) -> list:
        quarter, half = zip(*[self._encode(img) for img in inputs])
        quarter = torch.from_numpy(np.stack(quarter))
        half = torch.from_numpy(np.stack(half))
        quarter[:, :K] += 1e-3 * torch.rand(
            quarter[:, :K].shape, generator=self.gen)
        half += 1e-3 * torch.rand(half.shape, generator=self.gen)
        return [quarter, half]


def _oracle_predict(scene, aug_scales=None, img=None, input_size=(128, 128),
                    **test_cfg):
    model = _tiny_model(**test_cfg)
    packed = _pipeline(input_size, aug_scales)(
        dict(img=scene['img'] if img is None else img, img_id=1,
             flip_indices=FLIP))
    data = _batch(model, [packed])
    oracle = Oracle(scene['keypoints'], scene['visible'], data)
    model._forward = oracle
    with torch.no_grad():
        pred = model.predict(data['inputs'], data['data_samples'])[0]
    return pred.pred_instances, oracle


def _match(pred, gt: np.ndarray, visible: np.ndarray):
    """Per ground-truth person: errors (K,) of the best predicted person."""
    errors = []
    for g, v in zip(gt, visible):
        d = np.linalg.norm(pred.keypoints - g[None], axis=-1)
        best = (d * v).sum(-1).argmin()
        errors.append(np.where(v, d[best], 0.))
    return np.stack(errors)


def _signed_bias(pred, gt: np.ndarray) -> np.ndarray:
    out = []
    for g in gt:
        d = np.linalg.norm(pred.keypoints - g[None], axis=-1).mean(-1)
        out.append(pred.keypoints[d.argmin()] - g)
    return np.concatenate(out).mean(axis=0)


# ----------------------------------------------------------------------
# geometry helper
# ----------------------------------------------------------------------
def test_resample_maps_matches_interpolate_flip_and_zeroes_outside():
    x = torch.rand(2, 3, 5, 7)
    # align_corners=False upsampling: u = (v + 0.5) / 2 - 0.5
    up = resample_maps(x, (14, 10), (0.5, -0.25), (0.5, -0.25))
    ref = F.interpolate(x, (10, 14), mode='bilinear', align_corners=False)
    assert torch.allclose(up, ref, atol=1e-6)
    assert torch.equal(resample_maps(x, (7, 5), (-1, 6), (1, 0)),
                       x.flip(-1))
    # index scaling (our convention): even output pixels are source pixels
    scaled = resample_maps(x, (14, 10), (0.5, 0.), (0.5, 0.))
    assert torch.allclose(scaled[..., ::2, ::2], x, atol=1e-6)
    # beyond half a pixel outside the source area: no response
    shifted = resample_maps(x, (7, 5), (1, 3), (1, 0))
    assert torch.allclose(shifted[..., :4], x[..., 3:], atol=1e-6)
    assert (shifted[..., 4:] == 0).all()


# ----------------------------------------------------------------------
# training
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_coco_bu')
    generate_tiny_coco(str(root), 48, seed=0,
                       ann_name='person_keypoints_train.json',
                       img_dir='train')
    generate_tiny_coco(str(root), 12, seed=1,
                       ann_name='person_keypoints_val.json', img_dir='val')
    return root


def _dataset(loader_cfg: dict, root: Path):
    cfg = copy.deepcopy(loader_cfg['dataset'])
    cfg['data_root'] = str(root) + '/'
    return DATASETS.build(cfg)


def _train_batch(model, cfg, root, n=4):
    dataset = _dataset(cfg.train_dataloader, root)
    data = pseudo_collate([dataset[i] for i in range(n)])
    return model.data_preprocessor(data, True)


def test_loss_of_perfect_outputs_is_zero_except_push(tiny_coco):
    cfg = Config.fromfile(str(TINY_CONFIG))
    model = _tiny_model()
    batch = _train_batch(model, cfg, tiny_coco)
    samples = batch['data_samples']
    quarter = torch.stack([s.gt_fields[0].heatmaps for s in samples])
    half = torch.stack([s.gt_fields[1].heatmaps for s in samples])
    tags = torch.zeros_like(quarter)
    people = []
    for i, s in enumerate(samples):
        idx = s.gt_instance_labels.keypoint_indices
        valid = idx[..., 1] > 0
        people.append(valid.any(-1).nonzero()[:, 0].tolist())
        for p, k in zip(*torch.nonzero(valid, as_tuple=True)):
            tags[i, k].view(-1)[idx[p, k, 0]] = 3. * p
    assert max(len(rows) for rows in people) > 1
    model.head.forward = lambda feats: [torch.cat([quarter, tags], 1), half]
    losses = model.loss(batch['inputs'], samples)
    assert set(losses) == {'loss_heatmap', 'loss_pull', 'loss_push'}
    assert float(losses['loss_heatmap']) == 0.
    assert float(losses['loss_pull']) == 0.
    # push: 0.5 * mean over pairs of exp(-(3 dp)^2), averaged over images
    expected = []
    for rows in people:
        pairs = [(a, b) for a in rows for b in rows if a != b]
        expected.append(0.5 * np.mean([np.exp(-(3. * (a - b))**2)
                                       for a, b in pairs]) if pairs else 0.)
    assert float(losses['loss_push']) == pytest.approx(
        0.001 * np.mean(expected), rel=1e-4)


def test_loss_is_finite_and_reaches_every_parameter(tiny_coco):
    cfg = Config.fromfile(str(TINY_CONFIG))
    model = _tiny_model().train()
    batch = _train_batch(model, cfg, tiny_coco)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    missing = [
        n for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum())
    ]
    assert not missing, missing


def test_loss_errors_name_the_sample_and_the_fix(tiny_coco):
    cfg = Config.fromfile(str(TINY_CONFIG))
    model = _tiny_model()
    batch = _train_batch(model, cfg, tiny_coco, n=2)
    sample = batch['data_samples'][1]
    del sample.gt_instance_labels
    with pytest.raises(KeyError, match='#1 img_id=.*GenerateTarget'):
        model.loss(batch['inputs'], batch['data_samples'])
    sample = batch['data_samples'][0]
    sample.gt_fields = sample.gt_fields[:1]
    with pytest.raises(ValueError, match='1 resolutions.*2 outputs'):
        model.loss(batch['inputs'], batch['data_samples'][:1])
    with pytest.raises(ValueError, match='unknown test_cfg'):
        MODELS.build(_tiny_model_cfg(flip=True))


# ----------------------------------------------------------------------
# inference geometry (oracle network)
# ----------------------------------------------------------------------
@pytest.mark.parametrize('flip_test', [False, True])
@pytest.mark.parametrize('project2image', [True, False])
def test_predict_recovers_every_person_in_image_pixels(
        scene, flip_test, project2image):
    pred, oracle = _oracle_predict(
        scene, flip_test=flip_test, project2image=project2image)
    assert [m for _, m in oracle.calls] == [False, True][:1 + flip_test]
    confident = pred.bbox_scores > 0.5
    assert confident.sum() == len(scene['keypoints'])
    assert pred.keypoints.shape[1:] == (K, 2)
    assert pred.keypoint_scores.shape == pred.keypoints.shape[:2]
    errors = _match(pred, scene['keypoints'], scene['visible'])
    # quantisation of 1/4 and 1/2 heatmaps of a canvas at zoom 0.85
    assert errors.max() < 2.5 and errors.mean() < 1.0


def test_pixel_offset_selects_the_training_convention(scene):
    # our codec puts targets on the nearest heatmap pixel: offset 0 is
    # unbiased; the official half-pixel convention shifts every joint
    ours, _ = _oracle_predict(scene, flip_test=False)
    official, _ = _oracle_predict(scene, flip_test=False, pixel_offset=0.5)
    assert np.abs(_signed_bias(ours, scene['keypoints'])).max() < 0.25
    assert (_signed_bias(official, scene['keypoints']) > 0.75).all()


@pytest.mark.parametrize('flip_test', [False, True])
def test_multiscale_test_merges_scales_on_uneven_canvases(scene, flip_test):
    single, _ = _oracle_predict(scene, flip_test=flip_test)
    multi, oracle = _oracle_predict(
        scene, aug_scales=[2, 0.5], flip_test=flip_test)
    sizes = sorted({size for size, _ in oracle.calls})
    # scale 2 of a 192x128 canvas is 352x256 (padding differs per scale)
    assert sizes == [(96, 64), (192, 128), (352, 256)]
    assert len(oracle.calls) == 3 * (1 + flip_test)
    assert (multi.bbox_scores > 0.5).sum() == len(scene['keypoints'])
    err_multi = _match(multi, scene['keypoints'], scene['visible'])
    err_single = _match(single, scene['keypoints'], scene['visible'])
    assert err_multi.max() < 1.5
    assert err_multi.mean() < err_single.mean()
    # with multiscale_test=False only scale 1 runs
    only_one, oracle = _oracle_predict(
        scene, aug_scales=[2, 0.5], flip_test=flip_test,
        multiscale_test=False)
    assert {size for size, _ in oracle.calls} == {(192, 128)}
    np.testing.assert_allclose(only_one.keypoints, single.keypoints)


def _boosted_model(seed=0, **test_cfg):
    """Tiny model whose random output layers give plenty of peaks above the
    detection threshold and spread-out tags."""
    model = _tiny_model(seed, **test_cfg)
    with torch.no_grad():
        for layer in model.head.final_layers:
            layer.weight.normal_(0, 0.3)
            layer.bias.fill_(0.1)
    return model


@pytest.mark.parametrize('offset,project2image', [(0., True), (0.5, True),
                                                   (0.5, False)])
def test_flip_test_is_mirror_symmetric_on_a_symmetric_image(
        offset, project2image):
    model = _boosted_model(
        flip_test=True, pixel_offset=offset, project2image=project2image,
        output_heatmaps=True)
    x = torch.rand(1, 3, 64, 96)
    x = (x + x.flip(-1)) / 2
    sample = PoseDataSample(
        metainfo=dict(input_size=(96, 64), input_center=np.array([48., 32.]),
                      input_scale=np.array([96., 64.]), flip_indices=FLIP))
    with torch.no_grad():
        out = model.predict(x, [sample])[0]
    heat, tags = out.pred_fields.heatmaps, out.pred_fields.tags
    assert tags.shape[0] == 2 * K
    torch.testing.assert_close(heat, heat[FLIP].flip(-1), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(tags[K:], tags[:K][FLIP].flip(-1), atol=1e-5,
                               rtol=0)


def _official_inference(model, x: torch.Tensor, flip: bool,
                        size: Tuple[int, int]) -> Tuple[torch.Tensor, ...]:
    """Heatmaps and tags the way the HigherHRNet code aggregates them:
    F.interpolate(align_corners=False) to the largest output, mirrored
    outputs flipped as arrays, then resized to ``size`` (w, h)."""
    heats, tags = [], []
    for mirrored in ([False, True] if flip else [False]):
        outs = model._forward(x.flip(3) if mirrored else x)
        heat = 0
        for i, out in enumerate(outs):
            if i < len(outs) - 1:
                out = F.interpolate(out, outs[-1].shape[-2:],
                                    mode='bilinear', align_corners=False)
            if mirrored:
                out = torch.flip(out, [3])
            h, t = out[:, :K], out[:, K:]
            heat = heat + (h[:, FLIP] if mirrored else h)
            if i == 0:  # the 1/4 output carries the tags
                tags.append(t[:, FLIP] if mirrored else t)
        heats.append(heat / len(outs))
    resize = lambda m: F.interpolate(  # noqa: E731
        m, (size[1], size[0]), mode='bilinear', align_corners=False)
    heat = sum(resize(h) for h in heats) / len(heats)
    return heat, torch.cat([resize(t) for t in tags], dim=1)


@pytest.mark.parametrize('project2image', [True, False])
def test_half_pixel_offset_reproduces_the_official_inference(
        project2image):
    model = _boosted_model(
        seed=1, flip_test=True, pixel_offset=0.5,
        project2image=project2image, output_heatmaps=True)
    x = torch.rand(1, 3, 64, 96)
    center, scale = np.array([150., 100.]), np.array([300., 200.])
    sample = PoseDataSample(
        metainfo=dict(input_size=(96, 64), input_center=center,
                      input_scale=scale, flip_indices=FLIP))
    with torch.no_grad():
        out = model.predict(x, [sample])[0]
        size = (96, 64) if project2image else (48, 32)
        heat, tags = _official_inference(model, x, True, size)
    torch.testing.assert_close(out.pred_fields.heatmaps, heat[0],
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(out.pred_fields.tags, tags[0], atol=1e-5,
                               rtol=0)
    # decoding: +0.5 px on the decoding grid, then the inverse affine (the
    # aggregated maps are decoded: random tags make the grouping sensitive
    # to float-level differences)
    kpts, scores, inst = model.codec.batch_decode(
        out.pred_fields.heatmaps[None], out.pred_fields.tags[None])
    stride = 96 / size[0]
    grid = kpts[0] * np.array(size) / np.array(model.codec.input_size)
    expected = (grid + 0.5) * stride / np.array([96, 64]) * scale + \
        center - scale / 2
    assert len(expected) > 1
    np.testing.assert_allclose(out.pred_instances.keypoints, expected,
                               atol=1e-3)
    np.testing.assert_allclose(out.pred_instances.keypoint_scores,
                               scores[0], atol=1e-5)
    np.testing.assert_allclose(out.pred_instances.bbox_scores, inst[0],
                               atol=1e-5)


def test_half_pixel_offset_multiscale_equals_plain_resizing():
    """With proportional canvases (what the official code builds) the
    multi-scale merge is a plain align_corners=False resize per scale."""
    model = _boosted_model(
        seed=2, flip_test=False, pixel_offset=0.5, output_heatmaps=True)
    x1 = torch.rand(1, 3, 64, 96)
    x2 = F.interpolate(x1, (128, 192), mode='bilinear', align_corners=False)
    sample = PoseDataSample(
        metainfo=dict(input_size=(96, 64), input_center=np.array([48., 32.]),
                      input_scale=np.array([96., 64.]), aug_scales=[2],
                      ori_shape=(64, 96), flip_indices=FLIP))
    with torch.no_grad():
        out = model.predict([x1, x2], [sample])[0]
        h1, t1 = _official_inference(model, x1, False, (96, 64))
        h2, _ = _official_inference(model, x2, False, (96, 64))
    torch.testing.assert_close(out.pred_fields.heatmaps, (h1 + h2)[0] / 2,
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(out.pred_fields.tags, t1[0], atol=1e-5,
                               rtol=0)


def test_predict_input_errors(scene):
    model = _tiny_model(flip_test=False)
    packed = _pipeline((128, 128), [2])(dict(img=scene['img'], img_id=7))
    data = _batch(model, [packed])
    sample = data['data_samples'][0]
    with pytest.raises(ValueError, match='one data sample per image'):
        model.predict(data['inputs'], [sample, sample])
    sample.set_metainfo(dict(aug_scales=[2, 0.5]))
    with pytest.raises(ValueError, match='2 scales.*aug_scales'):
        model.predict(data['inputs'], [sample])
    bare = PoseDataSample(metainfo=dict(img_id=7))
    with pytest.raises(KeyError, match='img_id=7.*input_center'):
        model.predict(data['inputs'][0], [bare])
    flip_model = _tiny_model(flip_test=True)
    with pytest.raises(KeyError, match='flip_indices'):
        flip_model.predict(data['inputs'][0], [sample])


def test_multiscale_through_pseudo_collate(scene):
    model = _tiny_model(flip_test=False)
    packed = _pipeline((128, 128), [2, 0.5])(
        dict(img=scene['img'], img_id=1, flip_indices=FLIP))
    data = model.data_preprocessor(pseudo_collate([packed]))
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    assert len(out) == 1


# ----------------------------------------------------------------------
# official checkpoints
# ----------------------------------------------------------------------
def _to_layout(state_dict: dict, layout: str) -> dict:
    out = {}
    for key, value in state_dict.items():
        part, rest = key.split('.', 1)
        if layout == 'official':
            out[rest] = value
        else:  # mmpose 0.x
            out[('keypoint_head.' if part == 'head' else 'backbone.') +
                rest] = value
    return out


@pytest.mark.parametrize('layout', ['official', 'mmpose0.x'])
def test_released_layouts_load_strictly_with_identical_outputs(layout):
    source = _boosted_model(seed=3, flip_test=True, output_heatmaps=True)
    # trained-looking BN statistics
    for name, buf in source.named_buffers():
        if name.endswith('running_mean'):
            buf.normal_(0, 0.1)
        elif name.endswith('running_var'):
            buf.uniform_(0.5, 1.5)
    released = {
        k: v.clone()
        for k, v in _to_layout(source.state_dict(), layout).items()
        if not k.endswith('num_batches_tracked')  # old PyTorch had none
    }
    assert ('final_layers.0.weight' in released) == (layout == 'official')
    target = _tiny_model(seed=4, flip_test=True, output_heatmaps=True)
    report = load_pose_checkpoint(target, {'state_dict': released})
    assert report.ok and report.layout == layout
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        for a, b in zip(source(x), target(x)):
            assert torch.equal(a, b)
    sample = PoseDataSample(
        metainfo=dict(input_size=(96, 64), input_center=np.array([48., 32.]),
                      input_scale=np.array([96., 64.]), flip_indices=FLIP))
    with torch.no_grad():
        pa = source.predict(x, [sample.clone()])[0].pred_instances
        pb = target.predict(x, [sample.clone()])[0].pred_instances
    assert len(pa.keypoints) > 0
    np.testing.assert_array_equal(pa.keypoints, pb.keypoints)
    np.testing.assert_array_equal(pa.bbox_scores, pb.bbox_scores)


def test_w32_and_w48_configs_have_the_official_higherhrnet_keys():
    expected = {
        'higherhrnet_w32_8xb24-300e_coco-512x512.py': {
            'final_layers.0.weight': (34, 32, 1, 1),
            'final_layers.1.weight': (17, 32, 1, 1),
            'deconv_layers.0.0.0.weight': (66, 32, 4, 4),
            'deconv_layers.0.4.0.bn2.running_var': (32, ),
            'transition1.0.0.weight': (32, 256, 3, 3),
            'transition1.1.0.0.weight': (64, 256, 3, 3),
            'stage4.2.fuse_layers.0.3.0.weight': (32, 256, 1, 1),
        },
        'higherhrnet_w48_8xb24-300e_coco-640x640.py': {
            'final_layers.0.weight': (34, 48, 1, 1),
            'deconv_layers.0.0.0.weight': (82, 48, 4, 4),
        },
    }
    for name, keys in expected.items():
        cfg = Config.fromfile(str(CONFIGS / name))
        model = MODELS.build(cfg.model)  # no init_weights: no download
        official = _to_layout(model.state_dict(), 'official')
        for key, shape in keys.items():
            assert tuple(official[key].shape) == shape, (name, key)
        assert not any(k.startswith('stage4.2.fuse_layers.1') for k in
                       official)
        report = load_pose_checkpoint(model, official)
        assert report.ok and report.layout == 'official'
        assert cfg.model.codec.input_size[0] == \
            4 * cfg.model.codec.heatmap_size[0][0]


# ----------------------------------------------------------------------
# configs and learning
# ----------------------------------------------------------------------
def test_tiny_config_train_and_test_step(tiny_coco):
    cfg = Config.fromfile(str(TINY_CONFIG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    train = _dataset(cfg.train_dataloader, tiny_coco)
    model.train()
    log_vars = model.train_step(
        pseudo_collate([train[0], train[1]]), optim)
    assert np.isfinite(log_vars['loss'].item())
    val = _dataset(cfg.val_dataloader, tiny_coco)
    model.eval()
    with torch.no_grad():
        out = model.test_step(pseudo_collate([val[0]]))
    assert out[0].pred_instances.keypoints.shape[1:] == (K, 2)
    assert cfg.default_hooks.checkpoint.save_best == 'coco/AP'


def _coco_ap(model, dataset, ann_file: str) -> float:
    metric = METRICS.build(
        dict(type='CocoKeypointMetric', ann_file=ann_file,
             score_mode='bbox', nms_mode='none'))
    metric.dataset_meta = dataset.metainfo
    model.eval()
    with torch.no_grad():
        for i in range(len(dataset)):
            out = model.test_step(pseudo_collate([dataset[i]]))
            metric.process(None, [o.to_dict() for o in out])
    return metric.evaluate(len(dataset))['coco/AP']


@pytest.mark.slow
def test_tiny_higherhrnet_learns_the_generated_people(tiny_coco):
    cfg = Config.fromfile(str(TINY_CONFIG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    train = _dataset(cfg.train_dataloader, tiny_coco)
    val = _dataset(cfg.val_dataloader, tiny_coco)
    ann = str(tiny_coco / 'person_keypoints_val.json')
    ap_before = _coco_ap(model, val, ann)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    rng = np.random.default_rng(0)
    losses = []
    model.train()
    for _ in range(120):
        idx = rng.choice(len(train), 16, replace=False)
        log_vars = model.train_step(pseudo_collate([train[i] for i in idx]),
                                    optim)
        losses.append(log_vars['loss'].item())
    ap_after = _coco_ap(model, val, ann)
    assert np.mean(losses[-10:]) < 0.4 * np.mean(losses[:10])
    assert ap_before < 0.01 and ap_after > 0.05


# ----------------------------------------------------------------------
# real COCO images (skipped without ../shared/data/coco)
# ----------------------------------------------------------------------
needs_coco = pytest.mark.skipif(
    not (SHARED_COCO / 'test_coco.json').is_file(),
    reason='../shared/data/coco is not available')


def _real_dataset(pipeline):
    return DATASETS.build(
        dict(
            type='CocoKeypointDataset',
            data_root=str(SHARED_COCO) + '/',
            ann_file='test_coco.json',
            data_mode='bottomup',
            test_mode=True,
            pipeline=pipeline))


@needs_coco
def test_real_coco_test_pipeline_predict_and_metric():
    cfg = Config.fromfile(
        str(CONFIGS / 'higherhrnet_w32_8xb24-300e_coco-512x512.py'))
    pipeline = copy.deepcopy(cfg.test_pipeline)
    pipeline[1]['input_size'] = (256, 256)  # keep the tiny model fast
    dataset = _real_dataset(pipeline)
    assert len(dataset) == 4
    model = _boosted_model(flip_test=True)
    ann = str(SHARED_COCO / 'test_coco.json')
    evaluator = cfg.test_evaluator
    metric = METRICS.build(dict(evaluator, ann_file=ann))
    metric.dataset_meta = dataset.metainfo
    with torch.no_grad():
        for i in range(len(dataset)):
            out = model.test_step(pseudo_collate([dataset[i]]))
            pred = out[0].pred_instances
            h, w = out[0].ori_shape
            assert pred.keypoints.shape[1:] == (K, 2) and len(pred) > 0
            # people are reported in image pixels (near the image)
            assert pred.keypoints[..., 0].max() < w + 64
            assert pred.keypoints[..., 1].max() < h + 64
            metric.process(None, [o.to_dict() for o in out])
    result = metric.evaluate(len(dataset))
    assert 0. <= result['coco/AP'] <= 1.


@needs_coco
def test_real_coco_ground_truth_through_predict_scores_high_ap():
    """The oracle network on the real images: the test resize (short side
    512, padded to 64), flip test, decoding and the inverse affine must put
    the annotated people back where COCO has them."""
    coco = json.loads((SHARED_COCO / 'test_coco.json').read_text())
    model = _tiny_model(flip_test=True)
    dataset = _real_dataset([dict(type='LoadImage')])
    pipeline = _pipeline((512, 512), size_factor=64)
    metric = METRICS.build(
        dict(type='CocoKeypointMetric',
             ann_file=str(SHARED_COCO / 'test_coco.json'),
             score_mode='bbox', nms_mode='none'))
    metric.dataset_meta = dataset.metainfo
    people = 0
    for i in range(len(dataset)):
        info = dataset[i]
        packed = pipeline(dict(img=info['img'], img_id=info['img_id'],
                               flip_indices=FLIP))
        data = _batch(model, [packed])
        model._forward = Oracle(info['keypoints'],
                                info['keypoints_visible'] > 0, data)
        with torch.no_grad():
            out = model.predict(data['inputs'], data['data_samples'])
        people += len(info['keypoints'])
        metric.process(None, [o.to_dict() for o in out])
    assert people == sum(a['num_keypoints'] > 0 and not a['iscrowd']
                         for a in coco['annotations'])
    assert metric.evaluate(len(dataset))['coco/AP'] > 0.99
