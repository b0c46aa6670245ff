"""Reductions, statistics, cumulative and segment operations, sorting and searching on PyTorch.

Same function names as ``backend/jax/numpy_reduce.py``; re-exported by ``numpy.py``.
"""

import builtins

import torch

from lamina.backend.common.dtypes import result_type
from lamina.backend.torch._numpy_common import _axis, _float, _int_index, _pair
from lamina.backend.torch.core import convert_to_tensor, dtype_name, to_engine_dtype
from lamina.backend.torch.numpy_math import subtract

__all__ = [
    "sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "all", "any", "argmax", "argmin",
    "logsumexp", "count_nonzero", "nansum", "nanmean", "nanmax", "nanmin", "ptp", "average", "quantile",
    "percentile", "median", "corrcoef", "bincount", "cumsum", "cumprod", "diff", "trapezoid", "segment_sum",
    "segment_max", "sort", "argsort", "searchsorted", "digitize", "unique", "top_k", "in_top_k",
]


# ---- reductions -------------------------------------------------------------

_SMALL_INTS = (torch.bool, torch.int8, torch.int16, torch.uint8, torch.uint16)


def _accumulate(x):
    """Sums and products of booleans and 8/16-bit integers accumulate in int32 (as Keras), not overflowing."""
    return x.to(torch.int32) if x.dtype in _SMALL_INTS else x


