"""Products (matmul, dot, einsum, tensordot, kron, cross, ...), trace and slogdet on PyTorch.

Same function names as ``backend/jax/numpy_linalg_like.py``; re-exported by ``numpy.py``.
"""

import torch

from lamina.backend.common.dtypes import result_type
from lamina.backend.torch._numpy_common import _dt, _float, _pair
from lamina.backend.torch.core import convert_to_tensor
from lamina.backend.torch.numpy_math import conj

__all__ = [
    "matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron", "cross", "trace", "slogdet",
]


# ---- products ---------------------------------------------------------------

def _no_int_kernel(x):
    """True for an integer tensor on a device whose matrix products take floats only (CUDA)."""
    return not x.is_floating_point() and not x.is_complex() and x.device.type != "cpu"


def _int_matmul(x1, x2):
    """``x1 @ x2`` for integer tensors, exact (NumPy's wrap-around), as a broadcast product and a sum."""
    v1, v2 = x1.ndim == 1, x2.ndim == 1
    a = x1.unsqueeze(0) if v1 else x1
    b = x2.unsqueeze(-1) if v2 else x2
    out = (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2, dtype=x1.dtype)
    if v1:
        out = out.squeeze(-2)
    if v2:
        out = out.squeeze(-1)
    return out


def matmul(x1, x2):
    x1, x2 = _pair(x1, x2)
    if _no_int_kernel(x1):
        return _int_matmul(x1, x2)
    return torch.matmul(x1, x2)


def dot(x1, x2):
    x1, x2 = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x2.ndim <= 2:
        return _int_matmul(x1, x2) if _no_int_kernel(x1) else torch.matmul(x1, x2)
    if _no_int_kernel(x1):
        out = _int_matmul(x1.reshape(-1, x1.shape[-1]), x2.movedim(-2, 0).reshape(x2.shape[-2], -1))
        return out.reshape(*x1.shape[:-1], *x2.shape[:-2], x2.shape[-1])
    return torch.tensordot(x1, x2, dims=([-1], [-2]))


def vdot(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.sum(conj(x1).reshape(-1) * x2.reshape(-1))


def inner(x1, x2):
    x1, x2 = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if _no_int_kernel(x1):
        k = x1.shape[-1]
        return _int_matmul(x1.reshape(-1, k), x2.reshape(-1, k).t()).reshape(*x1.shape[:-1], *x2.shape[:-1])
    return torch.inner(x1, x2)


def outer(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def tensordot(x1, x2, axes=2):
    x1, x2 = _pair(x1, x2)
    if isinstance(axes, (list, tuple)):
        axes = tuple(list(a) if isinstance(a, (list, tuple)) else [a] for a in axes)
    return torch.tensordot(x1, x2, dims=axes)


def einsum(subscripts, *operands):
    dtype = result_type(*[_dt(o) for o in operands])
    return torch.einsum(subscripts, *[convert_to_tensor(o, dtype) for o in operands])


def kron(x1, x2):
    x1, x2 = _pair(x1, x2)
    return torch.kron(x1, x2)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    x1, x2 = _pair(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1)
    if x1.shape[-1] != 3 or x2.shape[-1] != 3:
        raise ValueError(f"cross: vectors must have 3 components, but received shapes {tuple(x1.shape)} and {tuple(x2.shape)}.")
    x1, x2 = torch.broadcast_tensors(x1, x2)
    return torch.movedim(torch.linalg.cross(x1, x2, dim=-1), -1, axisc)


# ---- matrix functions -------------------------------------------------------

def trace(x, offset=0, axis1=0, axis2=1):
    x = convert_to_tensor(x)
    dtype = None
    if x.dtype == torch.bool or (not x.is_floating_point() and not x.is_complex() and x.itemsize < 8):
        dtype = torch.int32  # as Keras: 32-bit (and smaller) integers sum to int32
    return torch.sum(torch.diagonal(x, offset=offset, dim1=axis1, dim2=axis2), dim=-1, dtype=dtype)


def slogdet(x):
    x = _float(x)
    sign, logabsdet = torch.linalg.slogdet(x)
    return sign, logabsdet
