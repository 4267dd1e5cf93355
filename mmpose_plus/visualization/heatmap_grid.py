"""Render a heatmap volume as one labelled image: a grid with one row per
channel (keypoint or limb) and one column per frame.

Pure functions on arrays (no files, no models), drawn with OpenCV. The
first row shows, by default, the maximum over all channels, i.e. the
whole skeleton of each frame. Values are mapped through a colour map
(``cv2.COLORMAP_INFERNO`` by default: black for 0, bright yellow for the
maximum) and each heatmap pixel becomes a ``scale x scale`` block, so a
heatmap pixel ``(x, y)`` of the cell in row ``r``, column ``c`` is at
:meth:`GridLayout.to_pixel` in the image.

Example:
    >>> vol = np.zeros((17, 8, 56, 56), np.float32)   # (C, T, H, W)
    >>> img, layout = heatmap_volume_grid(vol, return_layout=True)
    >>> img.shape == (layout.height, layout.width, 3), layout.rows
    (True, 18)
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'GridLayout', 'heatmap_volume_grid', 'keypoint_channel_names',
    'limb_channel_names', 'pose_channel_names', 'even_frame_indices'
]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_NORMALIZE = ('global', 'cell', 'none')
_ORDERS = ('CTHW', 'TCHW')


@dataclass(frozen=True)
class GridLayout:
    """Geometry of an image made by :func:`heatmap_volume_grid`.

    Attributes:
        rows (int): Grid rows (the summary row, if any, is row 0).
        cols (int): Grid columns (frames).
        cell_h (int): Cell height in image pixels (heatmap H x scale).
        cell_w (int): Cell width in image pixels (heatmap W x scale).
        scale (int): Image pixels per heatmap pixel.
        left (int): x of the first column (width of the label margin).
        top (int): y of the first row (height of title + frame labels).
        gap (int): Pixels between cells.
        width (int): Image width.
        height (int): Image height.
    """

    rows: int
    cols: int
    cell_h: int
    cell_w: int
    scale: int
    left: int
    top: int
    gap: int
    width: int
    height: int

    def cell_box(self, row: int, col: int) -> Tuple[int, int, int, int]:
        """``(x, y, w, h)`` of a cell in the image."""
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise IndexError(f'cell ({row}, {col}) is outside the '
                             f'{self.rows} x {self.cols} grid')
        return (self.left + col * (self.cell_w + self.gap),
                self.top + row * (self.cell_h + self.gap), self.cell_w,
                self.cell_h)

    def to_pixel(self, row: int, col: int, x: float,
                 y: float) -> Tuple[float, float]:
        """Image position of the centre of heatmap pixel ``(x, y)`` (or of a
        sub-pixel position) in cell ``(row, col)``."""
        x0, y0, _, _ = self.cell_box(row, col)
        half = (self.scale - 1) / 2
        return x0 + x * self.scale + half, y0 + y * self.scale + half


def keypoint_channel_names(names: Sequence[str]) -> List[str]:
    """Short labels: ``left_shoulder`` -> ``l_shoulder``.

    Example:
        >>> keypoint_channel_names(['nose', 'left_eye'])
        ['nose', 'l_eye']
    """
    return [
        n.replace('left_', 'l_').replace('right_', 'r_') for n in names
    ]


def limb_channel_names(names: Sequence[str],
                       skeleton: Sequence[Sequence[int]]) -> List[str]:
    """``a-b`` labels of limbs given as joint index pairs.

    Example:
        >>> limb_channel_names(['nose', 'left_eye'], [(0, 1)])
        ['nose-l_eye']
    """
    short = keypoint_channel_names(names)
    return [f'{short[a]}-{short[b]}' for a, b in skeleton]


def pose_channel_names(num_channels: int,
                       with_kp: bool = True,
                       with_limb: bool = False,
                       skeleton: Optional[Sequence[Sequence[int]]] = None,
                       keypoint_names: Optional[Sequence[str]] = None
                       ) -> List[str]:
    """Labels of the channels of a PoseC3D volume (keypoints, then limbs);
    ``ch{i}`` when the layout does not match ``num_channels``.

    Example:
        >>> pose_channel_names(17)[:3]
        ['nose', 'l_eye', 'r_eye']
    """
    if keypoint_names is None or skeleton is None:
        from mmpose_plus.datasets.coco_meta import COCO_KEYPOINT_NAMES
        from mmpose_plus.datasets.transforms.heatmap_rendering import \
            COCO_SKELETON
        keypoint_names = keypoint_names or COCO_KEYPOINT_NAMES
        skeleton = COCO_SKELETON if skeleton is None else skeleton
    names = []
    if with_kp:
        names += keypoint_channel_names(keypoint_names)
    if with_limb:
        names += limb_channel_names(keypoint_names, skeleton)
    if len(names) != num_channels:
        return [f'ch{i}' for i in range(num_channels)]
    return names


def even_frame_indices(num_frames: int, max_frames: int) -> List[int]:
    """Up to ``max_frames`` indices spread evenly over ``num_frames``
    (first and last included).

    Example:
        >>> even_frame_indices(48, 4)
        [0, 16, 31, 47]
    """
    if num_frames <= max_frames:
        return list(range(num_frames))
    if max_frames == 1:
        return [0]
    return [
        int(round(i * (num_frames - 1) / (max_frames - 1)))
        for i in range(max_frames)
    ]


def _text_size(text: str, font_scale: float) -> Tuple[int, int]:
    (w, h), baseline = cv2.getTextSize(text, _FONT, font_scale, 1)
    return w, h + baseline


def _put(img: np.ndarray, text: str, x: int, y: int, font_scale: float,
         color: Tuple[int, int, int]) -> None:
    cv2.putText(img, text, (int(x), int(y)), _FONT, font_scale, color, 1,
                cv2.LINE_AA)


def heatmap_volume_grid(
        volume: np.ndarray,
        order: str = 'CTHW',
        channels: Optional[Sequence[int]] = None,
        frames: Optional[Sequence[int]] = None,
        max_frames: int = 8,
        channel_names: Optional[Sequence[str]] = None,
        frame_labels: Optional[Sequence[str]] = None,
        summary_row: bool = True,
        scale: Optional[int] = None,
        min_cell: int = 96,
        colormap: int = cv2.COLORMAP_INFERNO,
        normalize: str = 'global',
        gap: int = 2,
        title: Optional[str] = None,
        font_scale: float = 0.45,
        background: Tuple[int, int, int] = (40, 40, 40),
        text_color: Tuple[int, int, int] = (230, 230, 230),
        return_layout: bool = False
) -> Union[np.ndarray, Tuple[np.ndarray, GridLayout]]:
    """Draw a heatmap volume as a labelled grid (rows: channels, columns:
    frames).

    Args:
        volume (np.ndarray): ``(C, T, H, W)`` or ``(T, C, H, W)`` (see
            ``order``); float values, heatmaps are in [0, 1].
        order (str): ``'CTHW'`` (the model input after
            ``FormatShape('NCTHW_Heatmap')``, one clip) or ``'TCHW'`` (what
            ``GeneratePoseTarget`` writes). Defaults to ``'CTHW'``.
        channels (Sequence[int], optional): Channels to show, in order.
            Defaults to all.
        frames (Sequence[int], optional): Frames to show. Defaults to
            ``max_frames`` frames spread evenly over the clip.
        max_frames (int): See ``frames``. Defaults to 8.
        channel_names (Sequence[str], optional): One label per channel of
            ``volume`` (not only the shown ones). Defaults to ``ch{i}``.
        frame_labels (Sequence[str], optional): One label per frame of
            ``volume``. Defaults to ``t={i}``.
        summary_row (bool): Add a first row ``all`` with the maximum over
            all channels. Defaults to True.
        scale (int, optional): Image pixels per heatmap pixel (nearest
            neighbour). Defaults to the smallest integer that makes the
            shorter cell side at least ``min_cell`` pixels.
        min_cell (int): See ``scale``. Defaults to 96.
        colormap (int): An OpenCV colour map. Defaults to
            ``cv2.COLORMAP_INFERNO``.
        normalize (str): ``'global'`` (divide by the maximum of the shown
            cells), ``'cell'`` (each cell by its own maximum) or ``'none'``
            (values clipped to [0, 1]). Defaults to ``'global'``.
        gap (int): Pixels between cells. Defaults to 2.
        title (str, optional): A line of text above the grid.
        font_scale (float): OpenCV font scale of the labels. Defaults to 0.45.
        background (tuple): BGR colour of margins and gaps.
        text_color (tuple): BGR colour of the labels.
        return_layout (bool): Also return the :class:`GridLayout`.

    Returns:
        np.ndarray: ``uint8 (height, width, 3)`` image in BGR order (as
        ``cv2.imwrite`` expects), and the layout if ``return_layout``.

    Example:
        >>> img = heatmap_volume_grid(np.random.rand(48, 17, 56, 56),
        ...                           order='TCHW', max_frames=4)
        >>> img.dtype, img.shape[2]
        (dtype('uint8'), 3)
    """
    vol = np.asarray(volume)
    if order not in _ORDERS:
        raise ValueError(f'order must be one of {_ORDERS}, got {order!r}')
    if normalize not in _NORMALIZE:
        raise ValueError(
            f'normalize must be one of {_NORMALIZE}, got {normalize!r}')
    if vol.ndim != 4:
        hint = (' (a batch / multi-clip input (N, C, T, H, W): pass one clip, '
                'e.g. volume[0])' if vol.ndim == 5 else '')
        raise ValueError(f'volume must be 4-D {order}, got shape '
                         f'{vol.shape}{hint}')
    if not np.issubdtype(vol.dtype, np.number):
        raise ValueError(f'volume must be numeric, got dtype {vol.dtype}')
    vol = vol.astype(np.float32, copy=False)
    if order == 'TCHW':
        vol = vol.transpose(1, 0, 2, 3)
    num_c, num_t, height, width = vol.shape
    if min(vol.shape) == 0:
        raise ValueError(f'volume has an empty axis: shape {vol.shape}')
    if max_frames < 1:
        raise ValueError(f'max_frames must be >= 1, got {max_frames}')

    ch_idx = list(range(num_c)) if channels is None else [
        int(c) for c in channels
    ]
    fr_idx = even_frame_indices(num_t, max_frames) if frames is None else [
        int(t) for t in frames
    ]
    for name, idx, size in (('channel', ch_idx, num_c), ('frame', fr_idx,
                                                         num_t)):
        bad = [i for i in idx if not 0 <= i < size]
        if bad or not idx:
            raise ValueError(f'{name} indices {bad or idx} are outside '
                             f'[0, {size}) (volume {order} shape '
                             f'{np.asarray(volume).shape})')
    names = list(channel_names) if channel_names is not None else [
        f'ch{i}' for i in range(num_c)
    ]
    labels = list(frame_labels) if frame_labels is not None else [
        f't={i}' for i in range(num_t)
    ]
    if len(names) != num_c or len(labels) != num_t:
        raise ValueError(f'need {num_c} channel_names and {num_t} '
                         f'frame_labels, got {len(names)} and {len(labels)}')

    cells = vol[ch_idx][:, fr_idx]
    row_names = [names[c] for c in ch_idx]
    if summary_row:
        cells = np.concatenate([vol[:, fr_idx].max(axis=0, keepdims=True),
                                cells])
        row_names = ['all'] + row_names
    cells = np.nan_to_num(cells, nan=0., posinf=0., neginf=0.)
    if normalize == 'global':
        peak = float(cells.max())
        cells = cells / peak if peak > 0 else cells
    elif normalize == 'cell':
        peak = cells.max(axis=(2, 3), keepdims=True)
        cells = np.divide(cells, peak, out=np.zeros_like(cells),
                          where=peak > 0)
    gray = np.clip(cells * 255 + 0.5, 0, 255).astype(np.uint8)

    if scale is None:
        scale = max(1, math.ceil(min_cell / min(height, width)))
    scale = int(scale)
    if scale < 1:
        raise ValueError(f'scale must be >= 1, got {scale}')
    rows, cols = gray.shape[:2]
    cell_h, cell_w = height * scale, width * scale

    col_labels = [labels[t] for t in fr_idx]
    pad = 6
    label_w = max(_text_size(n, font_scale)[0] for n in row_names)
    line_h = max(_text_size(s, font_scale)[1]
                 for s in row_names + col_labels)
    left = label_w + 2 * pad
    top = line_h + 2 * pad
    title_h = 0
    if title:
        title_h = _text_size(title, font_scale)[1] + pad
        top += title_h
    grid_w = cols * (cell_w + gap) - gap
    grid_h = rows * (cell_h + gap) - gap
    width_px = max(left + grid_w + pad,
                   _text_size(title, font_scale)[0] + 2 * pad if title else 0)
    height_px = top + grid_h + pad
    layout = GridLayout(rows, cols, cell_h, cell_w, scale, left, top, gap,
                        width_px, height_px)

    image = np.empty((height_px, width_px, 3), np.uint8)
    image[:] = background
    for r in range(rows):
        for c in range(cols):
            cell = gray[r, c]
            if scale > 1:
                cell = np.repeat(np.repeat(cell, scale, axis=0), scale, axis=1)
            x, y, _, _ = layout.cell_box(r, c)
            image[y:y + cell_h, x:x + cell_w] = cv2.applyColorMap(
                cell, colormap)
        _, y, _, _ = layout.cell_box(r, 0)
        tw, th = _text_size(row_names[r], font_scale)
        _put(image, row_names[r], left - pad - tw, y + (cell_h + th) // 2 - 2,
             font_scale, text_color)
    for c in range(cols):
        x, _, _, _ = layout.cell_box(0, c)
        tw, _ = _text_size(col_labels[c], font_scale)
        _put(image, col_labels[c], x + max(0, (cell_w - tw) // 2),
             top - pad - 2, font_scale, text_color)
    if title:
        _put(image, title, pad, title_h + pad // 2 - 2, font_scale,
             text_color)
    return (image, layout) if return_layout else image
