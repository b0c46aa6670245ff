"""More NumPy-like ops (as ``keras.ops`` / ``keras.ops.numpy``): NaN-aware statistics (in
lamina/ops/numpy_nan.py), window functions, partitions, histograms, correlation, ``i0``, ``ldexp``, ``nextafter``, ``unravel_index``, ``vander``,
``vectorize``, ``view``, ``erfc`` and ``saturate_cast``.

Each checks its arguments (errors name the op), picks the result dtype as Keras does, and works eagerly and
on symbolic ``KerasTensor``s.
"""

import numbers

import numpy as np

from lamina import backend, config
from lamina.backend.common.dtypes import result_type, standardize_dtype
from lamina.ops.operation import op

__all__ = [
    "argpartition", "bartlett", "blackman", "hamming", "hanning", "kaiser", "correlate", "dsplit", "histogram",
    "i0", "isreal", "ldexp", "nextafter", "unravel_index", "vander", "vectorize", "view", "erfc",
]

_np_backend = backend.numpy

from lamina.ops.numpy_nan import *  # noqa: F401,F403,E402  (the NaN-aware ops)
from lamina.ops.numpy_nan import __all__ as _nan_all  # noqa: E402

__all__ += _nan_all


def _tensor(x):
    return backend.convert_to_tensor(x)


def _dtype(x):
    if isinstance(x, (bool, int, float)):
        return type(x)
    return backend.dtype_name(x)


def _float_result(*xs):
    return result_type(*[_dtype(x) for x in xs], float)


# ---- window functions --------------------------------------------------------

def _window(name, fn, x, *extra):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        if not (hasattr(x, "shape") and len(x.shape) == 0):
            raise TypeError(f"{name}: expected `x` (the number of points) to be an integer, but received {x!r}.")
        x = int(backend.convert_to_numpy(x))
    return backend.convert_to_tensor(fn(int(x), *extra), config.floatx())


def bartlett(x):
    """The Bartlett (triangular) window of ``x`` points, in floatx.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.bartlett(5)).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return _window("bartlett", np.bartlett, x)


def blackman(x):
    """The Blackman window of ``x`` points, in floatx.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.blackman(3)).astype("float64").round(4).tolist()
    [-0.0, 1.0, -0.0]
    """
    return _window("blackman", np.blackman, x)


def hamming(x):
    """The Hamming window of ``x`` points, in floatx.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.hamming(3)).astype("float64").round(4).tolist()
    [0.08, 1.0, 0.08]
    """
    return _window("hamming", np.hamming, x)


def hanning(x):
    """The Hann window of ``x`` points, in floatx.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.hanning(3)).tolist()
    [0.0, 1.0, 0.0]
    """
    return _window("hanning", np.hanning, x)


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta``, in floatx.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.kaiser(3, 0.0)).tolist()
    [1.0, 1.0, 1.0]
    """
    return _window("kaiser", np.kaiser, x, float(beta))


# ---- partitions, splits, histograms -------------------------------------------

