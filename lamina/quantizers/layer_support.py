"""What the quantizable layers (Dense, EinsumDense, Embedding, Conv) share.

A quantized layer records its mode in its dtype policy, as Keras 3 does: ``layer.dtype_policy`` is
a ``QuantizedDTypePolicy`` (``"int8_from_float32"``) or an ``Int4DTypePolicy``
(``"int4/128_from_float32"``, with its group size) and ``get_config()["dtype"]`` is that name.
Re-creating the layer from its config builds the quantized weights (int8 or packed int4 kernel,
scales, zero points) in place of the float kernel, so ``load_model`` restores a quantized model
from its quantized weights. A layer whose ``dtype`` is a ``DTypePolicyMap`` takes the policy of
its path when it builds.
"""

import warnings

import numpy as np

from lamina import backend, dtype_policies
from lamina.layers.call_context import current_training
from lamina.quantizers import quantization_config as qc
from lamina.quantizers.quantizers import abs_max_quantize


def _who(layer):
    return f"Layer '{layer.name}' ({type(layer).__name__})"


def layer_path(layer):
    """The layer's path, as ``DTypePolicyMap`` keys name it (``"outer/dense"``): its weights' path prefix."""
    for v in layer._own_variables:
        if isinstance(getattr(v, "path", None), str) and "/" in v.path:
            return v.path.rsplit("/", 1)[0]
    from lamina.backend.common.name_scope import scoped

    return scoped(layer.name, dedupe_first=True)


def init_quantization(layer, quantization_config, modes):
    """Set ``layer.quantization_mode`` / ``quantization_config`` from its dtype policy (in ``__init__``).

    ``modes``: the quantization modes this layer implements.
    """
    if isinstance(quantization_config, dict):
        from lamina.quantizers import deserialize

        try:
            quantization_config = deserialize(quantization_config)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{_who(layer)} cannot read its 'quantization_config' {quantization_config!r:.200}: "
                             f"{error}") from None
    if quantization_config is not None and not isinstance(quantization_config, qc.QuantizationConfig):
        raise ValueError(f"{_who(layer)} expected quantization_config to be a lamina.quantizers.QuantizationConfig "
                         f"or None, but received {quantization_config!r:.100}.")
    layer.quantization_config = quantization_config
    policy = layer._dtype_policy
    mode = None if isinstance(policy, dtype_policies.DTypePolicyMap) else policy.quantization_mode
    _check_layer_mode(layer, mode, modes)
    layer.quantization_mode = mode
    layer._quant_modes = tuple(modes)
    layer._int4_block_size = _block_size(layer, policy)


def _check_layer_mode(layer, mode, modes):
    if mode is not None and mode not in modes:
        raise ValueError(f"{_who(layer)} cannot be quantized to {mode!r}: it supports {list(modes)}, but received "
                         f"dtype={layer._dtype_policy.name!r}.")


def _block_size(layer, policy):
    """The int4 group size of a layer built from ``policy`` (None: per channel), as Keras decides it."""
    if isinstance(layer.quantization_config, qc.Int4QuantizationConfig):
        return qc.block_size_of(layer.quantization_config)
    if isinstance(policy, dtype_policies.Int4DTypePolicy):
        return None if policy.block_size == -1 else policy.block_size
    return None  # a plain "int4_from_..." policy: per channel (files from before groups existed)


def resolve_build_policy(layer):
    """At build: with a ``DTypePolicyMap``, take the entry of the layer's path (mode, group size, dtype)."""
    policy = layer._dtype_policy
    if not isinstance(policy, dtype_policies.DTypePolicyMap):
        return
    entry = policy[layer_path(layer)]
    _check_layer_mode(layer, entry.quantization_mode, layer._quant_modes)
    layer.quantization_mode = entry.quantization_mode
    layer._int4_block_size = _block_size(layer, entry)
    layer._dtype = entry.variable_dtype
    layer._path_policy = entry


def policy_name(layer, dtype):
    """The ``dtype`` entry of a layer's config: the policy name (``"int4/128_from_float32"``) or a map's config."""
    return dtype_policies.config_entry(layer._dtype_policy, dtype)


