"""Tensor creation: filled tensors (zeros, ones, full, ...), ranges, grids, eye and tri on PyTorch.

Same function names as ``backend/jax/numpy_create.py``; re-exported by ``numpy.py``.
"""

import builtins

import torch

from lamina.backend.torch._numpy_common import _dt
from lamina.backend.torch import core as _core  # DEFAULT_DEVICE read at call time (device_scope)
from lamina.backend.torch.core import convert_to_tensor, to_engine_dtype

__all__ = [
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "array",
    "arange", "linspace", "logspace", "geomspace", "meshgrid", "eye", "identity", "tri",
]


# ---- filled tensors ---------------------------------------------------------

def _size(s):
    # A symbolic size (while exporting with a dynamic batch) stays symbolic.
    return s if isinstance(s, torch.SymInt) else int(s)


def _shape(shape):
    if isinstance(shape, (int, torch.SymInt)):
        return (shape,)
    return tuple(_size(s) for s in shape)


def zeros(shape, dtype=None):
    return torch.zeros(_shape(shape), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)


def ones(shape, dtype=None):
    return torch.ones(_shape(shape), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)


def full(shape, fill_value, dtype=None):
    if dtype is None:  # as Keras: a Python number fills floatx; an array keeps its dtype
        dtype = _dt(fill_value) if not isinstance(fill_value, (bool, int, float)) else None
    return torch.full(_shape(shape), fill_value, dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)


def empty(shape, dtype=None):
    return zeros(shape, dtype=dtype)


def zeros_like(x, dtype=None):
    x = convert_to_tensor(x)
    return torch.zeros_like(x, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


def ones_like(x, dtype=None):
    x = convert_to_tensor(x)
    return torch.ones_like(x, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


def full_like(x, fill_value, dtype=None):
    x = convert_to_tensor(x)
    return torch.full_like(x, fill_value, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


def empty_like(x, dtype=None):
    return zeros_like(x, dtype=dtype)


def array(x, dtype=None):
    return convert_to_tensor(x, dtype)


# ---- ranges and grids -------------------------------------------------------

def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = "int32" if builtins.all(isinstance(v, int) for v in (start, stop, step)) else None
    return torch.arange(start, stop, step, dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    dt = to_engine_dtype(dtype)
    if isinstance(start, (bool, int, float)) and isinstance(stop, (bool, int, float)) and axis in (0, -1):
        div = (num - 1) if endpoint else num
        step = (stop - start) / div if div > 0 else float("nan")
        if not endpoint:
            stop = start + (stop - start) * (num - 1) / num if num > 1 else start
        out = torch.linspace(start, stop, num, dtype=dt, device=_core.DEFAULT_DEVICE)
        return (out, torch.tensor(step, dtype=out.dtype, device=out.device)) if retstep else out
    # array start/stop (as Keras and NumPy): samples along a new axis ``axis``, computed in float64
    start = torch.as_tensor(convert_to_tensor(start), dtype=torch.float64)
    stop = torch.as_tensor(convert_to_tensor(stop), dtype=torch.float64)
    start, stop = torch.broadcast_tensors(start, stop)
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else torch.full_like(start, float("nan"))
    idx = torch.arange(num, dtype=torch.float64, device=start.device).reshape((num,) + (1,) * start.ndim)
    out = start + idx * step
    if endpoint and num > 1:
        out[-1] = stop
    out = torch.movedim(out, 0, axis % (start.ndim + 1)).to(dt)
    return (out, step.to(dt)) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None):
    exps = linspace(start, stop, num=num, endpoint=endpoint, dtype="float64")
    return torch.pow(torch.tensor(float(base), dtype=torch.float64, device=_core.DEFAULT_DEVICE), exps).to(to_engine_dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None):
    import math

    out = logspace(math.log10(start), math.log10(stop), num=num, endpoint=endpoint, dtype="float64")
    out[0] = start
    if endpoint and num > 1:
        out[-1] = stop
    return out.to(to_engine_dtype(dtype))


def meshgrid(*x, indexing="xy"):
    return list(torch.meshgrid(*[convert_to_tensor(e) for e in x], indexing=indexing))


# ---- identity and triangular matrices ---------------------------------------

def eye(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    out = torch.zeros((N, M), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE)
    idx = torch.arange(builtins.max(0, builtins.min(N, M - k) if k >= 0 else builtins.min(N + k, M)), device=_core.DEFAULT_DEVICE)
    rows, cols = (idx, idx + k) if k >= 0 else (idx - k, idx)
    out[rows, cols] = 1
    return out


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    return torch.tril(torch.ones((N, M), dtype=to_engine_dtype(dtype), device=_core.DEFAULT_DEVICE), diagonal=k)
