"""Keras 2's ``K.*`` tensor math and shape functions, with Keras 2's defaults and semantics.

Removed in Keras 3; lamina keeps them so tf.keras 2 tutorials run unchanged. Each warns once
(``DeprecationWarning``) naming the ``lamina.ops`` function to use instead. Where Keras 2 and
``lamina.ops`` differ, these follow Keras 2: ``K.concatenate`` and ``K.expand_dims`` default to
``axis=-1``, ``K.argmax`` to ``axis=-1``, ``K.cumsum`` to ``axis=0``, ``K.sqrt`` clips negative
values to 0, ``K.dot`` is NumPy's ``dot`` for n-D operands, ``K.batch_dot`` contracts the given
axes per sample, and ``K.mean``/``K.std``/``K.var`` cast booleans to ``floatx()``.

Example:
>>> import warnings
>>> from lamina import backend as K
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     K.int_shape(K.batch_dot(K.ones((4, 3)), K.ones((4, 3)), axes=1))
(4, 1)
"""

import builtins as _builtins

import numpy as _np

from lamina import config as _config
from lamina.backend._legacy_util import as_tensor as _t
from lamina.backend._legacy_util import deprecated as _deprecated
from lamina.backend._legacy_util import ops as _ops
from lamina.backend._legacy_util import rank as _rank