def sublayer_dtype(layer):
    """The ``dtype`` a composite layer (MultiHeadAttention...) gives the sublayers it creates: its
    ``DTypePolicyMap`` when it has one (each sublayer then takes its path's entry), else its policy (so a
    ``mixed_float16`` attention layer computes in float16 in its projections, as Keras's)."""
    policy = layer._dtype_policy
    if isinstance(policy, dtype_policies.DTypePolicyMap) or getattr(policy, "quantization_mode", None) is None:
        return policy
    return layer.dtype


def composite_dtype_entry(layer, sublayers):
    """The ``dtype`` config entry of a composite layer: a ``DTypePolicyMap`` naming the policy of each
    quantized sublayer's path, so that re-creating the layer rebuilds them quantized (what Keras's
    ``DTypePolicyMap`` documentation recommends), else the usual entry."""
    policy = layer._dtype_policy
    quantized = [sub for sub in sublayers if sub is not None and getattr(sub, "quantization_mode", None)]
    if not quantized or isinstance(policy, dtype_policies.DTypePolicyMap):
        return dtype_policies.config_entry(policy, layer.dtype)
    mapping = dtype_policies.DTypePolicyMap(default_policy=policy.name)
    for sub in quantized:
        mapping[layer_path(sub)] = sub.dtype_policy
    return dtype_policies.serialize(mapping)


def config_entries(layer):
    """Extra config entries of a quantizable layer: its ``quantization_config`` when it has one."""
    if getattr(layer, "quantization_config", None) is None:
        return {}
    from lamina.quantizers import serialize

    return {"quantization_config": serialize(layer.quantization_config)}


def begin_quantize(layer, mode, config):
    """Check that ``layer`` can be quantized now and return the resolved ``QuantizationConfig``."""
    config = qc.validate_and_resolve_config(mode, config, who=f"{_who(layer)}.quantize")
    mode = config.mode
    if mode not in layer._quant_modes:
        raise ValueError(f"{_who(layer)}.quantize: mode {mode!r} is not available for this layer, which supports "
                         f"{list(layer._quant_modes)}.")
    if not layer.built:
        raise ValueError(f"{_who(layer)} is not built yet, so it has no weights to quantize. Build it "
                         "(call it on data, or build the model) before calling quantize().")
    if layer.quantization_mode is not None:
        raise ValueError(f"{_who(layer)} is already quantized (mode={layer.quantization_mode!r}); a layer can "
                         "be quantized only once.")
    if mode == "int8" and layer.compute_dtype == "float16":
        raise ValueError(f"{_who(layer)}.quantize: mode 'int8' does not work well with compute dtype 'float16'; "
                         "use the 'mixed_bfloat16' or 'float32' policy before calling quantize().")
    return config


def finish_quantize(layer, config):
    """Record the mode, config and quantized dtype policy once the weights are replaced."""
    mode = config.mode
    layer.quantization_mode = mode
    layer.quantization_config = config
    layer._int4_block_size = qc.block_size_of(config) if mode == "int4" else None
    policy = layer._dtype_policy
    is_map = isinstance(policy, dtype_policies.DTypePolicyMap)
    path = layer_path(layer)
    source = (policy[path] if is_map else policy).name
    if mode == "int4":
        new = dtype_policies.Int4DTypePolicy(f"int4/{layer._int4_block_size or -1}", source)
    else:
        new = dtype_policies.QuantizedDTypePolicy(mode, source)
    if is_map:
        if path in policy:
            del policy[path]
        policy[path] = new
        layer._path_policy = new
    else:
        layer._dtype_policy = new


def inputs_quantizer(layer):
    """The quantizer of a quantized layer's inputs: its config's ``activation_quantizer`` (None: weight-only);
    without a config, abs-max int8 for int8 layers and none for int4 (as Keras's defaults)."""
    if layer.quantization_mode is None:
        return None
    if layer.quantization_config is not None:
        return layer.quantization_config.activation_quantizer
    from lamina.quantizers.quantizers import AbsMaxQuantizer

    return AbsMaxQuantizer() if layer.quantization_mode == "int8" else None


