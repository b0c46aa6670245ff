"""More NumPy-like operations on PyTorch: NaN-aware statistics, partitions, histograms, special functions,
correlation, bit views. Same function names as ``backend/jax/numpy_extra.py``; re-exported by ``numpy.py``.

Arguments are checked and dtypes chosen in ``lamina/ops/numpy_extra.py``.
"""

import torch

from lamina.backend.torch._numpy_common import _float
from lamina.backend.torch.core import convert_to_tensor, dtype_name, to_engine_dtype
from lamina.backend.torch.numpy_reduce import _axes, _to_last

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
    # A full (stable) sort is one valid partition for every kth.
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def correlate(x1, x2, mode="valid", dtype="float32"):
    a, b = _as(x1, dtype), _as(x2, dtype)
    flip = b.shape[0] > a.shape[0]
    if flip:
        a, b = b, a
    m = b.shape[0]
    pad = {"valid": (0, 0), "same": (m // 2, m - 1 - m // 2), "full": (m - 1, m - 1)}[mode]
    if flip and mode == "same":
        pad = pad[::-1]
    a = torch.nn.functional.pad(a[None, None], pad)
    b = b.conj() if b.is_complex() else b
    out = torch.nn.functional.conv1d(a, b[None, None])[0, 0]
    if flip:
        out = torch.flip(out, (0,))
        out = out.conj() if out.is_complex() else out
    return out


def histogram(x, bins=10, range=None):  # noqa: A002  (the NumPy name)
    x = convert_to_tensor(x).reshape(-1)
    work = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
    if range is None:
        lo, hi = (work.min(), work.max()) if work.numel() else (torch.zeros(()), torch.ones(()))
    else:
        lo, hi = (torch.as_tensor(v, dtype=work.dtype, device=work.device) for v in range)
    same = lo == hi
    lo, hi = torch.where(same, lo - 0.5, lo), torch.where(same, hi + 0.5, hi)
    edges = lo + (hi - lo) * torch.arange(bins + 1, dtype=work.dtype, device=work.device) / bins
    edges = torch.cat([edges[:-1], hi.reshape(1)])  # the last edge exactly hi, so max(x) lands in the last bin
    idx = torch.searchsorted(edges, work, right=True) - 1
    idx = torch.where(work == edges[-1], bins - 1, idx)
    inside = (work >= edges[0]) & (work <= edges[-1])
    counts = torch.zeros(bins + 1, dtype=work.dtype, device=work.device)
    counts = counts.index_add(0, torch.where(inside, idx, bins), torch.ones_like(work))[:bins]
    return counts.to(x.dtype), edges.to(x.dtype)


def i0(x, dtype="float32"):
    return torch.special.i0(_as(x, dtype))


def isreal(x):
    x = convert_to_tensor(x)
    if x.is_complex():
        return x.imag == 0
    return torch.ones_like(x, dtype=torch.bool)


def ldexp(x1, x2, dtype="float32"):
    return torch.ldexp(_as(x1, dtype), convert_to_tensor(x2)).to(to_engine_dtype(dtype))


def _nan_arg(x, axis, keepdims, largest):
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        nan = torch.zeros_like(x, dtype=torch.bool)
    else:
        nan = torch.isnan(x)
    fill = -torch.inf if largest else torch.inf
    filled = torch.where(nan, fill, x) if x.is_floating_point() else x
    if axis is None:
        flat = filled.reshape(-1)
        out = (torch.argmax if largest else torch.argmin)(flat)
        out = torch.where(nan.all(), -1, out)
        return out.reshape((1,) * x.ndim).to(torch.int32) if keepdims else out.to(torch.int32)
    out = (torch.argmax if largest else torch.argmin)(filled, dim=axis, keepdim=keepdims)
    out = torch.where(nan.all(dim=axis, keepdim=keepdims), -1, out)
    return out.to(torch.int32)


def nanargmax(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, True)


def nanargmin(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, False)


def _without_nan(x, fill):
    return torch.where(torch.isnan(x), fill, x) if x.is_floating_point() or x.is_complex() else x


def nancumsum(x, axis=None, dtype=None):
    x = _without_nan(convert_to_tensor(x), 0)
    x = x.to(to_engine_dtype(dtype)) if dtype is not None else x
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, dim=axis, dtype=x.dtype)


def nancumprod(x, axis=None, dtype=None):
    x = _without_nan(convert_to_tensor(x), 1)
    x = x.to(to_engine_dtype(dtype)) if dtype is not None else x
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumprod(x, dim=axis, dtype=x.dtype)


def nanquantile(x, q, axis=None, method="linear", keepdims=False, dtype="float32"):
    x = _as(x, dtype)
    qt = convert_to_tensor(q, dtype_name(x))
    flat, kd = _to_last(x, axis)
    out = torch.nanquantile(flat, qt, dim=-1, interpolation=method)
    if keepdims:
        out = out.reshape(*qt.shape, *kd)
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False, dtype="float32"):
    return nanquantile(x, convert_to_tensor(q, dtype) / 100.0, axis=axis, method=method, keepdims=keepdims,
                       dtype=dtype)


