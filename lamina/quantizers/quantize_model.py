"""``quantize_model``: what ``Model.quantize(mode)`` does."""

from lamina.quantizers.quantizers import QUANTIZATION_MODES


def quantizable_layers(model):
    """The layers of ``model`` (nested ones included) that have a ``quantize`` method, in order."""
    from lamina.models.model import Model

    return [layer for layer in model._flatten_layers()
            if layer is not model and not isinstance(layer, Model) and callable(getattr(layer, "quantize", None))
            and getattr(layer, "supports_quantization", True)]


def quantize_model(model, mode, **kwargs):
    """Quantize every Dense, EinsumDense, Embedding and Conv1D/2D/3D layer of ``model`` in place.

    ``mode="int8"`` replaces each float kernel by an int8 kernel plus a float ``kernel_scale``
    holding one abs-max scale per output channel (``embeddings_scale``, one per row, for
    Embedding). Dense and EinsumDense then quantize their inputs per row at call time and multiply
    in integers (int8 x int8 -> int32 for Dense, int8 values in float32 for EinsumDense), Embedding
    and the convolutions dequantize their weights (weight-only). The config records the mode
    (``"dtype": "int8_from_float32"``), so ``model.save`` / ``load_model`` keep it and the file
    holds int8 weights. A quantized model predicts and evaluates; training it raises (as Keras 3,
    int8 weights are not trained).

    Args:
        model: a built model.
        mode: ``"int8"``.

    Returns:
        None (the model is changed in place).

    Raises:
        ValueError: for an unknown mode, an unbuilt model, a model with nothing to quantize, or one
            already quantized.

    Example:
    >>> import lamina, numpy as np
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, name="dense")])
    >>> model.quantize("int8")
    >>> [(w.path, str(w.dtype)) for w in model.layers[0].weights]
    [('dense/bias', 'float32'), ('dense/kernel', 'int8'), ('dense/kernel_scale', 'float32')]
    >>> model.predict(np.ones((2, 4)), verbose=0).shape
    (2, 3)
    """
    who = f"Model '{model.name}'.quantize"
    if kwargs:
        raise TypeError(f"{who} got unexpected keyword argument(s) {sorted(kwargs)}.")
    if mode not in QUANTIZATION_MODES:
        raise ValueError(f"{who} expected mode to be one of {list(QUANTIZATION_MODES)}, but received "
                         f"mode={mode!r}.")
    if not model.built:
        raise ValueError(f"{who}: the model is not built yet, so it has no weights to quantize. Build it "
                         "(give it an Input, or call it on data) before calling quantize().")
    layers = quantizable_layers(model)
    done = [layer.name for layer in layers if layer.quantization_mode is not None]
    if done:
        raise ValueError(f"{who}: the model is already quantized (layers {done} have "
                         f"mode={layers[0].quantization_mode!r}); a model can be quantized only once.")
    if not layers:
        raise ValueError(f"{who} found no layer to quantize: mode {mode!r} applies to Dense, EinsumDense, "
                         "Embedding and Conv1D/2D/3D layers.")
    unbuilt = [layer.name for layer in layers if not layer.built]
    if unbuilt:
        raise ValueError(f"{who}: layers {unbuilt} are not built yet. Call the model on data first.")
    for layer in layers:
        layer.quantize(mode)
    # Compiled step functions captured the float variables: rebuild them on next use.
    if hasattr(model, "_step_functions"):
        model._step_functions = {}
    # The optimizer's slots were for the float kernels, which are gone: start it afresh, so the
    # saved optimizer state matches the quantized model's trainable variables.
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        model.optimizer = type(optimizer).from_config(optimizer.get_config())
