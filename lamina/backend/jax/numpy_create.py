"""Tensor creation: filled tensors (zeros, ones, full, ...), ranges, grids, eye and tri on JAX.

Same function names as ``backend/torch/numpy_create.py``; re-exported by ``numpy.py``.
"""

import builtins

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.jax._numpy_common import _dt
from lamina.backend.jax.core import INITIALIZING, convert_to_tensor, to_engine_dtype

__all__ = [
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "array",
    "arange", "linspace", "logspace", "geomspace", "meshgrid", "eye", "identity", "tri",
]


# ---- filled tensors ---------------------------------------------------------

def _size(s):
    # A symbolic size (while exporting with a dynamic batch) stays symbolic.
    return s if jax.export.is_symbolic_dim(s) else int(s)


def _shape(shape):
    if isinstance(shape, int) or jax.export.is_symbolic_dim(shape):
        return (shape,)
    return tuple(_size(s) for s in shape)


def _on_host(shape):
    """Whether to make a filled tensor with NumPy and transfer it: while a Variable's initializer runs (no
    trace; an eager jnp.zeros compiles a program per shape)."""
    return getattr(INITIALIZING, "active", 0) and all(isinstance(s, int) for s in shape)


def zeros(shape, dtype=None):
    shape = _shape(shape)
    if _on_host(shape):
        return jax.device_put(np.zeros(shape, dtype=np.dtype(to_engine_dtype(dtype) or "float32")))
    return jnp.zeros(shape, dtype=to_engine_dtype(dtype))


def ones(shape, dtype=None):
    shape = _shape(shape)
    if _on_host(shape):
        return jax.device_put(np.ones(shape, dtype=np.dtype(to_engine_dtype(dtype) or "float32")))
    return jnp.ones(shape, dtype=to_engine_dtype(dtype))


def full(shape, fill_value, dtype=None):
    if dtype is None:  # as Keras: a Python number fills floatx; an array keeps its dtype
        dtype = _dt(fill_value) if not isinstance(fill_value, (bool, int, float)) else None
    shape = _shape(shape)
    if _on_host(shape) and isinstance(fill_value, (bool, int, float)):
        return jax.device_put(np.full(shape, fill_value, dtype=np.dtype(to_engine_dtype(dtype) or "float32")))
    return jnp.full(shape, fill_value, dtype=to_engine_dtype(dtype))


def empty(shape, dtype=None):
    return zeros(shape, dtype=dtype)


def zeros_like(x, dtype=None):
    x = convert_to_tensor(x)
    return jnp.zeros_like(x, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


def ones_like(x, dtype=None):
    x = convert_to_tensor(x)
    return jnp.ones_like(x, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


def full_like(x, fill_value, dtype=None):
    x = convert_to_tensor(x)
    return jnp.full_like(x, fill_value, dtype=to_engine_dtype(dtype) if dtype else x.dtype)


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
    return jnp.arange(start, stop, step, dtype=to_engine_dtype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if dtype is None and not any(hasattr(v, "dtype") for v in (start, stop)):
        dtype = to_engine_dtype(None)  # floatx for Python numbers (jnp would give x64's float64)
    elif dtype is not None:
        dtype = to_engine_dtype(dtype)
    return jnp.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None):
    return jnp.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=jnp.float64).astype(to_engine_dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None):
    return jnp.geomspace(start, stop, num, endpoint=endpoint, dtype=jnp.float64).astype(to_engine_dtype(dtype))


def meshgrid(*x, indexing="xy"):
    return jnp.meshgrid(*[convert_to_tensor(e) for e in x], indexing=indexing)


# ---- identity and triangular matrices ---------------------------------------

def eye(N, M=None, k=0, dtype=None):
    return jnp.eye(N, M, k, dtype=to_engine_dtype(dtype))


def identity(n, dtype=None):
    return jnp.identity(n, dtype=to_engine_dtype(dtype))


def tri(N, M=None, k=0, dtype=None):
    return jnp.tri(N, M, k, dtype=to_engine_dtype(dtype))
