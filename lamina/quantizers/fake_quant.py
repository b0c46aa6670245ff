"""``fake_quant_with_min_max_vars``: quantize-dequantize with a trainable range (quantization-aware training)."""

from lamina import backend, ops


def _nudge(min_val, max_val, num_bits, narrow_range):
    """The range ``[min, max]`` moved so that 0.0 is exactly representable, with its step and inverse step."""
    quant_min, quant_max = (1 if narrow_range else 0), (1 << num_bits) - 1
    levels = float(quant_max - quant_min)
    span = ops.subtract(max_val, min_val)
    scale = ops.divide(span, levels)
    inv_scale = ops.divide(levels, span)
    zero = ops.round(ops.clip(ops.subtract(float(quant_min), ops.divide(min_val, scale)), quant_min, quant_max))
    nudged_min = ops.multiply(ops.subtract(float(quant_min), zero), scale)
    nudged_max = ops.multiply(ops.subtract(float(quant_max), zero), scale)
    return nudged_min, nudged_max, scale, inv_scale


def fake_quant_with_min_max_vars(inputs, min_vals, max_vals, num_bits=8, narrow_range=False, axis=None):
    """Fake-quantize ``inputs`` to ``num_bits`` levels in ``[min_vals, max_vals]``, per tensor or per channel.

    The range is first nudged so that 0.0 falls on a level; ``inputs`` are clipped to it, rounded to
    the nearest of the ``2**num_bits`` levels (``2**num_bits - 1`` with ``narrow_range``) and returned
    as floats. Gradients are straight-through: ``inputs`` get the upstream gradient where they lie in
    the nudged range (bounds included) and 0 outside; ``min_vals`` / ``max_vals`` get the sum of the
    upstream gradient where inputs are at or beyond the lower / upper bound (per channel with ``axis``).

    Args:
        inputs: a float tensor.
        min_vals, max_vals: the range, scalars (per tensor) or 1-D tensors of the size of ``axis``.
        num_bits: bits of the quantized values (default 8).
        narrow_range: use levels ``[1, 2**num_bits - 1]`` instead of ``[0, 2**num_bits - 1]``.
        axis: the channel axis for per-channel ranges (default None: per tensor).

    Returns:
        A tensor of ``inputs``' shape and dtype.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_tensor([-0.2, 0.26, 0.51, 2.0])
    >>> out = lamina.quantizers.fake_quant_with_min_max_vars(x, 0.0, 1.0, num_bits=2)
    >>> [round(v, 4) for v in lamina.ops.convert_to_numpy(out).tolist()]
    [0.0, 0.3333, 0.6667, 1.0]
    """
    if isinstance(num_bits, bool) or not isinstance(num_bits, int) or not 2 <= num_bits <= 16:
        raise ValueError(f"fake_quant_with_min_max_vars expected num_bits to be an int in [2, 16], but received "
                         f"num_bits={num_bits!r}.")
    if backend.is_keras_tensor(inputs):
        return backend.KerasTensor(inputs.shape, inputs.dtype)
    inputs = ops.convert_to_tensor(inputs)
    dtype = ops.dtype(inputs)
    work = "float64" if dtype == "float64" else "float32"
    min_vals, max_vals = ops.cast(min_vals, work), ops.cast(max_vals, work)
    rank = len(ops.shape(inputs))
    if axis is not None:
        if not -rank <= axis < rank:
            raise ValueError(f"fake_quant_with_min_max_vars: axis={axis} is out of range for inputs of rank {rank}.")
        axis %= rank
    bshape = None if axis is None else tuple(-1 if i == axis else 1 for i in range(rank))
    reduce_axes = None if axis is None else tuple(i for i in range(rank) if i != axis)

    @ops.custom_gradient
    def _fake_quant(x, min_val, max_val):
        lo, hi = (min_val, max_val) if bshape is None else (ops.reshape(min_val, bshape), ops.reshape(max_val, bshape))
        nudged_min, nudged_max, scale, inv_scale = _nudge(lo, hi, num_bits, narrow_range)
        xw = ops.cast(x, work)
        zero_level = ops.floor(ops.add(ops.multiply(ops.negative(nudged_min), inv_scale), 0.5))
        shifted = ops.subtract(ops.clip(xw, nudged_min, nudged_max), nudged_min)
        levels = ops.floor(ops.add(ops.subtract(ops.multiply(shifted, inv_scale), zero_level), 0.5))
        result = ops.cast(ops.multiply(levels, scale), dtype)
        inside = ops.logical_and(ops.greater_equal(xw, nudged_min), ops.less_equal(xw, nudged_max))
        below, above = ops.less_equal(xw, nudged_min), ops.greater_equal(xw, nudged_max)

        def grad(upstream):
            zeros = ops.zeros_like(upstream)
            dx = ops.where(inside, upstream, zeros)
            d_min = ops.sum(ops.where(below, upstream, zeros), axis=reduce_axes)
            d_max = ops.sum(ops.where(above, upstream, zeros), axis=reduce_axes)
            return (dx, ops.cast(ops.reshape(d_min, ops.shape(min_val)), ops.dtype(min_val)),
                    ops.cast(ops.reshape(d_max, ops.shape(max_val)), ops.dtype(max_val)))

        return result, grad

    return _fake_quant(inputs, min_vals, max_vals)
