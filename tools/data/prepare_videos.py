"""Make training copies of videos: smaller frames, frequent key frames.

The RGB stream of RGBPoseConv3D decodes a few frames spread over each clip;
with full-HD sources and rare key frames that decoding is nearly all of the
data pipeline's time (docs/benchmarks.md). This tool writes, once, a copy of
every video at the training resolution with a key frame every few frames.
Keep the skeleton pickle as it is: MMDecode rescales keypoints to the size of
the decoded frames.

Examples::

    # NTU RGB+D: S001C001P001R001A001_rgb.avi -> S001C001P001R001A001.mp4,
    # the file name PoseDataset's default video_name_tmpl expects
    python tools/data/prepare_videos.py data/nturgbd_videos \\
        data/nturgbd_videos_540p --strip-suffix _rgb

    # any videos (folder, glob or list file), short side 320
    python tools/data/prepare_videos.py 'clips/**/*.avi' clips_320 \\
        --short-side 320

Then point the config at the copies:
``data_prefix=dict(video='data/nturgbd_videos_540p')`` and
``video_name_tmpl='{frame_dir}.mp4'`` (the default).

Resumable: a copy that exists is kept (``--overwrite`` redoes it); copies
are written under a temporary name and renamed when complete. A video that
cannot be read is reported and skipped; the exit status is 0 when all
videos are done, 2 when some failed, 1 when all failed.
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence

from mmengine.utils import ProgressBar

from mmpose_plus.apis.extraction import list_videos, video_name
from mmpose_plus.datasets.prepare_videos import reencode_video


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='\n'.join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('inputs',
                        nargs='+',
                        help='videos: folders (searched recursively), '
                        'globs, list files (one path per line) or files')
    parser.add_argument('out_dir', help='folder for the copies')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--short-side',
                      type=int,
                      default=None,
                      help='short side of the copies (default 540: NTU '
                      '1920x1080 -> 960x540); videos are never enlarged')
    size.add_argument('--scale',
                      type=float,
                      default=None,
                      help='scale factor instead of --short-side')
    parser.add_argument('--key-interval',
                        type=int,
                        default=4,
                        help='frames between key frames (default 4; 1 = '
                        'every frame, larger files)')
    parser.add_argument('--fourcc',
                        default='mp4v',
                        help="OpenCV codec code (default 'mp4v': MPEG-4)")
    parser.add_argument('--ext',
                        default='.mp4',
                        help='extension, i.e. container, of the copies')
    parser.add_argument('--strip-suffix',
                        default='',
                        help="removed from the file names (NTU: '_rgb')")
    parser.add_argument('--overwrite',
                        action='store_true',
                        help='redo copies that already exist')
    parser.add_argument('--quiet', action='store_true', help='no progress')
    args = parser.parse_args(argv)
    if args.short_side is None and args.scale is None:
        args.short_side = 540
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        videos = list_videos(args.inputs)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    ext = args.ext if args.ext.startswith('.') else '.' + args.ext
    targets = [
        osp.join(args.out_dir,
                 video_name(v, args.strip_suffix) + ext) for v in videos
    ]
    clash = len(set(targets)) != len(targets)
    if clash:
        print('error: several inputs map to the same output name (use '
              'separate runs per folder)', file=sys.stderr)
        return 1
    done, kept, failed = 0, 0, []
    src_bytes = dst_bytes = 0
    start = time.perf_counter()
    bar = None if args.quiet else ProgressBar(len(videos))
    for src, dst in zip(videos, targets):
        if osp.exists(dst) and not args.overwrite:
            kept += 1
        else:
            try:
                info = reencode_video(src,
                                      dst,
                                      short_side=args.short_side,
                                      scale=args.scale,
                                      key_interval=args.key_interval,
                                      fourcc=args.fourcc)
                done += 1
                src_bytes += info['src_bytes']
                dst_bytes += info['dst_bytes']
            except (FileNotFoundError, ValueError) as err:
                failed.append(f'{src}: {err}')
                print(f'\nskipped {src}: {err}', file=sys.stderr)
        if bar is not None:
            bar.update()
    elapsed = time.perf_counter() - start
    summary: List[str] = [
        f'\n{done} copied, {kept} already there, {len(failed)} failed, '
        f'{elapsed:.1f} s'
    ]
    if done:
        summary.append(f'size {src_bytes / 1e6:.1f} MB -> '
                       f'{dst_bytes / 1e6:.1f} MB')
    print('; '.join(summary))
    for line in failed:
        print(f'failed: {line}', file=sys.stderr)
    if failed:
        return 1 if len(failed) == len(videos) else 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
