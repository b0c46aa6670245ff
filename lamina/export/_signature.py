"""Turn a model (or a user's ``input_signature``) into ``[(shape, dtype), ...]``, one per input."""

from lamina.backend.common.dtypes import standardize_dtype


def _is_shape(obj):
    return isinstance(obj, (list, tuple)) and all(d is None or isinstance(d, int) for d in obj) and \
        not isinstance(obj, str)


def _one_spec(spec, default_dtype, where):
    """``(shape, dtype)`` from an InputSpec, KerasTensor, array-like or plain shape tuple."""
    if _is_shape(spec):
        shape, dtype = tuple(spec), default_dtype
    elif getattr(spec, "shape", None) is not None:
        shape = tuple(None if d is None else int(d) for d in spec.shape)
        dtype = getattr(spec, "dtype", None) or default_dtype
    else:
        raise TypeError(
            f"export: each entry of `input_signature` must be a lamina.InputSpec(shape=..., dtype=...), "
            f"a KerasTensor (lamina.Input), an array, or a shape tuple such as (None, 4); {where} is "
            f"{spec!r}."
        )
    if not shape:
        raise ValueError(f"export: {where} has shape {shape}; an input needs at least a batch axis.")
    # The batch axis is always exported as dynamic, whatever size the signature gives it.
    return (None,) + tuple(shape[1:]), standardize_dtype(dtype)


def resolve_input_specs(model, input_signature):
    """Return ``(specs, single_input)`` for ``model``; ``specs`` is ``[(shape, dtype), ...]``."""
    default_dtype = getattr(model, "compute_dtype", None) or "float32"
    if input_signature is None:
        if not getattr(model, "built", False):
            raise ValueError(
                f"export: model '{model.name}' is not built yet. Call it on data (e.g. "
                f"`model.predict(x)`) or `model.build(input_shape)` first, or pass `input_signature`, "
                f"e.g. input_signature=[lamina.InputSpec(shape=(None, 4), dtype='float32')]."
            )
        inputs = _model_inputs(model)
        if inputs is None:
            raise ValueError(
                f"export: cannot tell the inputs of model '{model.name}' (a subclassed model has no "
                f"`model.inputs`). Pass `input_signature`, e.g. "
                f"input_signature=[lamina.InputSpec(shape=(None, 4), dtype='float32')]."
            )
        specs = [_one_spec(t, default_dtype, f"model input {i}") for i, t in enumerate(inputs)]
        return specs, len(specs) == 1
    if isinstance(input_signature, dict):
        raise TypeError("export: `input_signature` must be a spec or a list of specs (one per model "
                        "input), not a dict.")
    if _is_shape(input_signature) or not isinstance(input_signature, (list, tuple)):
        return [_one_spec(input_signature, default_dtype, "input_signature")], True
    if not input_signature:
        raise ValueError("export: `input_signature` is empty; give one spec per model input.")
    specs = [_one_spec(s, default_dtype, f"input_signature[{i}]") for i, s in enumerate(input_signature)]
    return specs, len(specs) == 1


def _model_inputs(model):
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    if isinstance(inputs, dict):
        raise ValueError(f"export: model '{model.name}' takes a dict of inputs; export supports a "
                         f"tensor or a list of tensors.")
    return list(inputs)
