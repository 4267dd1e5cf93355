"""Heatmap-volume PNG grids: geometry of the grid, bright pixels where the
keypoints are, and the tools/analysis/vis_heatmaps.py command line (config
pipeline and annotation-file modes)."""
import importlib.util
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmpose_plus.datasets.transforms.heatmap_rendering import \
    render_keypoint_heatmaps
from mmpose_plus.visualization import (even_frame_indices,
                                       heatmap_volume_grid,
                                       pose_channel_names)

REPO = Path(__file__).resolve().parents[2]
H, W = 20, 30


def known_keypoints(num_frames=3, num_joints=4) -> np.ndarray:
    """(1, T, V, 2) integer positions, distinct per joint and frame and at
    least 5 px apart."""
    kp = np.zeros((1, num_frames, num_joints, 2), np.float32)
    for t in range(num_frames):
        for v in range(num_joints):
            kp[0, t, v] = (4 + 7 * v, 3 + 5 * t + (v % 2) * 2)
    return kp


def brightness(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)


def test_grid_size_and_peaks_at_keypoints():
    kp = known_keypoints()
    vol = render_keypoint_heatmaps(kp, None, (H, W), sigma=1.0)  # (T,V,H,W)
    img, layout = heatmap_volume_grid(
        vol,
        order='TCHW',
        scale=3,
        channel_names=['a', 'b', 'c', 'd'],
        title='test',
        return_layout=True)
    assert img.dtype == np.uint8
    assert img.shape == (layout.height, layout.width, 3)
    assert (layout.rows, layout.cols) == (5, 3)  # summary row + 4 joints
    assert (layout.cell_h, layout.cell_w) == (3 * H, 3 * W)
    # Every cell lies inside the image, cells do not overlap, and the grid
    # plus margins is what the image holds.
    boxes = [layout.cell_box(r, c) for r in range(5) for c in range(3)]
    for x, y, w, h in boxes:
        assert 0 < x and x + w <= img.shape[1]
        assert 0 < y and y + h <= img.shape[0]
    x0, y0, _, _ = layout.cell_box(0, 0)
    x1, y1, w1, h1 = layout.cell_box(4, 2)
    assert x1 + w1 - x0 == 3 * 3 * W + 2 * layout.gap
    assert y1 + h1 - y0 == 5 * 3 * H + 4 * layout.gap
    assert img.shape[1] - (x1 + w1 - x0) < 120  # margins stay small

    gray = brightness(img)
    for t in range(3):
        for v in range(4):
            x, y, w, h = layout.cell_box(v + 1, t)
            cell = gray[y:y + h, x:x + w]
            py, px = np.unravel_index(np.argmax(cell), cell.shape)
            ex, ey = layout.to_pixel(v + 1, t, *kp[0, t, v])
            assert abs(x + px - ex) <= 1.5 and abs(y + py - ey) <= 1.5
            assert cell.max() > 200
            # Far from the joint (> 4 sigma) the cell is dark.
            yy, xx = np.mgrid[y:y + h, x:x + w]
            far = np.hypot(xx - ex, yy - ey) > 4 * 3
            assert cell[far].max() < 30
            # The summary row is bright at every joint of the frame.
            sx, sy = layout.to_pixel(0, t, *kp[0, t, v])
            assert gray[int(round(sy)), int(round(sx))] > 200


def test_orders_selection_and_errors():
    vol = np.random.default_rng(0).random((6, 5, 8, 8)).astype(np.float32)
    a = heatmap_volume_grid(vol, order='TCHW', max_frames=3)
    b = heatmap_volume_grid(vol.transpose(1, 0, 2, 3), order='CTHW',
                            max_frames=3)
    assert np.array_equal(a, b)
    _, layout = heatmap_volume_grid(vol, order='TCHW', channels=[4, 1],
                                    frames=[0, 5], summary_row=False,
                                    return_layout=True)
    assert (layout.rows, layout.cols) == (2, 2)
    assert layout.scale == 12  # smallest scale giving >= 96 px cells
    # 'none' keeps absolute values: a dim volume stays dim.
    dim = vol * 0.2
    assert brightness(heatmap_volume_grid(dim, 'TCHW', normalize='none')
                      ).mean() < brightness(
                          heatmap_volume_grid(dim, 'TCHW')).mean()
    assert even_frame_indices(48, 4) == [0, 16, 31, 47]
    assert pose_channel_names(17)[5] == 'l_shoulder'
    assert pose_channel_names(34, True, True)[17] == 'nose-l_eye'
    assert pose_channel_names(5) == ['ch0', 'ch1', 'ch2', 'ch3', 'ch4']
    with pytest.raises(ValueError, match='one clip'):
        heatmap_volume_grid(vol[None])
    with pytest.raises(ValueError, match='outside'):
        heatmap_volume_grid(vol, 'TCHW', channels=[5])
    with pytest.raises(ValueError, match='order'):
        heatmap_volume_grid(vol, order='HWCT')


