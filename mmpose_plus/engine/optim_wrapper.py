"""Mixed precision on machines without a GPU."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmpose_plus.registry import OPTIM_WRAPPERS

HEAD_NAMES = ('cls_head', 'head')


def _to_fp32(output):
    if isinstance(output, torch.Tensor):
        return output.float() if output.is_floating_point() else output
    if isinstance(output, dict):
        return {k: _to_fp32(v) for k, v in output.items()}
    if isinstance(output, (list, tuple)):
        return type(output)(_to_fp32(v) for v in output)
    return output


def keep_head_outputs_fp32(model: nn.Module) -> nn.Module:
    """Make the model's head return float32 under autocast (idempotent).

    Losses and metrics turn scores into numpy arrays, and numpy has no
    bfloat16; casting the (small) head output keeps them working while the
    backbone still runs in low precision.

    Args:
        model (nn.Module): A recognizer or pose estimator (possibly wrapped).

    Returns:
        nn.Module: The same model.
    """
    inner = getattr(model, 'module', model)
    for name in HEAD_NAMES:
        head = getattr(inner, name, None)
        if isinstance(head, nn.Module) and \
                not getattr(head, '_fp32_output_hook', False):
            head.register_forward_hook(lambda mod, args, out: _to_fp32(out))
            head._fp32_output_hook = True
    return model


@OPTIM_WRAPPERS.register_module()
class CPUBf16OptimWrapper(OptimWrapper):
    """Optimizer wrapper that runs the forward pass under CPU bfloat16
    autocast.

    mmengine's ``AmpOptimWrapper`` refuses to start without an accelerator;
    ``tools/train.py --amp`` selects this wrapper on CPU instead. bfloat16 has
    the exponent range of float32, so no loss scaling is needed. The head's
    output is returned in float32 (see :func:`keep_head_outputs_fp32`).
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        keep_head_outputs_fp32(model)
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield
