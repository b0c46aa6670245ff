"""The int4 weights and products of Dense, EinsumDense and Embedding (Keras 3's layout).

A kernel is seen as a 2-D ``(rows, columns)`` matrix (for EinsumDense: the kernel reshaped in
memory order, rows = the contracted dimensions); it is stored packed two values per byte along
the columns, ``(rows, ceil(columns / 2))`` int8. Per channel (``block_size`` None): one
symmetric scale per column, ``kernel_scale`` of shape ``(columns,)``, ``w ~= q / scale``. In
groups of ``block_size`` rows: ``kernel_scale`` and int8 ``kernel_zero`` of shape
``(groups, columns)`` and the float32 ``g_idx`` (the group of each row), ``w ~= (q - zero) * scale``.
Embedding is the transpose: rows are vocabulary entries, groups run along the output dimension.
"""

import math

import numpy as np

from lamina import backend, ops
from lamina.quantizers.int4 import (abs_max_quantize_grouped_with_zero_point, dequantize_grouped, pack_int4,
                                    unpack_int4)
from lamina.quantizers.quantizers import AbsMaxQuantizer, int8_products


def add_int4_extras(layer, prefix, rows, columns, grouped_along_rows=True):
    """Create ``<prefix>_scale`` (and, in groups, ``<prefix>_zero`` and ``g_idx``) for an int4 weight.

    ``grouped_along_rows``: groups of rows with columns-wide scales (Dense, EinsumDense), else groups
    of columns with one scale row per row (Embedding).
    """
    from lamina.quantizers import layer_support as quant

    block = layer._int4_block_size
    if block is None:
        shape = (columns,) if grouped_along_rows else (rows,)
    else:
        groups = math.ceil((rows if grouped_along_rows else columns) / block)
        shape = (groups, columns) if grouped_along_rows else (rows, groups)
    setattr(layer, f"{prefix}_scale", quant.add_scale_weight(layer, f"{prefix}_scale", shape))
    if block is not None:
        setattr(layer, f"{prefix}_zero", quant.add_int8_weight(layer, f"{prefix}_zero", shape))
        layer.g_idx = quant.add_group_index(layer, rows if grouped_along_rows else columns, block)


def set_int4_extras(layer, prefix, scale, zero, group_length):
    """After ``quantize``: create ``<prefix>_scale`` (and ``<prefix>_zero``, ``g_idx``) holding the values."""
    from lamina.quantizers import layer_support as quant

    quant.set_scale_weight(layer, f"{prefix}_scale", scale)
    if zero is not None:
        var = quant.add_int8_weight(layer, f"{prefix}_zero", zero.shape)
        var.assign(zero.astype("int8"))
        setattr(layer, f"{prefix}_zero", var)
        layer.g_idx = quant.add_group_index(layer, group_length, layer._int4_block_size)


def quantize_int4(weight, block_size, weight_quantizer=None, rows_axis=True):
    """Quantize a 2-D float ``weight`` to int4: return ``(packed, scale, zero or None)`` as NumPy arrays.

    ``rows_axis``: per-channel scales reduce the rows (Dense) - else the columns (Embedding); in
    groups, the groups run along the rows - else along the columns.
    """
    reduce_axis = 0 if rows_axis else -1
    if block_size is None:
        quantizer = weight_quantizer or AbsMaxQuantizer(axis=reduce_axis, value_range=(-8, 7))
        if getattr(quantizer, "axis", 0) is None:
            q, scale = quantizer(weight, axis=reduce_axis, to_numpy=True)
        else:
            q, scale = quantizer(weight, to_numpy=True)
        q, scale, zero = _np(q), _np(scale).reshape(-1), None
        channels = q.shape[1] if rows_axis else q.shape[0]
        if q.shape != tuple(ops.shape(weight)) or scale.size != channels:
            raise ValueError(f"Int4 quantization: the weight quantizer {quantizer!r} returned values of shape "
                             f"{q.shape} and {scale.size} scales for a weight of shape {tuple(ops.shape(weight))}; "
                             f"it must reduce axis {reduce_axis} (one scale per {'column' if rows_axis else 'row'}).")
    elif rows_axis:
        q, scale, zero = (_np(t) for t in abs_max_quantize_grouped_with_zero_point(weight, block_size,
                                                                                   to_numpy=True))
    else:
        q, scale, zero = (_np(t).T for t in abs_max_quantize_grouped_with_zero_point(
            np.ascontiguousarray(_np(weight).T), block_size, to_numpy=True))
    packed, _, _ = pack_int4(np.ascontiguousarray(q.astype("int8")), axis=-1)
    return _np(packed), scale, zero


def _np(x):
    return np.asarray(backend.convert_to_numpy(x))


def dequantize_int4(layer, packed, columns, prefix="kernel", dtype="float32"):
    """The float ``(rows, columns)`` matrix of a packed int4 weight (``layer.<prefix>_scale``...)."""
    q = unpack_int4(packed, columns, axis=-1)
    scale = getattr(layer, f"{prefix}_scale").value
    if layer._int4_block_size is None:
        return ops.divide(ops.cast(q, dtype), ops.cast(scale, dtype))
    return dequantize_grouped(q, scale, getattr(layer, f"{prefix}_zero").value, layer.g_idx.value,
                              group_axis=0, dtype=dtype)


def int4_dense(layer, inputs):
    """``inputs @ kernel`` for an int4 Dense layer (weight-only, or with its inputs quantizer per channel)."""
    dtype = layer.compute_dtype
    if layer._int4_block_size is None and layer.inputs_quantizer is not None:
        q = unpack_int4(layer.kernel.value, layer.units, axis=-1)
        return int8_products(inputs, q, layer.kernel_scale.value, layer.inputs_quantizer)
    return ops.matmul(inputs, dequantize_int4(layer, layer.kernel.value, layer.units, dtype=dtype))


def int4_embedding_lookup(layer, ids):
    """The dequantized rows ``ids`` of an int4 Embedding (only the looked-up rows are unpacked)."""
    dtype = layer.compute_dtype
    rows = unpack_int4(ops.take(layer.embeddings.value, ids, axis=0), layer.output_dim, axis=-1)
    scale = ops.take(layer.embeddings_scale.value, ids, axis=0)
    if layer._int4_block_size is None:
        return ops.divide(ops.cast(rows, dtype), ops.expand_dims(ops.cast(scale, dtype), -1))
    zero = ops.take(layer.embeddings_zero.value, ids, axis=0)
    return dequantize_grouped(rows, scale, zero, layer.g_idx.value, group_axis=-1, dtype=dtype)