# ---------------------------------------------------------------- the tool


@pytest.fixture(scope='module')
def tool():
    path = REPO / 'tools' / 'analysis' / 'vis_heatmaps.py'
    spec = importlib.util.spec_from_file_location('vis_heatmaps_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_annotations(path: Path, num_frames: int = 10) -> np.ndarray:
    """Two samples (one person, 17 joints) in a 80 x 100 (h x w) image."""
    rng = np.random.default_rng(0)
    anns = []
    for i in range(2):
        kp = rng.uniform(10, 70, (1, num_frames, 17, 2)).astype(np.float32)
        kp[..., 0] += 15
        anns.append(
            dict(frame_dir=f'clip{i}', label=i, img_shape=(80, 100),
                 original_shape=(80, 100), total_frames=num_frames,
                 keypoint=kp,
                 keypoint_score=np.ones((1, num_frames, 17), np.float32)))
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(test=['clip0', 'clip1']),
                         annotations=anns), f)
    return anns[1]['keypoint']


def test_cli_pickle_mode(tool, tmp_path, capsys):
    ann = tmp_path / 'ann.pkl'
    kp = write_annotations(ann)
    out = tmp_path / 'vis' / 'clip1.png'
    assert tool.main([
        '--pickle', str(ann), '--frame-dir', 'clip1', '--out', str(out),
        '--max-frames', '5', '--no-compact', '--size', '50', '--scale', '2'
    ]) == 0
    assert 'clip1 label 1' in capsys.readouterr().out
    png = cv2.imread(str(out))
    assert png is not None
    # size 50 on the 100 px side: 40 x 50 heatmaps, 80 x 100 px cells.
    rows, cols, cell_h, cell_w = 18, 5, 80, 100
    assert rows * cell_h < png.shape[0] < rows * (cell_h + 2) + 80
    assert cols * cell_w < png.shape[1] < cols * (cell_w + 2) + 160

    # The PNG is the library's grid; its nose cells peak at the nose.
    inds = even_frame_indices(10, 5)
    vol = render_keypoint_heatmaps(kp[:, inds] * 0.5, None, (40, 50))
    img, layout = heatmap_volume_grid(vol, 'TCHW', scale=2,
                                      channel_names=pose_channel_names(17),
                                      return_layout=True)
    assert (layout.cell_h, layout.cell_w) == (cell_h, cell_w)
    gray = brightness(png)
    for col, t in enumerate(inds):
        x, y, w, h = layout.cell_box(1, col)  # row 1: nose
        dy = png.shape[0] - img.shape[0]  # the tool adds a title line
        cell = gray[y + dy:y + dy + h, x:x + w]
        py, px = np.unravel_index(np.argmax(cell), cell.shape)
        ex, ey = layout.to_pixel(1, col, *(kp[0, t, 0] * 0.5))
        assert abs(x + px - ex) <= 2 and abs(y + py - ey) <= 2

    assert tool.main(['--pickle', str(ann), '--frame-dir', 'nope', '--out',
                      str(out)]) == 1
    assert "clip0" in capsys.readouterr().err


CONFIG = '''
default_scope = 'mmpose_plus'
model = dict(type='Recognizer3D',
             data_preprocessor=dict(type='HeatmapDataPreprocessor',
                                    with_kp=True, with_limb=True))
test_dataloader = dict(
    batch_size=1,
    dataset=dict(type='PoseDataset', ann_file={ann!r}, split='test',
                 test_mode=True, pipeline=[
        dict(type='UniformSampleFrames', clip_len=4, num_clips=1,
             test_mode=True),
        dict(type='PoseDecode'),
        dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='Resize', scale=(24, 24), keep_ratio=False),
        {last}]))
'''


@pytest.mark.parametrize('last,rows', [
    ("dict(type='GeneratePoseTarget', with_kp=True), "
     "dict(type='FormatShape', input_format='NCTHW_Heatmap'), "
     "dict(type='PackActionInputs')", 18),
    # Rendered with the data preprocessor's settings (kp + limbs).
    ("dict(type='PackPoseKeypoints')", 35),
])
def test_cli_config_mode(tool, tmp_path, capsys, last, rows):
    ann = tmp_path / 'ann.pkl'
    write_annotations(ann)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG.format(ann=str(ann), last=last))
    out = tmp_path / 'grid.png'
    assert tool.main([str(cfg), '--index', '1', '--out', str(out),
                      '--scale', '4']) == 0
    printed = capsys.readouterr().out
    assert 'clip1 label 1 (test #1)' in printed
    png = cv2.imread(str(out))
    # 24 x 24 heatmaps at scale 4: 96 px cells, 4 frames.
    assert rows * 96 < png.shape[0] < rows * 98 + 80
    assert 4 * 96 < png.shape[1] < 4 * 98 + 200
    assert tool.main([str(cfg), '--index', '7', '--out', str(out)]) == 1
    assert 'outside the test split of 2' in capsys.readouterr().err
