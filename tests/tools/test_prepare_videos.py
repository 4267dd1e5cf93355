"""tools/data/prepare_videos.py and mmpose_plus.datasets.prepare_videos: the
copies keep every frame, shrink, get the asked key frames, and feed the
RGBPose pipeline with the unchanged skeleton annotation."""
import importlib.util
import os
from pathlib import Path

import cv2
import decord
import numpy as np
import pytest

from mmpose_plus.datasets.prepare_videos import prepared_size, reencode_video
from mmpose_plus.datasets.transforms.loading import MMDecode

REPO = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'prepare_videos_tool', REPO / 'tools' / 'data' / 'prepare_videos.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, num_frames: int = 20, h: int = 120, w: int = 160):
    """MJPG video (every frame a key frame) of a fixed texture whose centre
    has gray level 10*i in frame i, so that frame order can be read back."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25,
                             (w, h))
    texture = np.random.default_rng(0).integers(0, 255, (h, w, 3),
                                                dtype=np.uint8)
    for i in range(num_frames):
        frame = texture.copy()
        frame[h // 4:3 * h // 4, w // 4:3 * w // 4] = 10 * i
        writer.write(frame)
    writer.release()
    return str(path)


def test_prepared_size_keeps_aspect_never_enlarges_and_is_even():
    assert prepared_size(1080, 1920, short_side=540) == (540, 960)
    assert prepared_size(1920, 1080, short_side=256) == (456, 256)
    assert prepared_size(240, 320, short_side=540) == (240, 320)
    assert prepared_size(1080, 1920, scale=0.25) == (270, 480)
    assert prepared_size(101, 203, scale=1.0) == (102, 204)  # even sides
    with pytest.raises(ValueError, match='exactly one'):
        prepared_size(10, 10, short_side=5, scale=0.5)
    with pytest.raises(ValueError, match='short_side'):
        prepared_size(10, 10, short_side=0)


@pytest.mark.parametrize('key_interval', [1, 5])
def test_reencode_keeps_frames_in_order_and_sets_key_frames(
        tmp_path, key_interval):
    src = _write(tmp_path / 'a.avi', 20)
    dst = tmp_path / 'out' / 'a.mp4'
    info = reencode_video(src, str(dst), short_side=60,
                          key_interval=key_interval)
    assert info['frames'] == 20
    assert info['src_shape'] == (120, 160) and info['dst_shape'] == (60, 80)
    reader = decord.VideoReader(str(dst))
    assert len(reader) == 20 and reader[0].shape == (60, 80, 3)
    # the encoder may add key frames (scene cuts), never space them wider
    keys = list(reader.get_key_indices())
    assert set(range(0, 20, key_interval)) <= set(keys)
    centre = reader.get_batch(list(range(20))).asnumpy()[:, 30, 40, 1]
    np.testing.assert_allclose(centre, 10 * np.arange(20), atol=6)
    assert not [p for p in os.listdir(dst.parent) if '.part' in p]


def test_reencode_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.avi'):
        reencode_video(str(tmp_path / 'missing.avi'), str(tmp_path / 'x.mp4'))
    bad = tmp_path / 'bad.avi'
    bad.write_bytes(b'not a video at all')
    with pytest.raises(ValueError, match='bad.avi'):
        reencode_video(str(bad), str(tmp_path / 'x.mp4'))
    assert not (tmp_path / 'x.mp4').exists()
    with pytest.raises(ValueError, match='key_interval'):
        reencode_video(str(bad), str(tmp_path / 'x.mp4'), key_interval=0)


def test_cli_resumes_skips_broken_and_names_copies_for_the_dataset(
        tmp_path, capsys):
    src = tmp_path / 'videos'
    src.mkdir()
    _write(src / 'S001C001P001R001A001_rgb.avi', 12)
    _write(src / 'S001C001P001R001A002_rgb.avi', 8)
    (src / 'S001C001P001R001A003_rgb.avi').write_bytes(b'broken')
    out = tmp_path / 'copies'
    tool = _tool()
    code = tool.main([str(src), str(out), '--short-side', '60',
                      '--strip-suffix', '_rgb', '--quiet'])
    assert code == 2  # one of three failed
    err = capsys.readouterr().err
    assert 'S001C001P001R001A003_rgb.avi' in err
    names = sorted(os.listdir(out))
    assert names == ['S001C001P001R001A001.mp4', 'S001C001P001R001A002.mp4']
    stamp = os.stat(out / names[0]).st_mtime_ns
    # second run: the finished copies are kept, the broken one reported
    code = tool.main([str(src), str(out), '--short-side', '60',
                      '--strip-suffix', '_rgb', '--quiet'])
    assert code == 2 and os.stat(out / names[0]).st_mtime_ns == stamp
    assert '0 copied, 2 already there, 1 failed' in capsys.readouterr().out


def test_pipeline_reads_a_copy_with_the_original_annotation(tmp_path):
    src = _write(tmp_path / 'clip.avi', 16, h=120, w=160)
    dst = tmp_path / 'clip.mp4'
    reencode_video(src, str(dst), short_side=60)
    kp = np.full((1, 16, 17, 2), 80., np.float32)
    kp[..., 1] = 60.  # the centre of the 160x120 source
    results = dict(modality=['RGB', 'Pose'], filename=str(dst),
                   RGB_inds=np.array([0, 5, 10]), Pose_inds=np.arange(16),
                   keypoint=kp, keypoint_score=np.ones((1, 16, 17)),
                   img_shape=(120, 160))
    out = MMDecode()(results)
    assert out['img_shape'] == (60, 80)
    np.testing.assert_allclose(out['keypoint'][0, 0, 0], (40., 30.))
    assert [int(round(img[30, 40, 1] / 10)) for img in out['imgs']] == [
        0, 5, 10
    ]
