"""Private helpers shared by the ``numpy_*`` modules of the PyTorch backend."""

import torch

from lamina.backend.common.dtypes import result_type
from lamina.backend.torch.core import convert_to_tensor, dtype_name, to_engine_dtype


def _dt(x):
    if isinstance(x, (bool, int, float)):
        return type(x)
    return dtype_name(x)


def _pair(x1, x2):
    """Convert two operands to tensors of their promoted dtype (Python scalars are weak); a CPU tensor met
    with a GPU one moves to the GPU (convert_to_tensor), as Keras moves it."""
    if (isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor) and x1.dtype == x2.dtype
            and x1.is_cuda is x2.is_cuda):
        return x1, x2
    dtype = result_type(_dt(x1), _dt(x2))
    return convert_to_tensor(x1, dtype), convert_to_tensor(x2, dtype)


def _float(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(to_engine_dtype(None))
    return x


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _int_index(x):
    return x.to(torch.int64)