@op
def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` along ``axis`` around its ``kth`` smallest element: that element lands at
    position ``kth``, smaller ones before it, larger ones after (in no promised order). int32.

    Example:
    >>> from lamina import ops
    >>> idx = ops.convert_to_numpy(ops.argpartition([3, 4, 2, 1], 2))
    >>> [3, 4, 2, 1][idx[2]]
    3
    """
    x = _tensor(x)
    size = int(np.prod(x.shape)) if axis is None else (x.shape[axis] if x.ndim else 1)
    if isinstance(kth, bool) or not isinstance(kth, numbers.Integral) or not -size <= kth < size:
        raise ValueError(f"argpartition: expected `kth` to be an integer in [{-size}, {size}) for an axis of size "
                         f"{size}, but received {kth!r}.")
    return _np_backend.argpartition(x, int(kth) % size, axis=axis)


@op
def dsplit(x, indices_or_sections):
    """Split ``x`` along its third axis (depth) into a list of tensors, as ``numpy.dsplit``.

    Example:
    >>> from lamina import ops
    >>> [ops.shape(p) for p in ops.dsplit(ops.zeros((2, 2, 4)), 2)]
    [(2, 2, 2), (2, 2, 2)]
    """
    x = _tensor(x)
    if x.ndim < 3:
        raise ValueError(f"dsplit: expected `x` with at least 3 dimensions, but received shape {tuple(x.shape)}.")
    return _np_backend.split(x, indices_or_sections, axis=2)


@op
def histogram(x, bins=10, range=None):  # noqa: A002  (the NumPy name)
    """Counts of the values of ``x`` in ``bins`` equal bins over ``range`` (default: ``(min(x), max(x))``):
    ``(counts, bin_edges)``, both in ``x``'s dtype, as ``numpy.histogram``.

    Example:
    >>> from lamina import ops
    >>> counts, edges = ops.histogram(ops.convert_to_tensor([1.0, 2.0, 2.0, 4.0]), bins=3)
    >>> ops.convert_to_numpy(counts).tolist(), ops.convert_to_numpy(edges).tolist()
    ([1.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0])
    """
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise ValueError(f"histogram: expected `bins` to be a positive integer, but received {bins!r}.")
    if range is not None:
        if not isinstance(range, (tuple, list)) or len(range) != 2 or float(range[0]) > float(range[1]):
            raise ValueError(f"histogram: expected `range` to be a pair (min, max) with min <= max, but received "
                             f"{range!r}.")
    return _np_backend.histogram(_tensor(x), bins=int(bins), range=range)


@op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, as ``numpy.correlate`` (``mode``: "valid", "same" or "full").
    The result is float (float32 unless an input is float64, float16 or bfloat16).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="full")).tolist()
    [0.5, 2.0, 3.5, 3.0, 0.0]
    """
    x1, x2 = _tensor(x1), _tensor(x2)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: expected `mode` to be 'valid', 'same' or 'full', but received {mode!r}.")
    for name, t in (("x1", x1), ("x2", x2)):
        if t.ndim != 1 or t.shape[0] == 0:
            raise ValueError(f"correlate: expected `{name}` to be a non-empty 1-D tensor, but received shape "
                             f"{tuple(t.shape)}.")
    dtype = result_type(_dtype(x1), _dtype(x2))
    if dtype == "int64":
        dtype = "float64"
    elif dtype not in ("bfloat16", "float16", "float64", "complex64", "complex128"):
        dtype = "float32"
    return _np_backend.correlate(x1, x2, mode=mode, dtype=dtype)


# ---- element-wise ----------------------------------------------------------------

@op
def i0(x):
    """The modified Bessel function of the first kind, order 0, element-wise (float result).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.i0([0.0, 1.0])).astype("float64").round(4).tolist()
    [1.0, 1.2661]
    """
    x = _tensor(x)
    dtype = _dtype(x)
    if dtype in ("int64", "float64"):
        dtype = "float64"
    elif dtype not in ("bfloat16", "float16"):
        dtype = config.floatx()
    return _np_backend.i0(x, dtype=dtype)


@op
def isreal(x):
    """True where ``x`` has no imaginary part (always True for real dtypes).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.isreal([1.0, 2.0])).tolist()
    [True, True]
    """
    return _np_backend.isreal(_tensor(x))


@op
def ldexp(x1, x2):
    """``x1 * 2 ** x2`` element-wise; ``x2`` must be an integer tensor. Float result.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.ldexp([1.0, 3.0], [2, 1])).tolist()
    [4.0, 6.0]
    """
    x1, x2 = _tensor(x1), _tensor(x2)
    if "int" not in _dtype(x2):
        raise TypeError(f"ldexp: expected the exponent `x2` to have an integer dtype, but received {_dtype(x2)}.")
    return _np_backend.ldexp(x1, x2, dtype=_float_result(x1, x2))


@op
def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2``, element-wise (float result).

    Example:
    >>> from lamina import ops
    >>> float(ops.nextafter(1.0, 2.0)) > 1.0
    True
    """
    x1, x2 = _tensor(x1), _tensor(x2)
    return _np_backend.nextafter(x1, x2, dtype=_float_result(x1, x2))


@op
def erfc(x):
    """The complementary error function ``1 - erf(x)``, element-wise (accurate for large ``x``).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.erfc([0.0])).tolist()
    [1.0]
    """
    return _np_backend.erfc(x)


# ---- indices, matrices, views, function transforms ----------------------------------

@op
def unravel_index(indices, shape):
    """Flat indices into a tensor of ``shape`` as a tuple of coordinate tensors (one per axis), in the
    indices' dtype.

    Example:
    >>> from lamina import ops
    >>> [ops.convert_to_numpy(c).tolist() for c in ops.unravel_index([5, 7], (2, 4))]
    [[1, 1], [1, 3]]
    """
    indices = _tensor(indices)
    if "int" not in _dtype(indices):
        raise TypeError(f"unravel_index: expected integer `indices`, but received dtype {_dtype(indices)}.")
    if not isinstance(shape, (tuple, list)) or not shape or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in shape):
        raise ValueError(f"unravel_index: expected `shape` to be a non-empty tuple of positive integers, but "
                         f"received {shape!r}.")
    return _np_backend.unravel_index(indices, tuple(int(s) for s in shape))


@op
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns are powers of ``x`` (decreasing unless
    ``increasing=True``), ``N`` columns (default ``len(x)``).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.vander([1, 2, 3], 2, increasing=True)).tolist()
    [[1, 1], [1, 2], [1, 3]]
    """
    x = _tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: expected `x` to be 1-D, but received shape {tuple(x.shape)}.")
    if N is not None and (isinstance(N, bool) or not isinstance(N, numbers.Integral) or N < 0):
        raise ValueError(f"vander: expected `N` to be None or a non-negative integer, but received {N!r}.")
    return _np_backend.vander(x, N=N, increasing=increasing)


@op
def view(x, dtype=None):
    """The same bytes as ``x`` seen as ``dtype``; with a different item size the last axis is resized.

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.view(ops.convert_to_tensor([1.0]), "int32")).tolist()
    [1065353216]
    """
    x = _tensor(x)
    old = _dtype(x)
    new = old if dtype is None else standardize_dtype(dtype)
    old_size, new_size = _itemsize(old), _itemsize(new)
    if old_size != new_size:
        if x.ndim == 0:
            raise ValueError(f"view: cannot view a scalar of dtype {old} as {new}: their item sizes differ.")
        if (x.shape[-1] * old_size) % new_size:
            raise ValueError(f"view: cannot view shape {tuple(x.shape)} of dtype {old} as {new}: the last axis holds "
                             f"{x.shape[-1] * old_size} bytes, not a multiple of {new_size}.")
    return _np_backend.view(x, new)


def _itemsize(dtype):
    if dtype == "bfloat16":
        return 2
    return np.dtype(dtype).itemsize


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Turn ``pyfunc`` (written for single elements, or for core dimensions given by a NumPy-style
    ``signature`` such as ``"(n),(n)->()"``) into a function that broadcasts over leading dimensions, as
    ``numpy.vectorize``. Positional arguments whose index is in ``excluded`` are passed through unchanged.

    Example:
    >>> from lamina import ops
    >>> add = ops.vectorize(lambda a, b: a + b)
    >>> ops.convert_to_numpy(add(ops.convert_to_tensor([[1.0], [2.0]]), ops.convert_to_tensor([10.0, 20.0]))).tolist()
    [[11.0, 21.0], [12.0, 22.0]]
    """
    if not callable(pyfunc):
        raise TypeError(f"vectorize: expected `pyfunc` to be a callable, but received {type(pyfunc).__name__}.")
    core_dims = None if signature is None else _parse_signature(signature)
    excluded = frozenset(excluded or ())
    return _np_backend.vectorize(pyfunc, excluded=excluded, signature=signature, core_dims=core_dims)


def _parse_signature(signature):
    """``"(m,n),(n)->(m)"`` -> ([("m", "n"), ("n",)], [("m",)]); raises on a malformed signature."""
    import re

    text = signature.replace(" ", "") if isinstance(signature, str) else None
    arg = r"\((?:\w+(?:,\w+)*)?\)"
    if text is None or not re.fullmatch(rf"{arg}(?:,{arg})*->{arg}(?:,{arg})*", text):
        raise ValueError(f"vectorize: expected a signature like '(n),(n)->()', but received {signature!r}.")
    ins, outs = text.split("->")
    parse = lambda part: [tuple(d for d in g.split(",") if d) for g in re.findall(r"\(([^)]*)\)", part)]  # noqa
    return parse(ins), parse(outs)


# ---- casts (keras.ops, not keras.ops.numpy) ---------------------------------------------

def _limits(dtype):
    if dtype == "bool":
        return 0, 1
    if "int" in dtype:
        info = np.iinfo(dtype)
    else:
        import ml_dtypes

        info = ml_dtypes.finfo(dtype) if dtype == "bfloat16" else np.finfo(dtype)
    return info.min, info.max


def saturate_cast(x, dtype):
    """Cast ``x`` to ``dtype`` after clipping it to the range ``dtype`` can hold (so 300.0 -> uint8 is 255, not
    the wrapped-around 44).

    Example:
    >>> from lamina import ops
    >>> ops.convert_to_numpy(ops.saturate_cast(ops.convert_to_tensor([-1.0, 256.0, 3.7]), "uint8")).tolist()
    [0, 255, 3]
    """
    return _saturate_cast(x, standardize_dtype(dtype))


def _saturate_cast_impl(x, dtype):
    x = _tensor(x)
    in_dtype = _dtype(x)
    in_min, in_max = _limits(in_dtype)
    out_min, out_max = _limits(dtype)
    np_in = np.float32 if in_dtype == "bfloat16" else np.dtype(in_dtype).type
    lo = np_in(max(in_min, out_min)) if in_dtype != "bool" else False
    hi = np_in(min(in_max, out_max)) if in_dtype != "bool" else True
    if in_dtype != "bool":
        # The limit may round past the target's range in the input dtype: step back towards 0.
        if float(lo) < float(out_min):
            lo = np.nextafter(lo, np_in(0))
        if float(hi) > float(out_max):
            hi = np.nextafter(hi, np_in(0))
        x = _np_backend.clip(x, backend.convert_to_tensor(lo, in_dtype), backend.convert_to_tensor(hi, in_dtype))
    return backend.core.cast(x, dtype)



_saturate_cast_impl.__name__ = "saturate_cast"
_saturate_cast = op(_saturate_cast_impl)