def sum(x, axis=None, keepdims=False):  # noqa: A001
    x = _accumulate(convert_to_tensor(x))
    if axis is None:
        out = torch.sum(x, dtype=x.dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.sum(x, dim=_axis(axis), keepdim=keepdims, dtype=x.dtype)


def mean(x, axis=None, keepdims=False):
    x = _float(x)
    if axis is None:
        out = torch.mean(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.mean(x, dim=_axis(axis), keepdim=keepdims)


def _minmax(fn, x, axis, keepdims, initial=None):
    x = convert_to_tensor(x)
    if axis is None:
        out = fn(x)
        out = out.reshape((1,) * x.ndim) if keepdims else out
    else:
        out = fn(x, dim=_axis(axis), keepdim=keepdims)
    return out


def _empty_with_initial(x, axis, keepdims, initial):
    """The reduction of an empty ``x`` with ``initial`` (as NumPy and Keras: ``initial`` where nothing is reduced)."""
    x = convert_to_tensor(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in (
        axis if isinstance(axis, (list, tuple)) else (axis,)))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keepdims else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return torch.full(shape, initial, dtype=x.dtype, device=x.device)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    if initial is not None and convert_to_tensor(x).numel() == 0:
        return _empty_with_initial(x, axis, keepdims, initial)
    out = _minmax(torch.amax, x, axis, keepdims)
    return out if initial is None else torch.clamp(out, min=initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    if initial is not None and convert_to_tensor(x).numel() == 0:
        return _empty_with_initial(x, axis, keepdims, initial)
    out = _minmax(torch.amin, x, axis, keepdims)
    return out if initial is None else torch.clamp(out, max=initial)


amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    x = convert_to_tensor(x, dtype)
    if dtype is None:
        x = _accumulate(x)
    if axis is None:
        out = torch.prod(x, dtype=x.dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    for a in sorted([axis] if isinstance(axis, int) else list(axis), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=x.dtype)
    return x


def var(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.var(x, dim=_axis(axis), keepdim=keepdims, correction=0)


def std(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.std(x, dim=_axis(axis), keepdim=keepdims, correction=0)


def all(x, axis=None, keepdims=False):  # noqa: A001
    x = convert_to_tensor(x, "bool")
    if axis is None:
        out = torch.all(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.all(x, dim=_axis(axis), keepdim=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    x = convert_to_tensor(x, "bool")
    if axis is None:
        out = torch.any(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.any(x, dim=_axis(axis), keepdim=keepdims)


def _index_dtype(indices):
    """Indices and counts are int32, as Keras's ops return them on every backend (torch computes int64)."""
    return indices.to(torch.int32)


def argmax(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if axis is None:
        out = torch.argmax(x.reshape(-1))
        return _index_dtype(out if not keepdims else out.reshape((1,) * x.ndim))
    return _index_dtype(torch.argmax(x, dim=axis, keepdim=keepdims))


def argmin(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if axis is None:
        out = torch.argmin(x.reshape(-1))
        return _index_dtype(out if not keepdims else out.reshape((1,) * x.ndim))
    return _index_dtype(torch.argmin(x, dim=axis, keepdim=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    x = _float(x)
    if axis is None:
        axis = tuple(range(x.ndim))
    return torch.logsumexp(x, dim=_axis(axis), keepdim=keepdims)


def count_nonzero(x, axis=None):
    return _index_dtype(torch.count_nonzero(convert_to_tensor(x), dim=_axis(axis)))


# ---- NaN-ignoring reductions and statistics ---------------------------------

def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes) if ndim else ()


def _to_last(x, axis):
    """Move ``axis`` (int, tuple or None) to one trailing axis; return (x, kept_shape_with_ones)."""
    axes = _axes(axis, x.ndim)
    keep = [a for a in range(x.ndim) if a not in axes]
    x2 = x.permute(keep + list(axes)) if x.ndim else x.reshape(1)
    x2 = x2.reshape(*[x.shape[a] for a in keep], -1)
    kd = [1 if a in axes else x.shape[a] for a in range(x.ndim)]
    return x2, kd


def nansum(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if not x.is_floating_point():
        return sum(x, axis=axis, keepdims=keepdims)
    return torch.nansum(x, dim=_axes(axis, x.ndim), keepdim=keepdims)


def nanmean(x, axis=None, keepdims=False):
    x = _float(x)
    return torch.nanmean(x, dim=_axes(axis, x.ndim), keepdim=keepdims)


def nanmax(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if not x.is_floating_point():
        return max(x, axis=axis, keepdims=keepdims)
    out = max(torch.where(torch.isnan(x), -torch.inf, x), axis=axis, keepdims=keepdims)
    allnan = all(torch.isnan(x), axis=axis, keepdims=keepdims)
    return torch.where(allnan, torch.nan, out)


def nanmin(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if not x.is_floating_point():
        return min(x, axis=axis, keepdims=keepdims)
    out = min(torch.where(torch.isnan(x), torch.inf, x), axis=axis, keepdims=keepdims)
    allnan = all(torch.isnan(x), axis=axis, keepdims=keepdims)
    return torch.where(allnan, torch.nan, out)


def ptp(x, axis=None, keepdims=False):
    return subtract(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


def average(x, axis=None, weights=None):
    x = convert_to_tensor(x)
    if weights is None:
        return mean(x, axis=axis)
    weights = convert_to_tensor(weights)
    dtype = result_type(dtype_name(x), dtype_name(weights), float)
    x, weights = x.to(to_engine_dtype(dtype)), weights.to(to_engine_dtype(dtype))
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    weights = torch.broadcast_to(weights, x.shape)
    return sum(x * weights, axis=axis) / sum(weights, axis=axis)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    x = _float(x)
    qt = convert_to_tensor(q, dtype_name(x)).to(x.device)
    flat, kd = _to_last(x, axis)
    out = torch.quantile(flat, qt, dim=-1, interpolation=method)
    if keepdims:
        out = out.reshape(*qt.shape, *kd)
    return out


def percentile(x, q, axis=None, method="linear", keepdims=False):
    x = _float(x)
    return quantile(x, convert_to_tensor(q, dtype_name(x)) / 100.0, axis=axis, method=method, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def corrcoef(x):
    return torch.corrcoef(_float(x))


def bincount(x, weights=None, minlength=0, sparse=False):
    x = _int_index(convert_to_tensor(x))
    if x.ndim == 2:  # counts per row, as Keras: one flat count over row-offset values
        length = builtins.max(int(x.max()) + 1 if x.numel() else 0, minlength)
        offsets = x + torch.arange(x.shape[0], device=x.device)[:, None] * length
        flat = bincount(offsets.reshape(-1), None if weights is None else convert_to_tensor(weights).reshape(-1),
                        minlength=x.shape[0] * length)
        return flat.reshape(x.shape[0], length)
    if weights is not None:
        weights = convert_to_tensor(weights)
        if not weights.is_floating_point():
            weights = weights.to(torch.int64)
        return torch.bincount(x, weights=weights, minlength=minlength)
    return _index_dtype(torch.bincount(x, minlength=minlength))


# ---- cumulative operations, differences and integration ---------------------

def _cumulative_input(x, dtype):
    x = convert_to_tensor(x, dtype)
    if dtype is None and x.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8, torch.uint16):
        x = x.to(torch.int32)  # as Keras (and NumPy): booleans and small integers accumulate as int32
    return x


def cumsum(x, axis=None, dtype=None):
    x = _cumulative_input(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, dim=axis, dtype=x.dtype)


def cumprod(x, axis=None, dtype=None):
    x = _cumulative_input(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumprod(x, dim=axis, dtype=x.dtype)


def diff(a, n=1, axis=-1):
    return torch.diff(convert_to_tensor(a), n=n, dim=axis)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = _float(y)
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    return torch.trapezoid(y, convert_to_tensor(x, dtype_name(y)), dim=axis)


# ---- segment reductions -----------------------------------------------------

def _num_segments(segment_ids, num_segments):
    return int(segment_ids.max()) + 1 if num_segments is None else int(num_segments)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data = convert_to_tensor(data)
    segment_ids = _int_index(convert_to_tensor(segment_ids))
    n = _num_segments(segment_ids, num_segments)
    valid = (segment_ids >= 0) & (segment_ids < n)
    ids = torch.where(valid, segment_ids, 0)
    data = data * valid.reshape(-1, *([1] * (data.ndim - 1))).to(data.dtype)
    out = torch.zeros((n,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    return out.index_add(0, ids, data)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data = convert_to_tensor(data)
    segment_ids = _int_index(convert_to_tensor(segment_ids))
    n = _num_segments(segment_ids, num_segments)
    low = -torch.inf if data.is_floating_point() else torch.iinfo(data.dtype).min
    valid = (segment_ids >= 0) & (segment_ids < n)
    ids = torch.where(valid, segment_ids, n)  # out-of-range ids go to a dropped extra row
    out = torch.full((n + 1,) + tuple(data.shape[1:]), low, dtype=data.dtype, device=data.device)
    idx = ids.reshape(-1, *([1] * (data.ndim - 1))).expand(data.shape)
    return out.scatter_reduce(0, idx, data, reduce="amax", include_self=True)[:n]


# ---- sorting and searching --------------------------------------------------

def sort(x, axis=-1):
    x = convert_to_tensor(x)
    if axis is None:  # the flattened array, as NumPy and Keras
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis).values


def argsort(x, axis=-1):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return _index_dtype(torch.argsort(x, dim=axis, stable=True))


def searchsorted(sorted_sequence, values, side="left"):
    sorted_sequence, values = _pair(sorted_sequence, values)
    if sorted_sequence.ndim != 1:
        raise ValueError(f"searchsorted: `sorted_sequence` must be 1-D, but received shape {tuple(sorted_sequence.shape)}.")
    return torch.searchsorted(sorted_sequence.contiguous(), values.contiguous(), side=side, out_int32=True)


def digitize(x, bins):
    x, bins = _pair(x, bins)
    return torch.bucketize(x, bins, right=True, out_int32=True)


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None, fill_value=None):  # noqa: A002
    x = convert_to_tensor(x)
    out = torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    values, inverse, counts = out
    if axis is None:
        inverse = inverse.reshape(-1)
    if size is not None:
        n = values.shape[0]
        if n >= size:
            values, counts = values[:size], counts[:size]
        else:
            fill = values[0] if fill_value is None else fill_value
            pad_v = torch.full((size - n,) + tuple(values.shape[1:]), fill, dtype=values.dtype, device=values.device)
            values = torch.cat([values, pad_v])
            counts = torch.cat([counts, torch.zeros(size - n, dtype=counts.dtype, device=counts.device)])
    res = [values]
    if return_inverse:
        res.append(inverse)
    if return_counts:
        res.append(counts)
    return res[0] if len(res) == 1 else tuple(res)


def top_k(x, k, sorted=True):  # noqa: A002
    x = convert_to_tensor(x)
    values, indices = torch.topk(x, k, dim=-1, largest=True, sorted=sorted)
    return values, _index_dtype(indices)


def in_top_k(targets, predictions, k):
    targets = _int_index(convert_to_tensor(targets))
    predictions = convert_to_tensor(predictions)
    target_values = torch.gather(predictions, 1, targets[:, None])
    return torch.sum((predictions > target_values).to(torch.int32), dim=1) < k
