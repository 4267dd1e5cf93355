"""Extract 2D skeletons from videos into an NTU / PYSKL skeleton pickle.

No person detector is needed: the default pose model is bottom-up
HigherHRNet-W32, which finds every person in a frame by itself. People are
tracked across frames (person index m is the same person throughout) and
the ``--max-persons`` most persistent / confident ones are kept. The output
loads unchanged in ``PoseDataset`` (see docs/video_to_action.md).

Examples::

    # NTU RGB+D videos: labels from the A### field, NTU60 xsub/xview splits
    python tools/data/extract_skeletons.py data/nturgbd_videos ntu60_2d.pkl \\
        --pose-checkpoint checkpoints/higherhrnet_w32_coco_512x512.pth --ntu

    # NTU RGB+D 120: labels A001..A120, xsub/xset splits
    python tools/data/extract_skeletons.py data/nturgbd120_videos \\
        ntu120_2d.pkl --pose-checkpoint CKPT --ntu120

    # any videos, labels from a file of "name label" lines, one split
    python tools/data/extract_skeletons.py 'clips/**/*.mp4' my_2d.pkl \\
        --pose-checkpoint CKPT --label-file labels.txt --split train

    # top-down model on whole frames (one person per clip) or given boxes
    python tools/data/extract_skeletons.py videos.txt out.pkl \\
        --pose-config configs/pose/hrnet_w32_8xb64-210e_coco-256x192.py \\
        --pose-checkpoint CKPT [--bboxes boxes.pkl]

Resumable: each finished video is cached under ``--work-dir`` (default
``OUT.work``); running the same command again skips them. A video that
cannot be decoded is reported and skipped; the exit status is 0 when at
least one video was written (2 when some failed, 1 when all did).
"""
import argparse
import functools
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import DictAction

