"""Generate a tiny, deterministic COCO-format keypoint set of stick figures.

Tests and tiny configs train the pose models on it: every joint is drawn
as a dot of its own colour and the limbs of the left side, the right side
and the trunk have different colours, so a small network can learn to
localise and tell apart all 17 COCO joints in a few hundred steps. People
stand side by side without overlapping, facing the camera (their left is
on the image's right, as in COCO).
"""
import json
import os
import os.path as osp
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

from .coco_meta import COCO_KEYPOINT_NAMES, COCO_SKELETON

__all__ = ['generate_tiny_coco']

# Frontal standing pose, height 1, x centred on the body, y downwards.
# The person's left side has positive x (the viewer's right).
_TEMPLATE = np.array(
    [[0., .08], [.025, .06], [-.025, .06], [.05, .07], [-.05, .07],
     [.11, .2], [-.11, .2], [.15, .36], [-.15, .36], [.17, .5], [-.17, .5],
     [.07, .52], [-.07, .52], [.08, .74], [-.08, .74], [.08, .96],
     [-.08, .96]],
    dtype=np.float64)

# (joint, parent): each limb swings around its parent joint.
_CHAINS = (((7, 5), (9, 7)), ((8, 6), (10, 8)), ((13, 11), (15, 13)),
           ((14, 12), (16, 14)))


def _joint_colours(k: int) -> np.ndarray:
    # hop around the hue circle so that neighbouring joints (a left/right
    # pair) get clearly different colours
    order = (np.arange(k) * 7) % k
    hsv = np.stack([
        order * 180. / k,
        np.full(k, 255),
        np.full(k, 255)
    ], axis=1).astype(np.uint8)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0].astype(int)


def _limb_colour(a: int, b: int) -> Tuple[int, int, int]:
    names = COCO_KEYPOINT_NAMES[a] + COCO_KEYPOINT_NAMES[b]
    if names.count('left') == 2:
        return (60, 200, 60)
    if names.count('right') == 2:
        return (200, 60, 200)
    return (200, 200, 200)


def _random_pose(rng: np.random.Generator) -> np.ndarray:
    """Template with swung limbs, jitter and a small body tilt, height ~1."""
    pose = _TEMPLATE.copy()
    for chain in _CHAINS:
        for joint, parent in chain:
            angle = np.deg2rad(rng.uniform(-35, 35))
            rot = np.array([[np.cos(angle), -np.sin(angle)],
                            [np.sin(angle), np.cos(angle)]])
            # rotate the joint and everything below it around the parent
            below = [joint] + [j for j, p in chain if p == joint]
            pose[below] = (pose[below] - pose[parent]) @ rot.T + pose[parent]
    pose += rng.normal(0, 0.008, pose.shape)
    tilt = np.deg2rad(rng.uniform(-10, 10))
    rot = np.array([[np.cos(tilt), -np.sin(tilt)],
                    [np.sin(tilt), np.cos(tilt)]])
    centre = pose.mean(axis=0)
    return (pose - centre) @ rot.T + centre


def _draw_person(img: np.ndarray, kpts: np.ndarray, height: float,
                 colours: np.ndarray) -> None:
    thick = max(1, int(round(height / 40)))
    pts = [(int(x), int(y)) for x, y in np.round(kpts)]
    for a, b in COCO_SKELETON:
        cv2.line(img, pts[a], pts[b], _limb_colour(a, b), thick,
                 cv2.LINE_AA)
    cv2.circle(img, pts[0], max(2, int(height * 0.07)),
               (220, 220, 220), thick, cv2.LINE_AA)
    radius = max(2, int(round(height / 45)))
    for j, p in enumerate(pts):
        cv2.circle(img, p, radius, tuple(int(c) for c in colours[j]),
                   -1, cv2.LINE_AA)