def add_int8_weight(layer, name, shape):
    """Create the non-trainable int8 weight ``name`` (filled by ``quantize`` or by loading)."""
    return layer.add_weight(name=name, shape=shape, initializer="zeros", dtype="int8", trainable=False)


def add_scale_weight(layer, name, shape):
    """Create the non-trainable float scale ``name`` that goes with a quantized weight."""
    return layer.add_weight(name=name, shape=shape, initializer="ones", trainable=False)


def add_group_index(layer, length, block_size, name="g_idx"):
    """Create ``g_idx``, the float32 group of each of ``length`` rows (saved, as Keras saves it)."""
    from lamina.quantizers.int4 import group_index

    var = layer.add_weight(name=name, shape=(length,), initializer="zeros", dtype="float32", trainable=False)
    var.assign(group_index(length, block_size))
    return var


def replace_weight(layer, attr, value, dtype):
    """Replace the float weight ``layer.<attr>`` by a non-trainable ``dtype`` weight holding ``value``.

    The new weight takes the old one's place in the layer's variable order and its path (so the saved
    order is ``kernel, bias, kernel_scale...``, as Keras 3 writes it); its shape is ``value``'s.
    """
    old = getattr(layer, attr)
    value = np.asarray(value)
    new = backend.Variable(value.astype(dtype), shape=tuple(value.shape), dtype=dtype, trainable=False, name=old.name)
    new.path = old.path
    new.regularizer = None
    new.constraint = None
    layer._own_variables[layer._own_variables.index(old)] = new
    layer._tracked[:] = [t for t in layer._tracked if t is not old]
    setattr(layer, attr, new)
    return new


def set_scale_weight(layer, name, value):
    """Create the float weight ``layer.<name>`` (a scale) holding ``value``."""
    value = np.asarray(value)
    var = add_scale_weight(layer, name, value.shape)
    var.assign(value)
    setattr(layer, name, var)
    return var


def quantize_int8_weight(layer, attr, axis, scale_name, scale_shape, quantizer=None):
    """Replace the float weight ``layer.<attr>`` by int8 values plus a float scale ``layer.<scale_name>``.

    ``axis`` is reduced to compute one abs-max scale per remaining index (``quantizer``, an
    ``AbsMaxQuantizer``-like callable, may replace the default ``(-127, 127)`` one); the scale is
    stored with ``scale_shape``.
    """
    old = getattr(layer, attr)
    if quantizer is None:
        quantized, scale = abs_max_quantize(old.value, axis=axis, to_numpy=True)
    elif getattr(quantizer, "axis", 0) is None:  # a quantizer without its own axis reduces the layer's
        quantized, scale = quantizer(old.value, axis=axis, to_numpy=True)
    else:
        quantized, scale = quantizer(old.value, to_numpy=True)
    quantized, scale = np.asarray(backend.convert_to_numpy(quantized)), np.asarray(backend.convert_to_numpy(scale))
    if quantized.shape != tuple(old.shape) or scale.size != int(np.prod(scale_shape)):
        raise ValueError(f"{_who(layer)}.quantize: the weight quantizer {quantizer!r} returned values of shape "
                         f"{quantized.shape} and a scale of shape {scale.shape}, but this layer needs "
                         f"{tuple(old.shape)} and one scale per {scale_shape} (reduce axis {axis}).")
    replace_weight(layer, attr, quantized, "int8")
    set_scale_weight(layer, scale_name, scale.reshape(scale_shape))


def check_not_training(layer):
    """Raise when a quantized layer is called in training (quantized weights are not trained)."""
    if current_training():
        raise ValueError(
            f"{_who(layer)} is quantized to {layer.quantization_mode} and cannot be trained: quantized weights "
            "have no gradient. Train the float model, then call model.quantize(...); use predict/evaluate on the "
            "quantized model.")


def warn_skipped(who, mode, skipped):
    if skipped:
        warnings.warn(f"{who}: layers {skipped} do not support mode {mode!r} and stay float.", stacklevel=3)
