"""Reductions, statistics, cumulative and segment operations, sorting and searching on JAX.

Same function names as ``backend/torch/numpy_reduce.py``; re-exported by ``numpy.py``.
"""

import builtins

import jax
import jax.numpy as jnp

from lamina.backend.common.dtypes import result_type
from lamina.backend.jax._numpy_common import _axis, _float, _pair
from lamina.backend.jax.core import convert_to_tensor, dtype_name, to_engine_dtype

__all__ = [
    "sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "all", "any", "argmax", "argmin",
    "logsumexp", "count_nonzero", "nansum", "nanmean", "nanmax", "nanmin", "ptp", "average", "quantile",
    "percentile", "median", "corrcoef", "bincount", "cumsum", "cumprod", "diff", "trapezoid", "segment_sum",
    "segment_max", "sort", "argsort", "searchsorted", "digitize", "unique", "top_k", "in_top_k",
]


# ---- reductions -------------------------------------------------------------

_TO_INT32 = (jnp.bool_, jnp.int8, jnp.int16)
_TO_UINT32 = (jnp.uint8, jnp.uint16)


def _accumulate(x):
    """Sums and products of booleans and 8/16-bit integers accumulate in (u)int32 (as Keras), not overflowing."""
    if x.dtype in _TO_INT32:
        return x.astype(jnp.int32)
    if x.dtype in _TO_UINT32:
        return x.astype(jnp.uint32)
    return x


def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _accumulate(convert_to_tensor(x))
    return jnp.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=x.dtype)