def generate_tiny_coco(out_dir: str,
                       num_images: int = 8,
                       persons_per_image: Union[int, Sequence[int]] = (1, 3),
                       seed: int = 0,
                       image_size: Tuple[int, int] = (160, 160),
                       ann_name: str = 'person_keypoints.json',
                       img_dir: str = 'images') -> str:
    """Write ``num_images`` stick-figure images and a COCO keypoint json.

    Args:
        out_dir (str): output folder; images go to ``out_dir/img_dir``.
        num_images (int): number of images.
        persons_per_image (int | (int, int)): people per image, or an
            inclusive (min, max) range sampled per image.
        seed (int): the same seed gives byte-identical files.
        image_size (tuple[int, int]): ``(w, h)`` of every image.
        ann_name (str): json file name inside ``out_dir``.
        img_dir (str): image folder name inside ``out_dir``.

    Returns:
        str: the path of the annotation json. Every person has all 17
        joints labelled (visibility 2), a bbox (keypoint extent plus a
        margin), a box polygon as segmentation, ``area`` = box area.

    Example:
        >>> ann = generate_tiny_coco(tmp_dir, num_images=2,
        ...                          persons_per_image=2)
        >>> coco = json.load(open(ann))
        >>> len(coco['images']), len(coco['annotations'])
        (2, 4)
    """
    if isinstance(persons_per_image, int):
        low = high = persons_per_image
    else:
        low, high = persons_per_image
    if not 1 <= low <= high:
        raise ValueError('persons_per_image must be >= 1 (or a range '
                         f'1 <= min <= max), got {persons_per_image}')
    img_w, img_h = image_size
    if min(img_w, img_h) < 32 or img_w < 16 * high:
        raise ValueError(f'image_size {image_size} is too small for '
                         f'{high} people per image')
    rng = np.random.default_rng(seed)
    colours = _joint_colours(len(COCO_KEYPOINT_NAMES))
    os.makedirs(osp.join(out_dir, img_dir), exist_ok=True)

    images, annotations = [], []
    for img_id in range(1, num_images + 1):
        # dim, smooth background with a little texture
        base = rng.integers(10, 60, size=3)
        noise = rng.integers(-8, 9, size=(img_h, img_w, 1))
        img = np.ascontiguousarray(
            np.clip(base + noise, 0, 255).astype(np.uint8))

        n = int(rng.integers(low, high + 1))
        slot_w = img_w / n
        for slot in range(n):
            # the template is ~0.45 wide per unit height; keep a margin
            max_h = min(0.85 * img_h, 0.9 * slot_w / 0.5)
            height = rng.uniform(0.6, 1.0) * max_h
            pose = _random_pose(rng)
            margin = max(2., height * 0.08)
            # shrink a person whose swung limbs would leave its slot
            extent = pose.max(axis=0) - pose.min(axis=0)
            height = min(height, (slot_w - 2 * margin) / extent[0],
                         (img_h - 2 * margin) / extent[1])
            kpts = pose * height
            lo, hi = kpts.min(axis=0), kpts.max(axis=0)
            x_room = slot_w - (hi[0] - lo[0]) - 2 * margin
            y_room = img_h - (hi[1] - lo[1]) - 2 * margin
            offset = np.array([
                slot * slot_w + margin + rng.uniform(0, max(x_room, 0)),
                margin + rng.uniform(0, max(y_room, 0))
            ])
            kpts = kpts - lo + offset
            _draw_person(img, kpts, height, colours)

            x0, y0 = np.maximum(kpts.min(axis=0) - margin, 0)
            x1, y1 = np.minimum(kpts.max(axis=0) + margin,
                                [img_w - 1, img_h - 1])
            bbox = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
            flat = np.concatenate([kpts, np.full((len(kpts), 1), 2.)],
                                  axis=1)
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_id,
                    category_id=1,
                    iscrowd=0,
                    num_keypoints=len(kpts),
                    keypoints=[round(float(v), 2) for v in flat.reshape(-1)],
                    bbox=[round(v, 2) for v in bbox],
                    area=round(bbox[2] * bbox[3], 2),
                    segmentation=[[
                        round(float(v), 2)
                        for v in (x0, y0, x1, y0, x1, y1, x0, y1)
                    ]]))

        file_name = f'{img_id:012d}.png'
        cv2.imwrite(osp.join(out_dir, img_dir, file_name), img)
        images.append(
            dict(id=img_id, file_name=file_name, width=img_w, height=img_h))

    categories = [
        dict(
            id=1,
            name='person',
            supercategory='person',
            keypoints=list(COCO_KEYPOINT_NAMES),
            skeleton=[[a + 1, b + 1] for a, b in COCO_SKELETON])
    ]
    ann_file = osp.join(out_dir, ann_name)
    with open(ann_file, 'w') as f:
        json.dump(
            dict(images=images, annotations=annotations,
                 categories=categories), f)
    return ann_file
