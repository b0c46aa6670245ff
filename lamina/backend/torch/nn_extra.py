"""im2col / col2im on PyTorch (``torch.nn.functional.unfold`` / ``fold``). Same names as
``backend/jax/nn_extra.py``; arguments are checked in ``lamina/ops/nn_extra.py`` (pairs of ints here)."""

import torch

from lamina.backend.torch.core import convert_to_tensor


def unfold(x, kernel_size, dilation, padding, stride):
    return torch.nn.functional.unfold(convert_to_tensor(x), kernel_size, dilation=dilation, padding=padding,
                                      stride=stride)


def fold(x, output_size, kernel_size, dilation, padding, stride):
    return torch.nn.functional.fold(convert_to_tensor(x), output_size, kernel_size, dilation=dilation,
                                    padding=padding, stride=stride)