def mean(x, axis=None, keepdims=False):
    return jnp.mean(_float(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.max(convert_to_tensor(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    return jnp.min(convert_to_tensor(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    x = convert_to_tensor(x, dtype)
    if dtype is None:
        x = _accumulate(x)
    return jnp.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=x.dtype)


def var(x, axis=None, keepdims=False):
    return jnp.var(_float(x), axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return jnp.std(_float(x), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.all(convert_to_tensor(x, "bool"), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.any(convert_to_tensor(x, "bool"), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return jnp.argmax(convert_to_tensor(x), axis=axis, keepdims=keepdims).astype(jnp.int32)


def argmin(x, axis=None, keepdims=False):
    return jnp.argmin(convert_to_tensor(x), axis=axis, keepdims=keepdims).astype(jnp.int32)


def logsumexp(x, axis=None, keepdims=False):
    return jax.scipy.special.logsumexp(_float(x), axis=_axis(axis), keepdims=keepdims)


def count_nonzero(x, axis=None):
    return jnp.count_nonzero(convert_to_tensor(x), axis=_axis(axis)).astype(jnp.int32)


# ---- NaN-ignoring reductions and statistics ---------------------------------

def nansum(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.int32)
    return jnp.nansum(x, axis=_axis(axis), keepdims=keepdims, dtype=x.dtype)


def nanmean(x, axis=None, keepdims=False):
    return jnp.nanmean(_float(x), axis=_axis(axis), keepdims=keepdims)


def nanmax(x, axis=None, keepdims=False):
    return jnp.nanmax(convert_to_tensor(x), axis=_axis(axis), keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    return jnp.nanmin(convert_to_tensor(x), axis=_axis(axis), keepdims=keepdims)


def ptp(x, axis=None, keepdims=False):
    return jnp.ptp(convert_to_tensor(x), axis=_axis(axis), keepdims=keepdims)


def average(x, axis=None, weights=None):
    x = convert_to_tensor(x)
    if weights is None:
        return mean(x, axis=axis)
    weights = convert_to_tensor(weights)
    dtype = to_engine_dtype(result_type(dtype_name(x), dtype_name(weights), float))
    return jnp.average(x.astype(dtype), axis=axis, weights=weights.astype(dtype))


def quantile(x, q, axis=None, method="linear", keepdims=False):
    x = _float(x)
    q = convert_to_tensor(q, dtype_name(x))
    return jnp.quantile(x, q, axis=_axis(axis), method=method, keepdims=keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    x = _float(x)
    return quantile(x, convert_to_tensor(q, dtype_name(x)) / 100.0, axis=axis, method=method, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def corrcoef(x):
    return jnp.corrcoef(_float(x))


def bincount(x, weights=None, minlength=0, sparse=False):
    x = convert_to_tensor(x)
    length = builtins.max(int(jnp.max(x)) + 1 if x.size else 0, minlength)
    if x.ndim == 2:  # counts per row, as Keras
        rows = jnp.arange(x.shape[0])[:, None]
        if weights is not None:
            weights = convert_to_tensor(weights)
            if not jnp.issubdtype(weights.dtype, jnp.floating):
                weights = weights.astype(jnp.int64)
            return jnp.zeros((x.shape[0], length), weights.dtype).at[rows, x].add(weights)
        return jnp.zeros((x.shape[0], length), jnp.int32).at[rows, x].add(1)
    if weights is not None:
        weights = convert_to_tensor(weights)
        if not jnp.issubdtype(weights.dtype, jnp.floating):
            weights = weights.astype(jnp.int64)
        return jnp.bincount(x, weights=weights, length=length)
    return jnp.bincount(x, length=length).astype(jnp.int32)


# ---- cumulative operations, differences and integration ---------------------

def _cumulative_input(x, dtype):
    x = convert_to_tensor(x, dtype)
    if dtype is None and x.dtype in (jnp.bool_, jnp.int8, jnp.int16, jnp.uint8, jnp.uint16):
        x = x.astype(jnp.int32)  # as Keras (and NumPy): booleans and small integers accumulate as int32
    return x


def cumsum(x, axis=None, dtype=None):
    x = _cumulative_input(x, dtype)
    return jnp.cumsum(x, axis=axis, dtype=x.dtype)


def cumprod(x, axis=None, dtype=None):
    x = _cumulative_input(x, dtype)
    return jnp.cumprod(x, axis=axis, dtype=x.dtype)


def diff(a, n=1, axis=-1):
    return jnp.diff(convert_to_tensor(a), n=n, axis=axis)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = _float(y)
    if x is not None:
        x = convert_to_tensor(x, dtype_name(y))
    return jnp.trapezoid(y, x=x, dx=dx, axis=axis)


# ---- segment reductions -----------------------------------------------------

def _num_segments(segment_ids, num_segments):
    return int(jnp.max(segment_ids)) + 1 if num_segments is None else int(num_segments)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data, segment_ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    n = _num_segments(segment_ids, num_segments)
    return jax.ops.segment_sum(data, segment_ids, num_segments=n, indices_are_sorted=sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data, segment_ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    n = _num_segments(segment_ids, num_segments)
    return jax.ops.segment_max(data, segment_ids, num_segments=n, indices_are_sorted=sorted)


# ---- sorting and searching --------------------------------------------------

def sort(x, axis=-1):
    return jnp.sort(convert_to_tensor(x), axis=axis)


def argsort(x, axis=-1):
    return jnp.argsort(convert_to_tensor(x), axis=axis, stable=True).astype(jnp.int32)


def searchsorted(sorted_sequence, values, side="left"):
    sorted_sequence, values = _pair(sorted_sequence, values)
    if sorted_sequence.ndim != 1:
        raise ValueError(f"searchsorted: `sorted_sequence` must be 1-D, but received shape {tuple(sorted_sequence.shape)}.")
    return jnp.searchsorted(sorted_sequence, values, side=side).astype(jnp.int32)


def digitize(x, bins):
    x, bins = _pair(x, bins)
    return jnp.searchsorted(bins, x, side="right").astype(jnp.int32)


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None, fill_value=None):  # noqa: A002
    x = convert_to_tensor(x)
    values, inverse, counts = jnp.unique(x, return_inverse=True, return_counts=True, axis=axis,
                                         size=size, fill_value=fill_value)
    res = [values]
    if return_inverse:
        res.append(inverse.reshape(-1).astype(jnp.int64) if axis is None else inverse.reshape(-1).astype(jnp.int64))
    if return_counts:
        res.append(counts.astype(jnp.int64))
    return res[0] if len(res) == 1 else tuple(res)


def top_k(x, k, sorted=True):  # noqa: A002
    values, indices = jax.lax.top_k(convert_to_tensor(x), k)
    return values, indices.astype(jnp.int32)


def in_top_k(targets, predictions, k):
    targets = convert_to_tensor(targets).astype(jnp.int64)
    predictions = convert_to_tensor(predictions)
    target_values = jnp.take_along_axis(predictions, targets[:, None], axis=1)
    return jnp.sum((predictions > target_values).astype(jnp.int32), axis=1) < k
