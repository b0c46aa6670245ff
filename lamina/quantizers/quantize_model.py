"""``quantize_model``: what ``Model.quantize(mode, config, filters)`` does."""

import re

from lamina.quantizers import layer_support as quant
from lamina.quantizers.quantization_config import validate_and_resolve_config


def quantizable_layers(model):
    """The layers of ``model`` (nested ones included) that have a ``quantize`` method, in order."""
    from lamina.models.model import Model

    return [layer for layer in model._flatten_layers()
            if layer is not model and not isinstance(layer, Model) and callable(getattr(layer, "quantize", None))
            and getattr(layer, "supports_quantization", True)]


def _check_filters(who, filters):
    if filters is None or callable(filters):
        return
    patterns = [filters] if isinstance(filters, str) else filters
    if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) for p in patterns):
        raise ValueError(f"{who} expected `filters` to be a regex string, a list of regex strings or a callable "
                         f"taking a layer, but received filters={filters!r:.100}.")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{who}: the filter {pattern!r} is not a valid regular expression ({error}).") from None


def _selected(layer, filters):
    """Whether ``filters`` keeps ``layer`` (as Keras: ``re.search`` on the layer's name)."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return re.search(filters, layer.name) is not None
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return bool(filters(layer))


def quantize_model(model, mode=None, config=None, filters=None, **kwargs):
    """Quantize the Dense, EinsumDense, (Reversible)Embedding and Conv1D/2D/3D layers of ``model`` in place.

    ``mode="int8"`` replaces each float kernel by an int8 kernel plus a float ``kernel_scale``
    holding one abs-max scale per output channel (``embeddings_scale``, one per row, for
    Embedding). Dense and EinsumDense then quantize their inputs per row at call time and multiply
    in integers (int8 x int8 -> int32 for Dense, int8 values in float32 for EinsumDense), Embedding
    and the convolutions dequantize their weights (weight-only).

    ``mode="int4"`` (Dense, EinsumDense, (Reversible)Embedding; the convolutions stay float, with a warning)
    packs two 4-bit values per byte, in groups of ``block_size`` rows with a scale and zero point
    each (default ``Int4QuantizationConfig(block_size=128)``) or per channel (``block_size=None``),
    and dequantizes them at call time (weight-only), as Keras 3 lays them out.

    The config records the mode (``"dtype": "int8_from_float32"``, ``"int4/128_from_float32"``), so
    ``model.save`` / ``load_model`` keep it and the file holds the quantized weights. A quantized
    model predicts and evaluates; training it raises (quantized weights are not trained).

    Args:
        model: a built model.
        mode: ``"int8"`` or ``"int4"``; optional when ``config`` is given.
        config: a ``lamina.quantizers.QuantizationConfig`` (``Int8QuantizationConfig``,
            ``Int4QuantizationConfig``) choosing quantizers and the int4 ``block_size``.
        filters: only quantize the layers it keeps: a regex (``re.search`` on the layer name), a
            list of regexes (any matches), or a callable ``filters(layer) -> bool``.

    Returns:
        None (the model is changed in place).

    Raises:
        ValueError: for an unknown or unsupported mode (``"float8"``, ``"gptq"``, ``"awq"``), a
            config that does not fit, bad filters, an unbuilt model, a model with nothing to
            quantize, or a selected layer that is already quantized.

    Example:
    >>> import lamina, numpy as np
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, name="dense")], name="model")
    >>> model.quantize("int8")
    >>> [(w.path, str(w.dtype)) for w in model.layers[0].weights]
    [('model/dense/bias', 'float32'), ('model/dense/kernel', 'int8'), ('model/dense/kernel_scale', 'float32')]
    >>> model.predict(np.ones((2, 4)), verbose=0).shape
    (2, 3)
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, name="a"), lamina.layers.Dense(5)])
    >>> model.quantize("int4", filters="^a$")
    >>> [layer.dtype_policy.name for layer in model.layers]
    ['int4/128_from_float32', 'float32']
    >>> model.layers[0].kernel.shape  # 3 units packed two per byte
    (4, 2)
    """
    who = f"Model '{model.name}'.quantize"
    kwargs.pop("type_check", None)
    if kwargs:
        raise TypeError(f"{who} got unexpected keyword argument(s) {sorted(kwargs)}.")
    config = validate_and_resolve_config(mode, config, who=who)
    mode = config.mode
    _check_filters(who, filters)
    if not model.built:
        raise ValueError(f"{who}: the model is not built yet, so it has no weights to quantize. Build it "
                         "(give it an Input, or call it on data) before calling quantize().")
    candidates = quantizable_layers(model)
    if not candidates:
        raise ValueError(f"{who} found no layer to quantize: mode {mode!r} applies to Dense, EinsumDense, "
                         "Embedding (and, for int8, Conv1D/2D/3D) layers.")
    layers = [layer for layer in candidates if _selected(layer, filters)]
    done = [layer.name for layer in layers if layer.quantization_mode is not None]
    if done:
        raise ValueError(f"{who}: layers {done} are already quantized (mode="
                         f"{next(la.quantization_mode for la in layers if la.quantization_mode)!r}); a layer can "
                         "be quantized only once. Use `filters` to pick the layers still in float.")
    unbuilt = [layer.name for layer in layers if not layer.built]
    if unbuilt:
        raise ValueError(f"{who}: layers {unbuilt} are not built yet. Call the model on data first.")
    skipped = [layer.name for layer in layers if mode not in getattr(layer, "_quant_modes", (mode,))]
    quant.warn_skipped(who, mode, skipped)
    changed = False
    for layer in layers:
        if layer.name not in skipped:
            layer.quantize(mode, config=config)
            changed = True
    if not changed:
        return
    # Compiled step functions captured the float variables: rebuild them on next use.
    if hasattr(model, "_step_functions"):
        model._step_functions = {}
    # The optimizer's slots were for the float kernels, which are gone: start it afresh, so the
    # saved optimizer state matches the quantized model's trainable variables.
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        model.optimizer = type(optimizer).from_config(optimizer.get_config())
