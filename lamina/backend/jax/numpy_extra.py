"""More NumPy-like operations on JAX: NaN-aware statistics, partitions, histograms, special functions,
correlation, bit views. Same function names as ``backend/torch/numpy_extra.py``; re-exported by ``numpy.py``.

Arguments are checked and dtypes chosen in ``lamina/ops/numpy_extra.py``.
"""

import jax
import jax.numpy as jnp

from lamina.backend.jax._numpy_common import _axis, _float
from lamina.backend.jax.core import convert_to_tensor, to_engine_dtype

__all__ = [
    "argpartition", "correlate", "histogram", "i0", "isreal", "ldexp", "nanargmax", "nanargmin", "nancumprod",
    "nancumsum", "nanmedian", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nanvar", "nextafter",
    "unravel_index", "vander", "view", "erfc", "vectorize",
]


def _as(x, dtype):
    return convert_to_tensor(x, dtype)


def argpartition(x, kth, axis=-1):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return jnp.argpartition(x, kth, axis=axis).astype("int32")


def correlate(x1, x2, mode="valid", dtype="float32"):
    return jnp.correlate(_as(x1, dtype), _as(x2, dtype), mode=mode)


def histogram(x, bins=10, range=None):  # noqa: A002  (the NumPy name)
    x = convert_to_tensor(x).reshape(-1)
    counts, edges = jnp.histogram(x, bins=bins, range=range)
    return counts.astype(x.dtype), edges.astype(x.dtype)


def i0(x, dtype="float32"):
    return jnp.i0(_as(x, dtype))


def isreal(x):
    return jnp.isreal(convert_to_tensor(x))


def ldexp(x1, x2, dtype="float32"):
    return jnp.ldexp(_as(x1, dtype), convert_to_tensor(x2)).astype(to_engine_dtype(dtype))


def nanargmax(x, axis=None, keepdims=False):
    return jnp.nanargmax(convert_to_tensor(x), axis=axis, keepdims=keepdims).astype("int32")


def nanargmin(x, axis=None, keepdims=False):
    return jnp.nanargmin(convert_to_tensor(x), axis=axis, keepdims=keepdims).astype("int32")


def nancumsum(x, axis=None, dtype=None):
    x = convert_to_tensor(x)
    return jnp.nancumsum(x, axis=axis, dtype=to_engine_dtype(dtype) if dtype is not None else x.dtype)


def nancumprod(x, axis=None, dtype=None):
    x = convert_to_tensor(x)
    return jnp.nancumprod(x, axis=axis, dtype=to_engine_dtype(dtype) if dtype is not None else x.dtype)


def nanquantile(x, q, axis=None, method="linear", keepdims=False, dtype="float32"):
    x = _as(x, dtype)
    return jnp.nanquantile(x, convert_to_tensor(q, dtype), axis=_axis(axis), method=method, keepdims=keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False, dtype="float32"):
    x = _as(x, dtype)
    return jnp.nanpercentile(x, convert_to_tensor(q, dtype), axis=_axis(axis), method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False, dtype="float32"):
    return jnp.nanmedian(_as(x, dtype), axis=_axis(axis), keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False, dtype="float32"):
    return jnp.nanprod(_as(x, dtype), axis=_axis(axis), keepdims=keepdims, dtype=to_engine_dtype(dtype))


def nanvar(x, axis=None, keepdims=False, dtype="float32"):
    return jnp.nanvar(_as(x, dtype), axis=_axis(axis), keepdims=keepdims)


def nanstd(x, axis=None, keepdims=False, dtype="float32"):
    return jnp.nanstd(_as(x, dtype), axis=_axis(axis), keepdims=keepdims)


def nextafter(x1, x2, dtype="float32"):
    return jnp.nextafter(_as(x1, dtype), _as(x2, dtype))


def unravel_index(indices, shape):
    indices = convert_to_tensor(indices)
    out = []
    for size in reversed(tuple(shape)):
        out.append(jnp.remainder(indices, size))
        indices = jnp.floor_divide(indices, size)
    if out and out[0].dtype == jnp.int64:  # integer indices in, int32 out (as Keras)
        out = [o.astype(jnp.int32) for o in out]
    return tuple(reversed(out))


def vander(x, N=None, increasing=False):
    x = convert_to_tensor(x)
    if x.dtype == jnp.bool_:
        x = x.astype("int32")
    return jnp.vander(x, N=N, increasing=increasing).astype(x.dtype)


def view(x, dtype=None):
    x = convert_to_tensor(x)
    return x.view(x.dtype if dtype is None else to_engine_dtype(dtype))


def erfc(x):
    return jax.scipy.special.erfc(_float(x))


def vectorize(pyfunc, excluded=frozenset(), signature=None, core_dims=None):
    """``pyfunc`` broadcast over leading dimensions (``jax.numpy.vectorize``)."""
    return jnp.vectorize(pyfunc, excluded=set(excluded), signature=signature)
