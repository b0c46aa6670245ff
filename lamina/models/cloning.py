"""``clone_model`` and ``model_from_json``: new models from an existing architecture."""

import json

from lamina.saving.serialization import deserialize_object, serialize_object


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False):
    """Return a new model with the same architecture as ``model`` and freshly initialized weights.

    Works for Sequential and Functional models (subclassed models need ``get_config``). As in Keras 3:
    ``clone_function(layer)`` returns the layer to use for each layer (default: a fresh copy from its config;
    return ``layer`` itself to share it); for a Functional model ``input_tensors`` gives the symbolic inputs to
    build the clone on and ``call_function(layer, *args, **kwargs)`` calls each layer of the graph; ``recursive``
    clones nested Sequential/Functional models layer by layer with ``clone_function``. A compiled model's clone is
    compiled with the same settings (a fresh optimizer).

    Example:
    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    >>> clone = lamina.models.clone_model(model)
    >>> clone.output_shape, clone.layers[0] is model.layers[0]
    ((None, 2), False)
    """
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    layer_fn = _layer_function(clone_function, call_function, recursive)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: `call_function` applies to Functional models (a Sequential model's "
                             "layers are not called when it is built); received a Sequential model.")
        clone = _clone_sequential(model, layer_fn, input_tensors)
    elif isinstance(model, Functional) and (type(model).get_config is Functional.get_config
                                            or clone_function or input_tensors is not None):
        clone = _clone_functional(model, layer_fn, call_function, input_tensors)
    else:
        if clone_function is not None or input_tensors is not None or call_function is not None:
            raise ValueError(f"clone_model: `clone_function`, `input_tensors` and `call_function` apply to "
                             f"Sequential and Functional models, but received a {type(model).__name__}.")
        return deserialize_object(serialize_object(model), custom_objects={type(model).__name__: type(model)})
    if getattr(model, "compiled", False):
        from lamina.saving.compile_config import compile_from_config, get_compile_config

        compile_from_config(clone, get_compile_config(model), source="the model being cloned")
    return clone


def _copy_layer(layer):
    return type(layer).from_config(layer.get_config())


def _layer_function(clone_function, call_function, recursive):
    """The function giving each layer of the clone (each original layer's once: shared layers stay shared)."""
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: `clone_function` must be a callable, but received {clone_function!r}.")
    base = clone_function or _copy_layer
    cache = {}

    def fn(layer):
        if id(layer) not in cache:
            from lamina.models.functional import Functional
            from lamina.models.sequential import Sequential

            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, call_function=call_function,
                                               recursive=True)
            else:
                cache[id(layer)] = base(layer)
        return cache[id(layer)]

    return fn


def _clone_sequential(model, layer_fn, input_tensors):
    from lamina.layers.core.input_layer import Input
    from lamina.models.sequential import Sequential

    new_layers = [layer_fn(layer) for layer in model.layers]
    first = []
    if input_tensors is not None:
        tensors = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(tensors) != 1:
            raise ValueError(f"clone_model: a Sequential model takes one input tensor, but received {len(tensors)}.")
        first = [tensors[0]._history.operation] if tensors[0]._history is not None else []
    elif model._input_layer is not None:
        spec = model._input_layer.output
        first = [Input(batch_shape=spec.shape, dtype=spec.dtype)]
    return Sequential(first + new_layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, layer_fn, call_function, input_tensors):
    from lamina import tree
    from lamina.backend.common.keras_tensor import KerasTensor
    from lamina.layers.core.input_layer import Input
    from lamina.models.functional import Functional

    if input_tensors is None:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t._history.operation.name)
                      for t in model.inputs]
        structure = model.input
    else:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs) or not all(isinstance(t, KerasTensor) for t in new_inputs):
            raise ValueError(f"clone_model: `input_tensors` must be {len(model.inputs)} symbolic tensor(s) (as "
                             f"model.input), but received {input_tensors!r}.")
        structure = input_tensors
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    for step in model._steps:
        args, kwargs = step.node.arguments_with(values)
        layer = layer_fn(step.operation)
        out = call_function(layer, *args, **kwargs) if call_function is not None else layer(*args, **kwargs)
        flat = tree.flatten(out) if isinstance(out, (list, tuple, dict)) else [out]
        for oid, o in zip(step.out_ids, flat):
            values[oid] = o
    outputs = tree.pack_sequence_as(model._outputs_struct, [values[id(t)] for t in model.outputs])
    inputs = structure if input_tensors is not None else (
        tree.pack_sequence_as(structure, new_inputs) if isinstance(structure, (list, tuple, dict)) else new_inputs[0])
    cls = type(model) if type(model).get_config is Functional.get_config else Functional
    try:
        return cls(inputs, outputs, name=model.name)
    except TypeError:
        return Functional(inputs, outputs, name=model.name)


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
