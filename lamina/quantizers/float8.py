"""Float8 helpers, as ``keras.quantizers``: delayed scaling with an amax history.

``quantize_and_dequantize`` rounds to a float8 format (``float8_e4m3fn``: 4 exponent bits, 3
mantissa bits, largest value 448; ``float8_e5m2``: 5 and 2, largest 57344) with round-to-nearest-
even, as a cast to that dtype does; the rounding is computed with float ops so it runs on any
engine and device, and gives the same values as ``ml_dtypes``' casts.
"""

import numpy as np

from lamina import backend, ops

# name -> (mantissa bits, smallest normal exponent, largest finite value)
FLOAT8_FORMATS = {
    "float8_e4m3fn": (3, -6, 448.0),
    "float8_e5m2": (2, -14, 57344.0),
}


def float8_max(dtype):
    """The largest finite value of the float8 ``dtype`` (448.0 for ``"float8_e4m3fn"``)."""
    if dtype not in FLOAT8_FORMATS:
        raise ValueError(f"Expected a float8 dtype, one of {sorted(FLOAT8_FORMATS)}, but received {dtype!r}.")
    return FLOAT8_FORMATS[dtype][2]


def round_to_float8(x, dtype):
    """Round the float tensor ``x`` to the nearest value of the float8 ``dtype`` (ties to even).

    Values beyond the format's largest finite value are not clipped here (callers clip first).
    """
    mantissa_bits, min_exp, _ = FLOAT8_FORMATS[dtype]
    x = ops.convert_to_tensor(x)
    work = "float64" if ops.dtype(x) == "float64" else "float32"
    xf = ops.cast(x, work)
    ax = ops.abs(xf)
    safe = ops.where(ops.greater(ax, 0.0), ax, 1.0)
    exp = ops.floor(ops.log2(safe))
    # log2 may be off by one next to a power of two: correct it exactly.
    exp = ops.where(ops.greater(ops.power(2.0, exp), safe), exp - 1.0, exp)
    exp = ops.where(ops.less_equal(ops.power(2.0, exp + 1.0), safe), exp + 1.0, exp)
    exp = ops.maximum(exp, float(min_exp))  # subnormals share the smallest normal exponent's spacing
    step = ops.power(2.0, exp - float(mantissa_bits))
    out = ops.multiply(ops.round(ops.divide(xf, step)), step)
    out = ops.where(ops.isfinite(xf), out, xf)
    return ops.cast(out, ops.dtype(x))


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """Quantize ``inputs / scale`` to ``quantized_dtype`` (clipped to its range) and scale it back.

    Args:
        inputs: a float tensor.
        scale: the scale (a scalar or a tensor broadcasting against ``inputs``).
        quantized_dtype: ``"float8_e4m3fn"`` or ``"float8_e5m2"`` (or ``"float16"``/``"bfloat16"``).
        compute_dtype: the float dtype of the computation and of the result.

    Returns:
        ``round_to(quantized_dtype, clip(inputs / scale)) * scale`` as ``compute_dtype``.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_tensor([0.3, 1000.0, -17.0])
    >>> out = lamina.quantizers.quantize_and_dequantize(x, 1.0, "float8_e4m3fn", "float32")
    >>> lamina.ops.convert_to_numpy(out).tolist()
    [0.3125, 448.0, -16.0]
    """
    if quantized_dtype in FLOAT8_FORMATS:
        top = FLOAT8_FORMATS[quantized_dtype][2]
    elif quantized_dtype in ("float16", "bfloat16"):
        top = {"float16": 65504.0, "bfloat16": float(np.finfo(np.float32).max)}[quantized_dtype]
    else:
        raise ValueError(f"quantize_and_dequantize expected quantized_dtype to be one of "
                         f"{sorted(FLOAT8_FORMATS) + ['bfloat16', 'float16']}, but received {quantized_dtype!r}.")
    compute_dtype = backend.standardize_dtype(compute_dtype)
    scale = ops.cast(scale, compute_dtype)
    x = ops.clip(ops.divide(ops.cast(inputs, compute_dtype), scale), -top, top)
    if quantized_dtype in FLOAT8_FORMATS:
        x = round_to_float8(x, quantized_dtype)
    else:
        x = ops.cast(ops.cast(x, quantized_dtype), compute_dtype)
    return ops.multiply(x, scale)


def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next float8 scale from the largest recent magnitude ``amax`` (delayed scaling).

    ``new = amax * 2**margin / dtype_max`` when ``amax`` is positive and finite; otherwise the
    current ``scale`` is kept.

    Example:
    >>> import lamina
    >>> s = lamina.quantizers.compute_float8_scale(lamina.ops.convert_to_tensor(896.0), 1.0, 448.0)
    >>> float(lamina.ops.convert_to_numpy(s))
    2.0
    """
    amax = ops.convert_to_tensor(amax)
    dtype = ops.dtype(amax) if backend.is_float_dtype(ops.dtype(amax)) else "float32"
    amax = ops.cast(amax, dtype)
    inverse = ops.reciprocal(ops.cast(scale, dtype))
    factor = ops.divide(ops.divide(ops.cast(dtype_max, dtype), amax), float(2 ** margin))
    factor = ops.where(ops.greater(amax, 0.0), factor, inverse)
    factor = ops.where(ops.isfinite(amax), factor, inverse)
    return ops.reciprocal(factor)


def compute_float8_amax_history(x, amax_history):
    """Roll ``amax_history`` by one (``roll(shift=-1)``) and put ``max(|x|)`` at index 0.

    Example:
    >>> import lamina
    >>> h = lamina.quantizers.compute_float8_amax_history(lamina.ops.convert_to_tensor([-3.0, 2.0]),
    ...                                                  lamina.ops.convert_to_tensor([1.0, 5.0, 7.0]))
    >>> lamina.ops.convert_to_numpy(h).tolist()
    [3.0, 7.0, 1.0]
    """
    amax_history = ops.convert_to_tensor(amax_history)
    amax = ops.reshape(ops.cast(ops.max(ops.abs(x)), ops.dtype(amax_history)), (1,))
    rolled = ops.roll(amax_history, shift=-1)
    return ops.concatenate([amax, rolled[1:]], axis=0)
