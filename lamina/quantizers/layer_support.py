"""What the quantizable layers (Dense, EinsumDense, Embedding, Conv) share.

A quantized layer records its mode in its dtype policy name, as Keras 3 does:
``get_config()["dtype"] == "int8_from_float32"``. Re-creating the layer from that config builds
an int8 kernel and a float scale in place of the float kernel, so ``load_model`` restores a
quantized model from its int8 weights.
"""

import re

from lamina import backend
from lamina.layers.call_context import current_training
from lamina.quantizers.quantizers import QUANTIZATION_MODES, abs_max_quantize

_POLICY = re.compile(r"^(int8)_from_(\w+)$")


def _who(layer):
    return f"Layer '{layer.name}' ({type(layer).__name__})"


def split_dtype_policy(dtype):
    """Return ``(float dtype, quantization mode or None)`` for a layer's ``dtype`` argument.

    Accepts a plain dtype, a quantized policy name (``"int8_from_float32"``) or Keras 3's serialized
    ``QuantizedDTypePolicy`` (``{"class_name": "QuantizedDTypePolicy", "config": {...}}``).
    """
    if isinstance(dtype, dict) and dtype.get("class_name") in ("QuantizedDTypePolicy",
                                                               "QuantizedFloat8DTypePolicy"):
        config = dtype.get("config") or {}
        name = config.get("name")
        if not name and config.get("mode"):
            name = f"{config['mode']}_from_{config.get('source_name') or 'float32'}"
        dtype = name
    if isinstance(dtype, str) and "_from_" in dtype:
        match = _POLICY.match(dtype)
        if not match:
            raise ValueError(f"Unsupported quantized dtype policy {dtype!r}: lamina supports "
                             f"{[m + '_from_<float dtype>' for m in QUANTIZATION_MODES]}.")
        return match.group(2), match.group(1)
    return dtype, None


def policy_name(layer, dtype):
    """The ``dtype`` entry of a layer's config: ``"int8_from_float32"`` once quantized."""
    mode = getattr(layer, "quantization_mode", None)
    if mode:
        return f"{mode}_from_{dtype}"
    policy = getattr(layer, "dtype_policy", None)  # a mixed-precision policy keeps its name
    return policy.name if policy is not None and policy.is_mixed else dtype


def check_quantize(layer, mode):
    """Raise a clear error unless ``layer`` can be quantized to ``mode`` now."""
    if mode not in QUANTIZATION_MODES:
        raise ValueError(f"{_who(layer)}.quantize expected mode to be one of {list(QUANTIZATION_MODES)}, "
                         f"but received mode={mode!r}.")
    if not layer.built:
        raise ValueError(f"{_who(layer)} is not built yet, so it has no weights to quantize. Build it "
                         "(call it on data, or build the model) before calling quantize().")
    if layer.quantization_mode is not None:
        raise ValueError(f"{_who(layer)} is already quantized (mode={layer.quantization_mode!r}); a layer can "
                         "be quantized only once.")


def add_int8_weight(layer, name, shape):
    """Create the non-trainable int8 weight ``name`` (filled by ``quantize`` or by loading)."""
    return layer.add_weight(name=name, shape=shape, initializer="zeros", dtype="int8", trainable=False)


def add_scale_weight(layer, name, shape):
    """Create the non-trainable float scale ``name`` that goes with an int8 weight."""
    return layer.add_weight(name=name, shape=shape, initializer="ones", trainable=False)


def quantize_weight(layer, attr, axis, scale_name, scale_shape):
    """Replace the float weight ``layer.<attr>`` by int8 values plus a float scale ``layer.<scale_name>``.

    ``axis`` is reduced to compute one abs-max scale per remaining index; the scale is stored with
    ``scale_shape``. The int8 weight takes the float weight's place in the layer's variable order
    (so the saved order is ``kernel, bias, kernel_scale``, as Keras 3 writes it).
    """
    old = getattr(layer, attr)
    quantized, scale = abs_max_quantize(old.value, axis=axis, to_numpy=True)
    new = backend.Variable(quantized, shape=tuple(old.shape), dtype="int8", trainable=False, name=old.name)
    new.path = old.path
    new.regularizer = None
    new.constraint = None
    layer._own_variables[layer._own_variables.index(old)] = new
    layer._tracked[:] = [t for t in layer._tracked if t is not old]
    setattr(layer, attr, new)
    scale_var = add_scale_weight(layer, scale_name, scale_shape)
    scale_var.assign(scale.reshape(scale_shape))
    setattr(layer, scale_name, scale_var)


def check_not_training(layer):
    """Raise when a quantized layer is called in training (int8 weights are not trained)."""
    if current_training():
        raise ValueError(
            f"{_who(layer)} is quantized to {layer.quantization_mode} and cannot be trained: int8 weights "
            "have no gradient (as in Keras 3). Train the float model, then call model.quantize('int8'); "
            "use predict/evaluate on the quantized model.")