DEFAULT_POSE_CONFIG = 'configs/pose/higherhrnet_w32_8xb24-300e_coco-512x512.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Extract tracked 2D skeletons from videos into a '
        'PYSKL/NTU-format pickle.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('Examples::', 1)[1])
    parser.add_argument(
        'inputs',
        nargs='+',
        help='videos: a folder (searched recursively), a glob pattern '
        '(quote it), a text file with one video path per line, or video '
        'files')
    parser.add_argument('out', help='output pickle')
    model = parser.add_argument_group('pose model')
    model.add_argument(
        '--pose-config',
        default=DEFAULT_POSE_CONFIG,
        help='pose estimator config (bottom-up or top-down); default: '
        'HigherHRNet-W32 512')
    model.add_argument(
        '--pose-checkpoint',
        help='pose checkpoint (ours, official or mmpose layout). Without '
        'it the model is UNTRAINED and the skeletons are meaningless '
        '(only useful to test the pipeline)')
    model.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    model.add_argument(
        '--batch-size', type=int,
        help='frames per forward pass (default: 8 on a GPU, 1 on a CPU, '
        'where batching measured no faster)')
    model.add_argument(
        '--bboxes',
        help='top-down models: pickle/JSON {frame_dir: per-frame (N, 4|5) '
        'xyxy[score] boxes}; videos not in it use whole frames')
    model.add_argument(
        '--no-flip-test',
        action='store_true',
        help='skip the flipped pass (about 2x faster, slightly less '
        'accurate)')
    model.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='overrides of the pose config, e.g. '
        'model.test_cfg.multiscale_test=False')
    track = parser.add_argument_group('people and tracking')
    track.add_argument(
        '--max-persons',
        type=int,
        default=2,
        help='people kept per video (NTU: 2)')
    track.add_argument(
        '--person-thr',
        type=float,
        default=0.,
        help='drop detections whose mean joint score is <= this')
    track.add_argument(
        '--match-thr',
        type=float,
        default=0.3,
        help='minimum OKS to continue a track')
    meta = parser.add_argument_group('labels and splits')
    meta.add_argument(
        '--label-file',
        help='text file of "name label" lines (name: file name, path or '
        'frame_dir)')
    meta.add_argument(
        '--label-regex',
        help=r"regex whose first group is the class number, e.g. 'A(\d{3})'")
    meta.add_argument(
        '--label-offset',
        type=int,
        default=0,
        help='added to the regex number (-1 for 1-based names such as NTU)')
    meta.add_argument(
        '--split',
        help='put every video in this split (default: one split "all")')
    meta.add_argument(
        '--split-file', help='JSON {split name: [frame_dir, ...]}')
    meta.add_argument(
        '--strip-suffix',
        default='',
        help="removed from file names to form frame_dir (NTU: '_rgb')")
    ntu = meta.add_mutually_exclusive_group()
    ntu.add_argument(
        '--ntu',
        '--ntu60',
        dest='ntu',
        action='store_const',
        const='ntu60',
        help="NTU RGB+D 60 preset: labels A001..A060 -> 0..59 (a higher "
        "A### is an error), --strip-suffix _rgb, splits xsub_train/"
        "xsub_val/xview_train/xview_val")
    ntu.add_argument(
        '--ntu120',
        dest='ntu',
        action='store_const',
        const='ntu120',
        help='NTU RGB+D 120 preset: labels A001..A120 -> 0..119, '
        '--strip-suffix _rgb, splits xsub_train/xsub_val (53 training '
        'performers) and xset_train/xset_val (even setups train)')
    run = parser.add_argument_group('running')
    run.add_argument('--work-dir', help='per-video cache (default OUT.work)')
    run.add_argument(
        '--backend',
        default='auto',
        choices=('auto', 'decord', 'opencv'),
        help='video decoder (auto: decord, else OpenCV)')
    run.add_argument('--quiet', action='store_true', help='no progress')
    args = parser.parse_args(argv)
    if args.label_file and args.label_regex:
        parser.error('give --label-file or --label-regex, not both')
    args.num_classes = None
    if args.ntu:
        # The preset's labels, unless the user gave their own.
        if not (args.label_file or args.label_regex):
            from mmpose_plus.apis.extraction import NTU_NUM_CLASSES
            args.label_regex, args.label_offset = r'A(\d{3})', -1
            args.num_classes = NTU_NUM_CLASSES[args.ntu]
        args.strip_suffix = args.strip_suffix or '_rgb'
    if args.split and args.split_file:
        parser.error('give --split or --split-file, not both')
    if args.batch_size is None:
        args.batch_size = 1 if args.device == 'cpu' else 8
    if args.batch_size < 1 or args.max_persons < 1:
        parser.error('--batch-size and --max-persons must be >= 1')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import json

    from mmpose_plus.apis import find_config, init_model, untrained_banner
    from mmpose_plus.apis.extraction import (extract_skeletons, labels_from_file,
                                             labels_from_regex, list_videos,
                                             load_bboxes, ntu_splits)
    try:
        videos = list_videos(args.inputs)
        if args.label_file:
            labels = labels_from_file(args.label_file)
        elif args.label_regex:
            labels = labels_from_regex(args.label_regex, args.label_offset,
                                       args.num_classes)
        else:
            labels = None
        if args.split_file:
            with open(args.split_file) as f:
                splits = json.load(f)
        elif args.split:
            splits = args.split
        elif args.ntu:
            splits = functools.partial(ntu_splits, dataset=args.ntu)
        else:
            splits = None
        bboxes = load_bboxes(args.bboxes) if args.bboxes else None
    except (FileNotFoundError, ValueError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1

    config = find_config(args.pose_config)
    options = dict(args.cfg_options)
    if args.no_flip_test:
        options['model.test_cfg.flip_test'] = False
    if not args.pose_checkpoint:
        print(untrained_banner(['pose']), file=sys.stderr)
    try:
        model = init_model(config, args.pose_checkpoint, args.device,
                           cfg_options=options)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f'error: cannot build the pose model: {err}', file=sys.stderr)
        return 1
    if bboxes is not None and type(model).__name__ != 'TopdownPoseEstimator':
        print('error: --bboxes needs a top-down --pose-config',
              file=sys.stderr)
        return 1
    print(f'{len(videos)} video(s); pose model {type(model).__name__} from '
          f'{osp.relpath(config)} on {args.device}')
    settings = dict(
        pose_config=osp.abspath(config),
        pose_checkpoint=(osp.abspath(args.pose_checkpoint)
                         if args.pose_checkpoint else None),
        cfg_options={k: repr(v)
                     for k, v in sorted(options.items())},
        bboxes=osp.abspath(args.bboxes) if args.bboxes else None)
    try:
        summary = extract_skeletons(
            videos,
            model,
            args.out,
            work_dir=args.work_dir,
            labels=labels,
            splits=splits,
            strip_suffix=args.strip_suffix,
            batch_size=args.batch_size,
            max_persons=args.max_persons,
            bboxes=bboxes,
            tracking=dict(
                person_thr=args.person_thr, match_thr=args.match_thr),
            backend=args.backend,
            settings=settings,
            verbose=not args.quiet)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 2 if summary['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