def _alias(name, modern=None):
    """A Keras 2 ``K.<name>`` that calls ``lamina.ops.<modern>`` (same arguments and defaults)."""

    def fn(*args, **kwargs):
        _deprecated(name, f"lamina.ops.{modern or name}")
        return getattr(_ops(), modern or name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Keras 2 ``K.{name}``: ``lamina.ops.{modern or name}`` (warns once)."
    return fn


def _floatx_if_bool(x):
    x = _t(x)
    return _ops().cast(x, _config.floatx()) if str(x.dtype).endswith("bool") else x


# -- element-wise ------------------------------------------------------------------------------------------------
square = _alias("square")
abs = _alias("abs")  # noqa: A001
exp = _alias("exp")
log = _alias("log")
round = _alias("round")  # noqa: A001  (half to even, as Keras 2)
sign = _alias("sign")
sin = _alias("sin")
cos = _alias("cos")
pow = _alias("pow", "power")  # noqa: A001
equal = _alias("equal")
not_equal = _alias("not_equal")
greater = _alias("greater")
greater_equal = _alias("greater_equal")
less = _alias("less")
less_equal = _alias("less_equal")
maximum = _alias("maximum")
minimum = _alias("minimum")
cast = _alias("cast")


def sqrt(x):
    """Element-wise square root; negative values are clipped to 0 first (Keras 2's ``K.sqrt``)."""
    _deprecated("sqrt", "lamina.ops.sqrt")
    return _ops().sqrt(_ops().maximum(_t(x), 0.0))


def clip(x, min_value, max_value):
    """Clip ``x`` to ``[min_value, max_value]``; None means unbounded and ``max < min`` clips to ``min``."""
    _deprecated("clip", "lamina.ops.clip")
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    min_value = -_np.inf if min_value is None else min_value
    max_value = _np.inf if max_value is None else max_value
    return _ops().clip(_t(x), min_value, max_value)


# -- reductions --------------------------------------------------------------------------------------------------
max = _alias("max")  # noqa: A001
min = _alias("min")  # noqa: A001
sum = _alias("sum")  # noqa: A001
prod = _alias("prod")
logsumexp = _alias("logsumexp")


def mean(x, axis=None, keepdims=False):
    """Mean of ``x`` over ``axis`` (booleans count as ``floatx()``)."""
    _deprecated("mean", "lamina.ops.mean")
    return _ops().mean(_floatx_if_bool(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Variance of ``x`` over ``axis`` (booleans count as ``floatx()``)."""
    _deprecated("var", "lamina.ops.var")
    return _ops().var(_floatx_if_bool(x), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation of ``x`` over ``axis`` (booleans count as ``floatx()``)."""
    _deprecated("std", "lamina.ops.std")
    return _ops().std(_floatx_if_bool(x), axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    """Logical OR over ``axis`` of ``x`` cast to bool."""
    _deprecated("any", "lamina.ops.any")
    return _ops().any(_ops().cast(_t(x), "bool"), axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    """Logical AND over ``axis`` of ``x`` cast to bool."""
    _deprecated("all", "lamina.ops.all")
    return _ops().all(_ops().cast(_t(x), "bool"), axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    """Index of the largest value along ``axis`` (default -1, as Keras 2; ``lamina.ops.argmax``'s is None)."""
    _deprecated("argmax", "lamina.ops.argmax")
    return _ops().argmax(_t(x), axis=axis)


def argmin(x, axis=-1):
    """Index of the smallest value along ``axis`` (default -1, as Keras 2)."""
    _deprecated("argmin", "lamina.ops.argmin")
    return _ops().argmin(_t(x), axis=axis)


def cumsum(x, axis=0):
    """Cumulative sum along ``axis`` (default 0, as Keras 2)."""
    _deprecated("cumsum", "lamina.ops.cumsum")
    return _ops().cumsum(_t(x), axis=axis)


def cumprod(x, axis=0):
    """Cumulative product along ``axis`` (default 0, as Keras 2)."""
    _deprecated("cumprod", "lamina.ops.cumprod")
    return _ops().cumprod(_t(x), axis=axis)


# -- linear algebra ----------------------------------------------------------------------------------------------
def dot(x, y):
    """NumPy's ``dot``: for n-D operands, a sum product over ``x``'s last axis and ``y``'s second-to-last.

    ``(2, 3) . (4, 3, 5) -> (2, 4, 5)``; for 2-D operands a matrix product.
    """
    _deprecated("dot", "lamina.ops.matmul (or lamina.ops.tensordot)")
    x, y = _t(x), _t(y)
    if _rank(y) < 2 or (_rank(x) <= 2 and _rank(y) <= 2):
        return _ops().matmul(x, y)
    return _ops().tensordot(x, y, axes=[[_rank(x) - 1], [_rank(y) - 2]])


def batch_dot(x, y, axes=None):
    """Per-sample dot product of ``x`` and ``y`` (both ``(batch, ...)``) over ``axes`` (Keras 2's ``K.batch_dot``).

    ``axes`` is an int (the same axis of both) or a pair; by default ``x``'s last axis and ``y``'s last (2-D ``y``)
    or second-to-last axis. The result has ``x``'s shape less the summed axis followed by ``y``'s shape less the
    batch and summed axes; a rank-1 result becomes ``(batch, 1)``.

    Raises:
        ValueError: for operands of rank < 2, different batch sizes, axis 0, or summed axes of different sizes.
    """
    _deprecated("batch_dot", "lamina.ops.einsum (or lamina.layers.Dot)")
    o = _ops()
    x, y = _t(x), _t(y)
    xs, ys = tuple(x.shape), tuple(y.shape)
    if len(xs) < 2 or len(ys) < 2:
        raise ValueError(f"K.batch_dot expects inputs of rank >= 2, but received shapes {xs} and {ys}.")
    if xs[0] is not None and ys[0] is not None and xs[0] != ys[0]:
        raise ValueError(f"K.batch_dot expects inputs with the same batch size, but received shapes {xs} and {ys}.")
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (len(xs) - 1, len(ys) - 1 if len(ys) == 2 else len(ys) - 2)
    if len(axes) != 2 or not _builtins.all(isinstance(a, int) for a in axes):
        raise ValueError(f"K.batch_dot: axes must be None, an int or a pair of ints, but received axes={axes!r}.")
    a0, a1 = axes[0] % len(xs), axes[1] % len(ys)
    if 0 in (a0, a1):
        raise ValueError("K.batch_dot cannot sum over axis 0 (the batch axis). Hint: add a batch axis with "
                         "K.expand_dims(x, 0) if your inputs are not batched.")
    if xs[a0] is not None and ys[a1] is not None and xs[a0] != ys[a1]:
        raise ValueError(f"K.batch_dot: x.shape[{a0}] != y.shape[{a1}] ({xs[a0]} != {ys[a1]}) for shapes {xs} "
                         f"and {ys} with axes={list(axes)}.")
    letters = "bcdefghijklmnopqrstuvwxyz"
    x_sub = "a" + letters[1:len(xs)]
    x_sub = x_sub[:a0] + "z" + x_sub[a0 + 1:]
    y_rest = letters[len(xs):len(xs) + len(ys)]
    y_sub = "a" + y_rest[1:len(ys)]
    y_sub = y_sub[:a1] + "z" + y_sub[a1 + 1:]
    out = x_sub.replace("z", "") + y_sub[1:].replace("z", "")
    result = o.einsum(f"{x_sub},{y_sub}->{out}", x, y)
    return o.expand_dims(result, 1) if len(out) == 1 else result


transpose = _alias("transpose")


def gather(reference, indices):
    """The rows ``indices`` of ``reference`` (``lamina.ops.take(reference, indices, axis=0)``)."""
    _deprecated("gather", "lamina.ops.take(x, indices, axis=0)")
    return _ops().take(_t(reference), _t(indices), axis=0)


# -- shapes ------------------------------------------------------------------------------------------------------
def concatenate(tensors, axis=-1):
    """Concatenate ``tensors`` along ``axis`` (default -1, as Keras 2; ``lamina.ops.concatenate``'s is 0)."""
    _deprecated("concatenate", "lamina.ops.concatenate")
    return _ops().concatenate([_t(t) for t in tensors], axis=axis)


def expand_dims(x, axis=-1):
    """Insert a length-1 axis at ``axis`` (default -1, as Keras 2)."""
    _deprecated("expand_dims", "lamina.ops.expand_dims")
    return _ops().expand_dims(_t(x), axis)


reshape = _alias("reshape")
squeeze = _alias("squeeze")
stack = _alias("stack")
tile = _alias("tile")


def permute_dimensions(x, pattern):
    """Permute the axes of ``x`` (``lamina.ops.transpose(x, pattern)``)."""
    _deprecated("permute_dimensions", "lamina.ops.transpose(x, axes)")
    return _ops().transpose(_t(x), tuple(pattern))


def repeat_elements(x, rep, axis):
    """Repeat each element of ``x`` ``rep`` times along ``axis``, as ``np.repeat``."""
    _deprecated("repeat_elements", "lamina.ops.repeat")
    return _ops().repeat(_t(x), rep, axis=axis)


def repeat(x, n):
    """``(samples, dim) -> (samples, n, dim)`` (Keras 2's ``K.repeat``; the layer is ``RepeatVector``)."""
    _deprecated("repeat", "lamina.layers.RepeatVector (or lamina.ops.repeat)")
    x = _t(x)
    if _rank(x) != 2:
        raise ValueError(f"K.repeat expects a 2-D tensor (samples, dim), but received shape {tuple(x.shape)}.")
    return _ops().repeat(_ops().expand_dims(x, 1), n, axis=1)


def arange(start, stop=None, step=1, dtype="int32"):
    """A 1-D range (Theano's convention: one argument is ``stop``); default dtype ``int32``."""
    _deprecated("arange", "lamina.ops.arange")
    if stop is None and start < 0:
        start = 0
    return _ops().arange(start, stop, step, dtype=dtype)


def flatten(x):
    """``x`` as a 1-D tensor."""
    _deprecated("flatten", "lamina.ops.reshape(x, (-1,))")
    return _ops().reshape(_t(x), (-1,))


def batch_flatten(x):
    """``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``."""
    _deprecated("batch_flatten", "lamina.layers.Flatten (or lamina.ops.reshape(x, (batch, -1)))")
    x = _t(x)
    inner = tuple(x.shape)[1:]
    if _builtins.all(d is not None for d in inner):
        return _ops().reshape(x, (-1, int(_np.prod(inner, dtype=_np.int64))))
    return _ops().reshape(x, (tuple(x.shape)[0] if x.shape[0] is not None else -1, -1))


def one_hot(indices, num_classes):
    """One-hot encoding along a new last axis (``lamina.ops.one_hot``)."""
    _deprecated("one_hot", "lamina.ops.one_hot")
    return _ops().one_hot(_t(indices), num_classes)


def reverse(x, axes):
    """Reverse ``x`` along ``axes`` (an int or a list of ints)."""
    _deprecated("reverse", "lamina.ops.flip")
    return _ops().flip(_t(x), axis=tuple(axes) if isinstance(axes, (list, tuple)) else axes)


def temporal_padding(x, padding=(1, 1)):
    """Zero-pad axis 1 of a 3-D tensor by ``padding = (before, after)``."""
    _deprecated("temporal_padding", "lamina.layers.ZeroPadding1D (or lamina.ops.pad)")
    return _ops().pad(_t(x), [[0, 0], list(padding), [0, 0]])


def _spatial_padding(name, x, padding, data_format):
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"K.{name}: data_format must be 'channels_first' or 'channels_last', "
                         f"but received {data_format!r}.")
    pads = [list(p) for p in padding]
    pattern = [[0, 0], [0, 0]] + pads if data_format == "channels_first" else [[0, 0]] + pads + [[0, 0]]
    return _ops().pad(_t(x), pattern)


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero-pad the two spatial axes of a 4-D tensor."""
    _deprecated("spatial_2d_padding", "lamina.layers.ZeroPadding2D (or lamina.ops.pad)")
    return _spatial_padding("spatial_2d_padding", x, padding, data_format)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero-pad the three spatial axes of a 5-D tensor."""
    _deprecated("spatial_3d_padding", "lamina.layers.ZeroPadding3D (or lamina.ops.pad)")
    return _spatial_padding("spatial_3d_padding", x, padding, data_format)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Upsample the images of a 4-D tensor by integer factors (``"nearest"`` repeats pixels)."""
    _deprecated("resize_images", "lamina.layers.UpSampling2D (or lamina.ops.image.resize)")
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"K.resize_images: data_format must be 'channels_first' or 'channels_last', "
                         f"but received {data_format!r}.")
    o, x = _ops(), _t(x)
    rows, cols = (2, 3) if data_format == "channels_first" else (1, 2)
    if interpolation == "nearest":
        return o.repeat(o.repeat(x, height_factor, axis=rows), width_factor, axis=cols)
    size = (x.shape[rows] * height_factor, x.shape[cols] * width_factor)
    return o.image.resize(x, size, interpolation=interpolation, data_format=data_format)


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Upsample the volumes of a 5-D tensor by repeating voxels."""
    _deprecated("resize_volumes", "lamina.layers.UpSampling3D")
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"K.resize_volumes: data_format must be 'channels_first' or 'channels_last', "
                         f"but received {data_format!r}.")
    o, x = _ops(), _t(x)
    first = 2 if data_format == "channels_first" else 1
    for i, f in enumerate((depth_factor, height_factor, width_factor)):
        x = o.repeat(x, f, axis=first + i)
    return x
