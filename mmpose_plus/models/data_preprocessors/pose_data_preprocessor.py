"""Image batching for the 2D pose estimators (top-down and bottom-up).

A thin layer over mmengine's :class:`~mmengine.model.ImgDataPreprocessor`
(BGR->RGB, mean/std normalisation, stacking, bottom/right padding) that
adds readable input checks and multi-scale inputs: when every sample
carries a list of images (one per test scale, as ``BottomupResize`` with
``aug_scales`` produces) the output is a list with one stacked batch per
scale. mmengine's ``pseudo_collate`` transposes such per-sample lists, so
the batch arrives scale-major: ``inputs[s][i]`` is image ``i`` at scale
``s``.
"""
from typing import List, Optional, Sequence

from mmengine.model import ImgDataPreprocessor
from torch import Tensor

from mmpose_plus.registry import MODELS

__all__ = ['PoseDataPreprocessor']


@MODELS.register_module()
class PoseDataPreprocessor(ImgDataPreprocessor):
    """Normalise and stack pose images.

    Padding (only when images of a batch differ in size, or with
    ``pad_size_divisor > 1``) is added at the bottom and right, so pixel
    coordinates of the inputs stay valid.

    Args:
        mean (Sequence[float], optional): Per-channel mean (after
            ``bgr_to_rgb``), 1 or 3 values. None disables normalisation.
        std (Sequence[float], optional): Per-channel std, as ``mean``.
        pad_size_divisor (int): Pad the stacked size to a multiple of this.
            Defaults to 1.
        pad_value (float): Padding value. Defaults to 0.
        bgr_to_rgb (bool): Swap channels 0 and 2 first. Defaults to False.
        rgb_to_bgr (bool): Same swap, other name. Defaults to False.
        non_blocking (bool): Asynchronous device transfer. Defaults to False.

    Inputs (``data['inputs']``): a list of ``(C, H, W)`` tensors, a list of
    lists of them (multi-scale, scale-major as ``pseudo_collate`` makes it:
    one list per scale, each with one image per sample), or an already
    stacked ``(N, C, H, W)`` tensor.

    Returns (forward):
        dict: ``inputs`` ``(N, C, H', W')`` float (a list of those per scale
        for multi-scale inputs) and ``data_samples`` moved to the device.

    Example:
        >>> pre = PoseDataPreprocessor(mean=[123.675, 116.28, 103.53],
        ...                            std=[58.395, 57.12, 57.375],
        ...                            bgr_to_rgb=True)
        >>> imgs = [torch.randint(0, 256, (3, 64, 48), dtype=torch.uint8)
        ...         for _ in range(2)]
        >>> tuple(pre(dict(inputs=imgs))['inputs'].shape)
        (2, 3, 64, 48)
        >>> half = [img[:, ::2, ::2] for img in imgs]
        >>> out = pre(dict(inputs=[imgs, half]))  # scale-major
        >>> [tuple(x.shape) for x in out['inputs']]
        [(2, 3, 64, 48), (2, 3, 32, 24)]
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: float = 0,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False) -> None:
        if (mean is None) != (std is None):
            raise ValueError('PoseDataPreprocessor: give both mean and std, '
                             'or neither')
        for name, value in (('mean', mean), ('std', std)):
            if value is not None and len(value) not in (1, 3):
                raise ValueError(f'PoseDataPreprocessor: {name} needs 1 or 3 '
                                 f'values, got {list(value)}')
        if bgr_to_rgb and rgb_to_bgr:
            raise ValueError('PoseDataPreprocessor: bgr_to_rgb and rgb_to_bgr '
                             'are the same swap; set one of them')
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking)

    def _check_image(self, img, where: str) -> None:
        if not isinstance(img, Tensor) or img.dim() != 3:
            shape = tuple(img.shape) if hasattr(img, 'shape') else type(img)
            raise ValueError(f'PoseDataPreprocessor: {where}: expected a '
                             f'(C, H, W) image tensor, got {shape}')
        channels = img.shape[0]
        if self._channel_conversion and channels != 3:
            raise ValueError(f'PoseDataPreprocessor: {where}: a BGR/RGB swap '
                             f'needs 3 channels, got {channels}')
        if self._enable_normalize and self.mean.shape[0] not in (1, channels):
            raise ValueError(
                f'PoseDataPreprocessor: {where} has {channels} channels but '
                f'mean/std have {self.mean.shape[0]} values')

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if inputs is None:
            raise KeyError('PoseDataPreprocessor: the batch has no "inputs" '
                           '(expected a dict from pseudo_collate)')
        if isinstance(inputs, Tensor):
            if inputs.dim() != 4:
                raise ValueError('PoseDataPreprocessor: a stacked batch must '
                                 f'be (N, C, H, W), got {tuple(inputs.shape)}')
            return super().forward(data, training)
        inputs = list(inputs)
        if not inputs:
            raise ValueError('PoseDataPreprocessor: empty batch')
        if not isinstance(inputs[0], (list, tuple)):
            for i, img in enumerate(inputs):
                self._check_image(img, f'sample {i}')
            return super().forward(data, training)
        return self._forward_multiscale(data, inputs, training)

    def _forward_multiscale(self, data: dict, inputs: List[Sequence[Tensor]],
                            training: bool) -> dict:
        num_samples = len(inputs[0])
        for s, images in enumerate(inputs):
            if not isinstance(images, (list, tuple)) or \
                    len(images) != num_samples:
                got = len(images) if isinstance(images,
                                                (list, tuple)) else 1
                raise ValueError(
                    'PoseDataPreprocessor: multi-scale inputs (scale-major) '
                    f'need {num_samples} images at every scale; scale {s} '
                    f'has {got} (do all samples have the same number of '
                    'scales?)')
            for i, img in enumerate(images):
                self._check_image(img, f'sample {i}, scale {s}')
        batches: List[Tensor] = [
            super(PoseDataPreprocessor, self).forward(
                dict(inputs=list(images)), training)['inputs']
            for images in inputs
        ]
        out = self.cast_data({
            k: v
            for k, v in data.items() if k != 'inputs'
        })
        out['inputs'] = batches
        out.setdefault('data_samples', None)
        return out
