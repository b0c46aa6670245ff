"""Int4 helpers, as ``keras.quantizers``: nibble packing and grouped (sub-channel) quantization.

* ``pack_int4`` / ``unpack_int4``: two signed 4-bit values per byte. Along the packed axis, entry
  ``2k`` goes to the low nibble and entry ``2k + 1`` to the high nibble of byte ``k``; an odd
  length is padded with one zero. The bytes are the same as Keras 3 writes.
* ``abs_max_quantize_grouped_with_zero_point``: asymmetric quantization of a 2-D kernel with one
  scale and zero point per group of ``block_size`` rows and per column.
* ``dequantize_grouped``: the inverse, ``(q - zero[g_idx]) * scale[g_idx]``.
"""

import math

import numpy as np

from lamina import backend, ops


def _check_pack_dtype(who, dtype):
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"{who} expected dtype to be 'int8' or 'uint8', but received dtype={dtype!r}.")


def _axis(who, axis, rank):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -rank <= axis < rank:
        raise ValueError(f"{who}: axis={axis!r} is out of range for a tensor of rank {rank}.")
    return int(axis) % rank


def pack_int4(arr, axis=0, dtype="int8"):
    """Pack int4 values (held in int8, range ``[-8, 7]``) two per byte along ``axis``.

    Args:
        arr: an ``int8`` (or ``uint8``) tensor or array of int4 values.
        axis: the axis to pack (default 0); its length halves, rounded up.
        dtype: ``"int8"`` (default) or ``"uint8"``, the dtype of ``arr`` and of the result.

    Returns:
        ``(packed, packed_shape, orig_len)``: the packed tensor, its shape, and the length of
        ``axis`` before packing (pass it to ``unpack_int4``).

    Raises:
        ValueError: for a ``dtype`` other than int8/uint8 or an axis out of range.
        TypeError: when ``arr`` is not of ``dtype``.

    Example:
    >>> import numpy as np, lamina
    >>> x = np.array([[-3, 7], [2, -8], [1, 0]], dtype="int8")
    >>> packed, shape, n = lamina.quantizers.pack_int4(x, axis=0)
    >>> lamina.ops.convert_to_numpy(packed).tolist(), shape, n
    ([[45, -121], [1, 0]], (2, 2), 3)
    >>> lamina.ops.convert_to_numpy(lamina.quantizers.unpack_int4(packed, n, axis=0)).tolist()
    [[-3, 7], [2, -8], [1, 0]]
    """
    _check_pack_dtype("pack_int4", dtype)
    have = backend.standardize_dtype(arr.dtype) if hasattr(arr, "dtype") else None
    if have != dtype:
        raise TypeError(f"pack_int4 expected a {dtype} tensor of int4 values, but received dtype {have}. "
                        f"Hint: cast the values (in [-8, 7]) to {dtype} first.")
    values = np.asarray(ops.convert_to_numpy(arr))
    axis = _axis("pack_int4", axis, values.ndim)
    front = np.moveaxis(values, axis, 0)
    n = front.shape[0]
    if n % 2:
        front = np.concatenate([front, np.zeros((1,) + front.shape[1:], front.dtype)], axis=0)
    nibbles = front.astype(np.uint8) & np.uint8(0x0F)  # two's complement: the low 4 bits of each value
    packed = (nibbles[0::2] | (nibbles[1::2] << np.uint8(4))).astype(np.uint8).view(np.dtype(dtype))
    packed = np.moveaxis(packed, 0, axis)
    return ops.convert_to_tensor(packed), tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """Undo ``pack_int4``: return the int4 values (as ``dtype``) with ``orig_len`` entries along ``axis``.

    Args:
        packed: the int8 (or uint8) tensor from ``pack_int4``.
        orig_len: the length of ``axis`` before packing (the third value ``pack_int4`` returned).
        axis: the packed axis (default 0).
        dtype: ``"int8"`` (default): signed values in ``[-8, 7]``; ``"uint8"``: raw nibbles in ``[0, 15]``.

    Returns:
        A tensor of ``dtype``, of ``packed``'s shape with ``axis`` of length ``orig_len``.
    """
    _check_pack_dtype("unpack_int4", dtype)
    packed = ops.convert_to_tensor(packed)
    have = ops.dtype(packed)
    if have not in ("int8", "uint8"):
        raise TypeError(f"unpack_int4 expected an int8 or uint8 tensor of packed values, but received dtype {have}.")
    rank = len(ops.shape(packed))
    axis = _axis("unpack_int4", axis, rank)
    if axis != 0:
        packed = ops.moveaxis(packed, axis, 0)
    mask = ops.convert_to_tensor(np.array(0x0F, have))
    low = ops.bitwise_and(packed, mask)
    high = ops.bitwise_and(ops.right_shift(packed, ops.convert_to_tensor(np.array(4, have))), mask)
    if dtype == "int8":  # nibble n in [0, 15] -> signed (n ^ 8) - 8
        eight = ops.convert_to_tensor(np.array(8, have))
        low = ops.subtract(ops.bitwise_xor(low, eight), eight)
        high = ops.subtract(ops.bitwise_xor(high, eight), eight)
    both = ops.stack([ops.cast(low, dtype), ops.cast(high, dtype)], axis=1)
    rest = tuple(ops.shape(packed)[1:])
    unpacked = ops.reshape(both, (2 * ops.shape(packed)[0],) + rest)[:orig_len]
    return ops.moveaxis(unpacked, 0, axis) if axis != 0 else unpacked


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7), dtype="int8", epsilon=None,
                                             to_numpy=False):
    """Asymmetric quantization of a 2-D ``(input_dim, output_dim)`` tensor in groups of ``block_size`` rows.

    Each group of rows (the last one zero-padded to ``block_size``) gets, per column,
    ``scale = (max - min + epsilon) / (high - low)`` and ``zero = clip(round(-min / scale) + low)``;
    then ``q = clip(round(x / scale) + zero, low, high)``, so ``x ~= (q - zero) * scale``.
    As Keras, the device path (``to_numpy=False``) widens a constant group's range by 1 on each
    side instead of adding ``epsilon``, and takes a single group's range from its real rows only
    (the host path includes the zero padding).

    Args:
        inputs: a float tensor of shape ``(input_dim, output_dim)``.
        block_size: positive int, rows per group.
        value_range: ``(low, high)`` of the quantized values (default ``(-8, 7)``, int4).
        dtype: dtype of the quantized values (default ``"int8"``).
        epsilon: added to each group's range (default ``lamina.config.epsilon()``).
        to_numpy: compute with NumPy on the host (what ``quantize`` uses) instead of on the device.

    Returns:
        ``(quantized, scale, zero_point)``: ``quantized`` of ``inputs``' shape, ``scale`` (float) and
        ``zero_point`` (int8), both ``(ceil(input_dim / block_size), output_dim)``.

    Example:
    >>> import numpy as np, lamina
    >>> w = np.array([[0.0, -1.0], [1.5, 1.0], [3.0, 0.5]], "float32")
    >>> q, scale, zero = lamina.quantizers.abs_max_quantize_grouped_with_zero_point(w, block_size=2)
    >>> lamina.ops.convert_to_numpy(q).tolist(), lamina.ops.convert_to_numpy(zero).tolist()
    ([[-8, -8], [7, 6], [7, 7]], [[-8, -1], [-8, -8]])
    """
    from lamina import config

    who = "abs_max_quantize_grouped_with_zero_point"
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size <= 0:
        raise ValueError(f"{who} expected a positive integer block_size, but received block_size={block_size!r}.")
    shape = tuple(ops.shape(inputs)) if not isinstance(inputs, np.ndarray) else inputs.shape
    if len(shape) != 2:
        raise ValueError(f"{who} expected a 2-D tensor (input_dim, output_dim), but received shape {shape}.")
    low, high = value_range
    eps = config.epsilon() if epsilon is None else epsilon
    rows, cols = shape
    groups = math.ceil(rows / block_size)
    pad = groups * block_size - rows
    if to_numpy:
        x = np.asarray(ops.convert_to_numpy(inputs))
        float_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype("float32")
        x = x.astype(float_dtype)
        x = np.concatenate([x, np.zeros((pad, cols), x.dtype)]) if pad else x
        x = x.reshape(groups, block_size, cols)
        lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
        scale = ((hi - lo) + float_dtype.type(eps)) / float_dtype.type(high - low)
        zero = np.clip(np.round(-lo / scale) + low, low, high)
        q = np.clip(np.round(x / scale) + zero, low, high).astype(dtype).reshape(-1, cols)[:rows]
        return (ops.convert_to_tensor(q), ops.convert_to_tensor(scale[:, 0].astype(float_dtype)),
                ops.convert_to_tensor(zero[:, 0].astype("int8")))
    x = ops.convert_to_tensor(inputs)
    if not backend.is_float_dtype(ops.dtype(x)):
        x = ops.cast(x, "float32")
    if groups == 1:  # as Keras: one group's range comes from its real rows only
        lo, hi = ops.min(x, axis=0, keepdims=True), ops.max(x, axis=0, keepdims=True)
    if pad:
        x = ops.concatenate([x, ops.zeros((pad, cols), ops.dtype(x))], axis=0)
    x = ops.reshape(x, (groups, block_size, cols))
    if groups > 1:
        lo, hi = ops.min(x, axis=1), ops.max(x, axis=1)
    flat = ops.equal(lo, hi)
    lo, hi = ops.where(flat, lo - 1.0, lo), ops.where(flat, hi + 1.0, hi)
    span = ops.subtract(hi, lo)
    if eps > 0:
        span = ops.add(span, eps)
    scale = ops.divide(span, float(high - low))
    scale = ops.where(ops.less_equal(scale, 0.0), 1e-8, scale)
    zero = ops.clip(ops.add(ops.round(ops.divide(ops.negative(lo), scale)), float(low)), low, high)
    q = ops.add(ops.round(ops.divide(x, ops.expand_dims(scale, 1))), ops.expand_dims(zero, 1))
    q = ops.cast(ops.clip(q, low, high), dtype)
    q = ops.reshape(q, (groups * block_size, cols))[:rows]
    return q, scale, ops.cast(zero, "int8")


def group_index(length, block_size):
    """``g_idx``: the group of each of ``length`` rows, ``floor(i / block_size)``, as float32 (Keras's layout)."""
    return np.floor_divide(np.arange(length, dtype="float32"), np.float32(block_size))


def dequantize_grouped(quantized, scale, zero, g_idx, group_axis=-1, dtype="float32"):
    """``(quantized - zero[g]) * scale[g]`` where ``g = g_idx`` picks each entry's group along ``group_axis``.

    Args:
        quantized: the int values (any int or float dtype).
        scale, zero: per-group tensors with the groups along ``group_axis``.
        g_idx: the group of each position along the dequantized axis (``group_index``).
        group_axis: the axis of ``scale``/``zero`` holding the groups.
        dtype: the float dtype of the result.
    """
    groups = ops.cast(g_idx, "int32")
    scale = ops.cast(ops.take(scale, groups, axis=group_axis), dtype)
    zero = ops.cast(ops.take(zero, groups, axis=group_axis), dtype)
    return ops.multiply(ops.subtract(ops.cast(quantized, dtype), zero), scale)
