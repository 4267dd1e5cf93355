"""Generate the built-in tiny NTU-style dataset (skeleton pickle + videos).

Usage::

    python tools/data/generate_tiny_dataset.py               # data/tiny_ntu
    python tools/data/generate_tiny_dataset.py --force       # regenerate
    python tools/data/generate_tiny_dataset.py --num-classes 6 --out-dir X

Running it again with the same parameters is a no-op (the existing copy is
kept); the tiny configs under ``configs/tiny/`` read ``data/tiny_ntu``.
"""
import argparse
import sys
import time

from mmpose_plus.datasets.tiny_dataset import (TINY_ACTIONS,
                                               generate_tiny_dataset,
                                               tiny_dataset_is_current,
                                               tiny_dataset_params)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the deterministic tiny stick-figure action '
        'dataset (NTU/PYSKL skeleton pickle + mp4 videos).')
    parser.add_argument(
        '--out-dir', default='data/tiny_ntu', help='output folder')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=5,
        help=f'number of classes, first N of {", ".join(TINY_ACTIONS)}')
    parser.add_argument(
        '--videos-per-class', type=int, default=40, help='clips per class')
    parser.add_argument(
        '--val-per-class',
        type=int,
        default=8,
        help='clips per class in the val split')
    parser.add_argument(
        '--img-size', type=int, default=64, help='square frame size')
    parser.add_argument(
        '--frames',
        type=int,
        nargs=2,
        default=(24, 32),
        metavar=('MIN', 'MAX'),
        help='inclusive range of clip lengths')
    parser.add_argument(
        '--two-person-prob',
        type=float,
        default=0.25,
        help='chance of two people in a clip')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--no-videos',
        action='store_true',
        help='write only the skeleton pickle (for skeleton-only configs)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if a matching copy exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    params = dict(
        num_classes=args.num_classes,
        videos_per_class=args.videos_per_class,
        val_per_class=args.val_per_class,
        img_size=args.img_size,
        frames=tuple(args.frames),
        two_person_prob=args.two_person_prob,
        write_videos=not args.no_videos,
        seed=args.seed)
    try:
        tiny_dataset_params(**params)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if tiny_dataset_is_current(args.out_dir, **params) and not args.force:
        print(f'{args.out_dir} is up to date (same parameters); '
              'use --force to regenerate.')
        return 0

    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % 20 == 0:
            print(f'\r[{done}/{total}] clips', end='', flush=True)

    try:
        info = generate_tiny_dataset(
            args.out_dir, progress=progress, **params)
    except ValueError as err:
        print(f'\nerror: {err}', file=sys.stderr)
        return 2
    print()
    print(f'wrote {info["num_train"]} train + {info["num_val"]} val clips '
          f'of {len(info["classes"])} classes ({", ".join(info["classes"])}) '
          f'to {args.out_dir} in {time.perf_counter() - start:.1f} s')
    print(f'annotations: {info["ann_file"]}')
    if info['video_dir']:
        print(f'videos:      {info["video_dir"]}/<frame_dir>.mp4')
    return 0


if __name__ == '__main__':
    sys.exit(main())
