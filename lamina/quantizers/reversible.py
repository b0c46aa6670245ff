"""The quantized reverse projection of ``ReversibleEmbedding`` (``logits = hidden @ embeddings.T``), Keras 3's layout.

Tied weights reuse the quantized ``embeddings`` (transposed). Untied ones quantize
``reverse_embeddings`` ``(output_dim, input_dim)`` with one scale per vocabulary column: int8
``reverse_embeddings_scale`` ``(input_dim,)``; int4 packs it two rows per byte,
``(ceil(output_dim / 2), input_dim)``, per column or in groups of ``block_size`` rows (scales and
zero points ``(groups, input_dim)``; Keras keeps these zero points as float32). Unless the config says
otherwise (``activation_quantizer``), the hidden vectors are quantized per row at call time.
"""

import math

import numpy as np

from lamina import ops
from lamina.quantizers import layer_support as quant
from lamina.quantizers.int4 import (abs_max_quantize_grouped_with_zero_point, dequantize_grouped, pack_int4,
                                    unpack_int4)
from lamina.quantizers.quantizers import AbsMaxQuantizer, abs_max_quantize, int8_products


def inputs_quantizer(layer):
    """Keras's choice: the config's activation quantizer, else abs-max int8 per row."""
    if layer.quantization_mode is None:
        return None
    if layer.quantization_config is not None:
        return layer.quantization_config.activation_quantizer
    return AbsMaxQuantizer(axis=-1)


def build_reverse(layer):
    """Create the untied quantized ``reverse_embeddings`` (and scale, zero point) of a quantized layer."""
    out_dim, in_dim = layer.output_dim, layer.input_dim
    if layer.quantization_mode == "int8":
        layer.reverse_embeddings = quant.add_int8_weight(layer, "reverse_embeddings", (out_dim, in_dim))
        layer.reverse_embeddings_scale = quant.add_scale_weight(layer, "reverse_embeddings_scale", (in_dim,))
        return
    layer.reverse_embeddings = quant.add_int8_weight(layer, "reverse_embeddings", ((out_dim + 1) // 2, in_dim))
    block = layer._int4_block_size
    shape = (in_dim,) if block is None else (math.ceil(out_dim / block), in_dim)
    layer.reverse_embeddings_scale = quant.add_scale_weight(layer, "reverse_embeddings_scale", shape)
    if block is not None:
        layer.reverse_embeddings_zero = layer.add_weight(name="reverse_embeddings_zero", shape=shape,
                                                         initializer="zeros", dtype="float32", trainable=False)


def quantize_reverse(layer, config, block):
    """Replace the float ``reverse_embeddings`` by its quantized values (after the embeddings were quantized)."""
    weight = np.asarray(ops.convert_to_numpy(layer.reverse_embeddings.value))
    quantizer = config.weight_quantizer
    zero = None
    if config.mode == "int8" or block is None:
        value_range = (-127, 127) if config.mode == "int8" else (-8, 7)
        if quantizer is None:
            q, scale = abs_max_quantize(weight, axis=0, value_range=value_range, to_numpy=True)
        else:
            q, scale = quantizer(weight, axis=0, to_numpy=True) if getattr(quantizer, "axis", 0) is None else \
                quantizer(weight, to_numpy=True)
        q, scale = np.asarray(ops.convert_to_numpy(q)), np.asarray(ops.convert_to_numpy(scale)).reshape(-1)
    else:
        q, scale, zero = (np.asarray(ops.convert_to_numpy(t))
                          for t in abs_max_quantize_grouped_with_zero_point(weight, block, to_numpy=True))
    if config.mode == "int4":
        q = np.asarray(ops.convert_to_numpy(pack_int4(np.ascontiguousarray(q.astype("int8")), axis=0)[0]))
    quant.replace_weight(layer, "reverse_embeddings", q, "int8")
    quant.set_scale_weight(layer, "reverse_embeddings_scale", scale)
    if zero is not None:
        var = layer.add_weight(name="reverse_embeddings_zero", shape=zero.shape, initializer="zeros", dtype="float32",
                               trainable=False)
        var.assign(zero.astype("float32"))
        layer.reverse_embeddings_zero = var
    # Keras's order: embeddings (scale, zero, g_idx), then reverse_embeddings (scale, zero).
    names = ["embeddings", "embeddings_scale", "embeddings_zero", "g_idx", "reverse_embeddings",
             "reverse_embeddings_scale", "reverse_embeddings_zero"]
    ordered = [getattr(layer, n) for n in names if getattr(layer, n, None) is not None]
    rest = [v for v in layer._own_variables if not any(v is o for o in ordered)]
    layer._own_variables[:] = ordered + rest


def reverse_logits(layer, inputs):
    """``inputs @ dequantize(embeddings).T`` (tied) or ``@ dequantize(reverse_embeddings)`` for a quantized layer."""
    dtype = layer.compute_dtype
    tied, block, quantizer = layer.tie_weights, layer._int4_block_size, layer.inputs_quantizer
    if layer.quantization_mode == "int8":
        kernel = ops.transpose(layer.embeddings.value) if tied else layer.reverse_embeddings.value
        scale = layer.embeddings_scale.value if tied else layer.reverse_embeddings_scale.value
        if quantizer is None:
            return ops.divide(ops.matmul(inputs, ops.cast(kernel, dtype)), ops.cast(scale, dtype))
        return int8_products(inputs, kernel, scale, quantizer)
    packed = ops.transpose(layer.embeddings.value) if tied else layer.reverse_embeddings.value
    q = unpack_int4(packed, layer.output_dim, axis=0)  # (output_dim, input_dim)
    if block is None:
        scale = layer.embeddings_scale.value if tied else layer.reverse_embeddings_scale.value
        if quantizer is None:
            return ops.divide(ops.matmul(inputs, ops.cast(q, dtype)), ops.cast(scale, dtype))
        return int8_products(inputs, q, scale, quantizer)
    if tied:
        scale, zero = ops.transpose(layer.embeddings_scale.value), ops.transpose(layer.embeddings_zero.value)
    else:
        scale, zero = layer.reverse_embeddings_scale.value, layer.reverse_embeddings_zero.value
    weights = dequantize_grouped(q, scale, zero, layer.g_idx.value, group_axis=0, dtype=dtype)
    if quantizer is None:
        return ops.matmul(inputs, weights)
    x_q, x_scale = quantizer(inputs, axis=-1)
    return ops.divide(ops.matmul(ops.cast(x_q, dtype), weights), ops.cast(x_scale, dtype))