def nanmedian(x, axis=None, keepdims=False, dtype="float32"):
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims, dtype=dtype)


def nanprod(x, axis=None, keepdims=False, dtype="float32"):
    x = _without_nan(convert_to_tensor(x), 1).to(to_engine_dtype(dtype))
    flat, kd = _to_last(x, axis)
    out = torch.prod(flat, dim=-1, dtype=x.dtype)
    return out.reshape(kd) if keepdims else out


def nanvar(x, axis=None, keepdims=False, dtype="float32"):
    x = _as(x, dtype)
    axes = _axes(axis, x.ndim)
    nan = torch.isnan(x)
    count = (~nan).sum(dim=axes, keepdim=True).to(x.dtype)
    mean = torch.nansum(x, dim=axes, keepdim=True) / count
    dev = torch.where(nan, 0, x - mean)
    out = torch.sum(dev * dev.conj() if x.is_complex() else dev * dev, dim=axes, keepdim=True) / count
    return out if keepdims else out.reshape([s for a, s in enumerate(out.shape) if a not in axes])


def nanstd(x, axis=None, keepdims=False, dtype="float32"):
    return torch.sqrt(nanvar(x, axis=axis, keepdims=keepdims, dtype=dtype))


def nextafter(x1, x2, dtype="float32"):
    return torch.nextafter(_as(x1, dtype), _as(x2, dtype))


def unravel_index(indices, shape):
    indices = convert_to_tensor(indices)
    out = []
    for size in reversed(tuple(shape)):
        out.append(torch.remainder(indices, size))
        indices = torch.div(indices, size, rounding_mode="floor")
    if out and out[0].dtype == torch.int64:  # integer indices in, int32 out (as Keras)
        out = [o.to(torch.int32) for o in out]
    return tuple(reversed(out))


def vander(x, N=None, increasing=False):
    x = convert_to_tensor(x)
    n = x.shape[0] if N is None else int(N)
    powers = torch.arange(n, device=x.device)
    if not increasing:
        powers = torch.flip(powers, (0,))
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.pow(x[:, None], powers[None, :].to(x.dtype if not x.is_floating_point() else torch.int64)
                     ).to(x.dtype)


def view(x, dtype=None):
    x = convert_to_tensor(x)
    if dtype is None:
        return x.view(x.dtype)
    return x.view(to_engine_dtype(dtype))


def erfc(x):
    return torch.special.erfc(_float(x))


def vectorize(pyfunc, excluded=frozenset(), signature=None, core_dims=None):
    """``pyfunc`` broadcast over leading dimensions: loop dimensions are broadcast, flattened and mapped with
    ``torch.func.vmap`` (a Python loop when ``pyfunc`` cannot be batched). ``core_dims``: the parsed
    ``signature``, ``(inputs' core dimension names, outputs')``."""
    core_in = core_dims[0] if core_dims else None

    def wrapped(*args, **kwargs):
        pos = [i for i in range(len(args)) if i not in excluded]
        tensors = [convert_to_tensor(args[i]) for i in pos]
        cores = [len(core_in[k]) for k in range(len(pos))] if core_in else [0] * len(pos)
        loop = torch.broadcast_shapes(*[t.shape[:t.ndim - c] for t, c in zip(tensors, cores)])
        flat = [t.expand(*loop, *t.shape[t.ndim - c:]).reshape(-1, *t.shape[t.ndim - c:])
                for t, c in zip(tensors, cores)]

        def one(*vals):
            full = list(args)
            for i, v in zip(pos, vals):
                full[i] = v
            return pyfunc(*full, **kwargs)

        try:
            out = torch.func.vmap(one)(*flat)
        except (RuntimeError, NotImplementedError, TypeError, ValueError):
            outs = [one(*[f[k] for f in flat]) for k in range(flat[0].shape[0] if flat else 1)]
            out = tuple(torch.stack([convert_to_tensor(o[j]) for o in outs]) for j in range(len(outs[0]))) \
                if isinstance(outs[0], tuple) else torch.stack([convert_to_tensor(o) for o in outs])
        if isinstance(out, tuple):
            return tuple(o.reshape(*loop, *o.shape[1:]) for o in out)
        return out.reshape(*loop, *out.shape[1:])

    return wrapped
