"""The int8 math shared by the quantized layers: abs-max quantization and int8 products.

Conventions follow Keras 3 (``keras.quantizers``): ``scale = 127 / max(|x|)`` along the
reduced axes, ``q = round(x * scale)`` clipped to ``[-127, 127]``, and ``x ~= q / scale``.
"""

import importlib

from lamina import backend, ops

QUANTIZATION_MODES = ("int8",)


def _int_kernels():
    """The engine's integer kernels (``lamina/backend/<engine>/quantize.py``)."""
    return importlib.import_module(backend.engine.__name__ + ".quantize")


def _normalize_axes(who, axis, ndim):
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if not isinstance(axes, (tuple, list)) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{who} expected `axis` to be an int or a tuple of ints, but received axis={axis!r}.")
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of range for an input of rank {ndim}.")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=None, to_numpy=False):
    """Quantize ``inputs`` with one abs-max scale per slice along ``axis`` (as ``keras.quantizers``).

    Args:
        inputs: a float tensor (or array).
        axis: int or tuple of ints, the axes reduced to compute each scale (kept with size 1).
        value_range: ``(low, high)`` of the quantized values (default ``(-127, 127)``).
        dtype: the dtype of the quantized values (default ``"int8"``).
        epsilon: added to the abs-max so an all-zero slice gets a finite scale
            (default ``lamina.config.epsilon()``).
        to_numpy: return NumPy arrays instead of tensors.

    Returns:
        ``(quantized, scale)``: ``quantized`` of ``dtype``, and the float ``scale`` with
        ``inputs ~= quantized / scale``; ``scale`` has the shape of ``inputs`` with the ``axis``
        dimensions set to 1.

    Example:
    >>> import lamina
    >>> q, scale = lamina.quantizers.abs_max_quantize(lamina.ops.convert_to_tensor([[1.0, -2.0, 0.5]]), axis=-1)
    >>> lamina.ops.convert_to_numpy(q).tolist(), lamina.ops.dtype(q)
    ([[64, -127, 32]], 'int8')
    >>> round(float(lamina.ops.convert_to_numpy(scale)[0, 0]), 3)
    63.5
    """
    from lamina import config

    inputs = ops.convert_to_tensor(inputs)
    if not backend.is_float_dtype(ops.dtype(inputs)):
        inputs = ops.cast(inputs, "float32")
    axes = _normalize_axes("abs_max_quantize", axis, len(ops.shape(inputs)))
    low, high = value_range
    eps = config.epsilon() if epsilon is None else epsilon
    scale = ops.divide(float(high), ops.add(ops.max(ops.abs(inputs), axis=axes, keepdims=True), eps))
    quantized = ops.round(ops.multiply(inputs, scale))
    if low != -high:  # symmetric ranges need no clip: |x| * high / (max|x| + eps) < high
        quantized = ops.clip(quantized, low, high)
    quantized = ops.cast(quantized, dtype)
    if to_numpy:
        return ops.convert_to_numpy(quantized), ops.convert_to_numpy(scale)
    return quantized, scale


def int8_dense(inputs, kernel, kernel_scale):
    """``inputs @ dequantize(kernel)`` with inputs quantized per row at call time.

    ``kernel`` is int8 ``(in, units)``, ``kernel_scale`` float ``(units,)``. The product runs as
    int8 x int8 -> int32 (``lamina/backend/<engine>/quantize.py``), then is rescaled by
    ``1 / (input_scale * kernel_scale)``.
    """
    shape = ops.shape(inputs)
    x_q, x_scale = abs_max_quantize(inputs, axis=-1)
    in_dim = shape[-1]
    flat = ops.reshape(x_q, (-1, in_dim))
    acc = _int_kernels().int8_matmul(flat, kernel)
    out = ops.divide(ops.cast(acc, ops.dtype(x_scale)),
                     ops.multiply(ops.reshape(x_scale, (-1, 1)), kernel_scale))
    return ops.reshape(out, tuple(shape[:-1]) + (ops.shape(kernel)[-1],))


def int8_einsum(equation, inputs, kernel, kernel_scale, input_axes):
    """``einsum(equation, inputs, dequantize(kernel))`` with inputs quantized at call time.

    ``input_axes`` are the input axes that do not reach the output (each input slice gets its own
    scale); ``kernel_scale`` has the kernel's shape with its contracted axes set to 1. The einsum
    itself runs on the int8 values held in float32, which is exact while the contraction size is
    below 1040 (``size * 127 * 127 < 2**24``) and otherwise rounds like any float32 sum. The
    combined scale is ``einsum(equation, input_scale, kernel_scale)``: the contracted axes have
    size 1 there, so the einsum is an outer product laid out like the output.
    """
    x_q, x_scale = abs_max_quantize(inputs, axis=input_axes) if input_axes else \
        (ops.cast(inputs, "float32"), ops.ones_like(inputs))
    dtype = ops.dtype(x_scale)
    acc = ops.einsum(equation, ops.cast(x_q, dtype), ops.cast(kernel, dtype))
    return ops.divide(acc, ops.einsum(equation, x_scale, kernel_scale))


def dequantize(quantized, scale, dtype="float32"):
    """Return ``quantized / scale`` as ``dtype`` (``scale`` broadcasts against ``quantized``)."""
    return ops.divide(ops.cast(quantized, dtype), ops.cast(scale, dtype))
