"""NaN-aware reductions and scans (``keras.ops.nanmean``'s family: nanargmax, nancumsum, nanquantile, nanstd,
...): the NumPy-like ops that skip NaNs, re-exported by ``lamina.ops.numpy_extra``."""

import numbers

import numpy as np

from lamina import backend, config
from lamina.backend.common.dtypes import result_type, standardize_dtype
from lamina.ops.operation import op

__all__ = ["nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmedian", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nanvar"]

_np_backend = backend.numpy


def _tensor(x):
    return backend.convert_to_tensor(x)


def _dtype(x):
    if isinstance(x, (bool, int, float)):
        return type(x)
    return backend.dtype_name(x)


def _float_result(*xs):
    return result_type(*[_dtype(x) for x in xs], float)


# ---- NaN-aware reductions and scans ----------------------------------------------

def _check_axis(name, x, axis):
    axes = () if axis is None else ((axis,) if isinstance(axis, numbers.Integral) else tuple(axis))
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -max(x.ndim, 1) <= a < max(x.ndim, 1):
            raise ValueError(f"{name}: expected `axis` within the {x.ndim} dimensions of `x` (shape "
                             f"{tuple(x.shape)}), but received axis={axis!r}.")


def _nan_arg(name, fn, x, axis, keepdims):
    x = _tensor(x)
    if axis is not None and not isinstance(axis, numbers.Integral):
        raise ValueError(f"{name}: expected `axis` to be None or an integer, but received {axis!r}.")
    _check_axis(name, x, axis)
    return fn(x, axis=axis, keepdims=keepdims)


@op
def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` ignoring NaNs (-1 for an all-NaN slice). int32.

    Example:
    >>> from lamina import ops
    >>> int(ops.nanargmax([1.0, float("nan"), 3.0]))
    2
    """
    return _nan_arg("nanargmax", _np_backend.nanargmax, x, axis, keepdims)


@op
def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis`` ignoring NaNs (-1 for an all-NaN slice). int32.

    Example:
    >>> from lamina import ops
    >>> int(ops.nanargmin([float("nan"), 2.0, 1.0]))
    2
    """
    return _nan_arg("nanargmin", _np_backend.nanargmin, x, axis, keepdims)


def _cumulative(name, fn, x, axis, dtype):
    x = _tensor(x)
    if axis is not None and not isinstance(axis, numbers.Integral):
        raise ValueError(f"{name}: expected `axis` to be None or an integer, but received {axis!r}.")
    _check_axis(name, x, axis)
    if dtype is None and _dtype(x) == "bool":
        dtype = "int32"
    return fn(x, axis=axis, dtype=None if dtype is None else standardize_dtype(dtype))


@op
def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (flattened when None), NaNs counted as 0.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.nancumsum([1.0, float("nan"), 2.0])).tolist()
    [1.0, 1.0, 3.0]
    """
    return _cumulative("nancumsum", _np_backend.nancumsum, x, axis, dtype)


@op
def nancumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (flattened when None), NaNs counted as 1.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.nancumprod([2.0, float("nan"), 3.0])).tolist()
    [2.0, 2.0, 6.0]
    """
    return _cumulative("nancumprod", _np_backend.nancumprod, x, axis, dtype)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_args(name, x, q, axis, method, scale):
    x = _tensor(x)
    _check_axis(name, x, axis)
    if method not in _METHODS:
        raise ValueError(f"{name}: expected `method` to be one of {_METHODS}, but received {method!r}.")
    qn = np.asarray(backend.convert_to_numpy(q), "float64")
    if qn.ndim > 1 or np.any(qn < 0) or np.any(qn > scale):
        raise ValueError(f"{name}: expected `q` to be a scalar or 1-D list of values in [0, {scale}], but received "
                         f"{q!r}.")
    dtype = config.floatx() if _dtype(x) == "int64" else _float_result(x)
    return x, dtype


@op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) (``q`` in [0, 1]) along ``axis``, ignoring NaNs; a list of ``q`` adds a leading
    axis. ``method``: "linear", "lower", "higher", "midpoint" or "nearest".

    Example:
    >>> from lamina import ops
    >>> float(ops.nanquantile([1.0, float("nan"), 3.0, 5.0], 0.5))
    3.0
    """
    x, dtype = _quantile_args("nanquantile", x, q, axis, method, 1)
    return _np_backend.nanquantile(x, q, axis=axis, method=method, keepdims=keepdims, dtype=dtype)


@op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentile(s) (``q`` in [0, 100]) along ``axis``, ignoring NaNs.

    Example:
    >>> from lamina import ops
    >>> float(ops.nanpercentile([1.0, float("nan"), 3.0, 5.0], 50))
    3.0
    """
    x, dtype = _quantile_args("nanpercentile", x, q, axis, method, 100)
    return _np_backend.nanpercentile(x, q, axis=axis, method=method, keepdims=keepdims, dtype=dtype)


@op
def nanmedian(x, axis=None, keepdims=False):
    """The median along ``axis``, ignoring NaNs (float result).

    Example:
    >>> from lamina import ops
    >>> float(ops.nanmedian([1.0, float("nan"), 2.0, 9.0]))
    2.0
    """
    x = _tensor(x)
    _check_axis("nanmedian", x, axis)
    return _np_backend.nanmedian(x, axis=axis, keepdims=keepdims, dtype=_float_result(x))


@op
def nanprod(x, axis=None, keepdims=False):
    """Product along ``axis``, NaNs counted as 1 (bool and small integers give int32).

    Example:
    >>> from lamina import ops
    >>> float(ops.nanprod([2.0, float("nan"), 3.0]))
    6.0
    """
    x = _tensor(x)
    _check_axis("nanprod", x, axis)
    dtype = _dtype(x)
    if dtype in ("bool", "int8", "int16", "uint8", "uint16"):
        dtype = "int32"
    return _np_backend.nanprod(x, axis=axis, keepdims=keepdims, dtype=dtype)


@op
def nanvar(x, axis=None, keepdims=False):
    """Population variance along ``axis``, ignoring NaNs (float result).

    Example:
    >>> from lamina import ops
    >>> float(ops.nanvar([1.0, float("nan"), 3.0]))
    1.0
    """
    x = _tensor(x)
    _check_axis("nanvar", x, axis)
    return _np_backend.nanvar(x, axis=axis, keepdims=keepdims, dtype=_float_result(x))


@op
def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation along ``axis``, ignoring NaNs (float result).

    Example:
    >>> from lamina import ops
    >>> float(ops.nanstd([1.0, float("nan"), 3.0]))
    1.0
    """
    x = _tensor(x)
    _check_axis("nanstd", x, axis)
    return _np_backend.nanstd(x, axis=axis, keepdims=keepdims, dtype=_float_result(x))
