"""``clone_model`` and ``model_from_json``: new models from an existing architecture."""

import json

from lamina.saving.serialization import deserialize_object, serialize_object


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False):
    """Return a new model with the same architecture as ``model`` and freshly initialized weights.

    Works for Sequential and Functional models (subclassed models need ``get_config``).
    ``clone_function(layer)`` may return the layer to use instead of a fresh copy.

    Example:
    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    >>> clone = lamina.models.clone_model(model)
    >>> clone.output_shape, clone.layers[0] is model.layers[0]
    ((None, 2), False)
    """
    if input_tensors is not None or call_function is not None:
        raise ValueError("clone_model: `input_tensors` and `call_function` are not supported yet.")
    if clone_function is not None:
        return _clone_with_function(model, clone_function)
    return deserialize_object(serialize_object(model))


def _clone_with_function(model, clone_function):
    from lamina.models.sequential import Sequential

    if not isinstance(model, Sequential):
        raise ValueError("clone_model: `clone_function` is supported for Sequential models.")
    new_layers = [clone_function(layer) for layer in model.layers]
    inputs = [model._input_layer.output] if model._input_layer is not None else []
    from lamina.layers.core.input_layer import Input

    first = [Input(batch_shape=inputs[0].shape, dtype=inputs[0].dtype)] if inputs else []
    return Sequential(first + new_layers, name=model.name)


def model_from_json(json_string, custom_objects=None):
    """Create a model (with new weights) from ``model.to_json()``'s string.

    Example:
    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    >>> lamina.models.model_from_json(model.to_json()).output_shape
    (None, 2)
    """
    try:
        config = json.loads(json_string)
    except ValueError as e:
        raise ValueError(f"model_from_json: the string is not valid JSON ({e}).") from None
    return deserialize_object(config, custom_objects=custom_objects)
