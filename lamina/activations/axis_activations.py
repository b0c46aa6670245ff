"""Activations that normalize or gate along an axis: softmax, log_softmax, sparsemax, glu."""

import warnings

from lamina import backend, ops
from lamina.activations.activations import _cache_logits, _tensor


def softmax(x, axis=-1):
    """Softmax: ``exp(x) / sum(exp(x))`` over ``axis``.

    The outputs along ``axis`` are in ``(0, 1)`` and sum to 1.

    Args:
        x: input tensor.
        axis: the axis to normalize over (default: the last one).

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.softmax([[0.0, 0.0], [0.0, 0.0]])).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    x = _tensor(x)
    concrete = backend.is_tensor(x)
    shape = tuple(x.shape) if concrete else ops.shape(x)
    if isinstance(axis, int) and shape and -len(shape) <= axis < len(shape) and shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {shape}. This axis has "
            "size 1. The softmax operation will always return the value 1, which is likely not what "
            "you intended. Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    out = backend.nn.softmax(x, axis=axis) if concrete else ops.softmax(x, axis=axis)
    # Losses use the logits of a softmax over the class (last) axis only.
    return _cache_logits(out, x) if axis in (-1, len(shape) - 1) else out


def log_softmax(x, axis=-1):
    """Log of the softmax over ``axis``, computed stably.

    Example:
    >>> from lamina import activations, ops
    >>> [round(v, 4) for v in ops.convert_to_numpy(activations.log_softmax([0.0, 0.0])).tolist()]
    [-0.6931, -0.6931]
    """
    return ops.log_softmax(_tensor(x), axis=axis)


def glu(x, axis=-1):
    """Gated linear unit: splits ``x`` in two halves ``a, b`` along ``axis``; returns ``a * sigmoid(b)``.

    Args:
        x: input tensor; its size along ``axis`` must be even.
        axis: the axis to split.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.glu([[2.0, 4.0, 0.0, 0.0]])).tolist()
    [[1.0, 2.0]]
    """
    x = _tensor(x)
    shape = ops.shape(x)
    size = shape[axis]
    if size is not None and size % 2 != 0:
        raise ValueError(
            f"glu: the size of axis {axis} must be divisible by 2, but received x with shape {shape}."
        )
    a, b = ops.split(x, 2, axis=axis)
    return ops.multiply(a, ops.sigmoid(b))


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex.

    Like softmax, the outputs along ``axis`` sum to 1, but small inputs get
    exactly zero probability.

    Args:
        x: input tensor (floating point).
        axis: the axis to normalize over.

    Example:
    >>> from lamina import activations, ops
    >>> ops.convert_to_numpy(activations.sparsemax([0.0, 1.0, 3.0])).tolist()
    [0.0, 0.0, 1.0]
    >>> ops.convert_to_numpy(activations.sparsemax([1.0, 1.5])).tolist()
    [0.25, 0.75]
    """
    x = _tensor(x)
    shape = ops.shape(x)
    ndim = len(shape)
    axis = axis % ndim if ndim else axis
    if shape[axis] is None:
        raise ValueError(f"sparsemax: the size of axis {axis} must be known, but received shape {shape}.")
    dtype = ops.dtype(x)
    x_sorted = ops.flip(ops.sort(x, axis=axis), axis=axis)
    x_cumsum = ops.cumsum(x_sorted, axis=axis)
    r_shape = [1] * ndim
    r_shape[axis] = shape[axis]
    r = ops.reshape(ops.arange(1, shape[axis] + 1, dtype=dtype), r_shape)
    support = ops.greater(x_sorted, ops.divide(ops.subtract(x_cumsum, 1.0), r))
    k = ops.sum(ops.cast(support, "int32"), axis=axis, keepdims=True)
    cumsum_at_k = ops.take_along_axis(x_cumsum, ops.subtract(k, 1), axis=axis)
    tau = ops.divide(ops.subtract(cumsum_at_k, 1.0), ops.cast(k, dtype))
    return ops.maximum(ops.subtract(x, tau), 0.0)
