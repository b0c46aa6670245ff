"""Activation functions, as Keras 3's ``keras.activations``.

Every activation is a plain function of a tensor. ``get`` turns a name, a
config or a callable into the function.

Example:
>>> from lamina import activations, ops
>>> ops.convert_to_numpy(activations.get("relu")([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

import difflib
import types

from lamina.activations.activations import (  # noqa: F401
    celu,
    elu,
    exponential,
    gelu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    swish,
    tanh,
    tanh_shrink,
    threshold,
)
from lamina.activations.axis_activations import glu, log_softmax, softmax, sparsemax  # noqa: F401
from lamina.initializers._namespace import find_registered, registered_name

ALL_FUNCTIONS = (
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, soft_shrink,
    sparse_plus, silu, squareplus, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
    exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink, linear, mish,
    log_softmax, log_sigmoid, sparse_sigmoid, sparsemax,
)

ALL_OBJECTS_DICT = {fn.__name__: fn for fn in ALL_FUNCTIONS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu


def _unknown(name, custom_objects=None):
    choices = sorted(set(ALL_OBJECTS_DICT) | set(custom_objects or {}))
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
    hint = f" Did you mean {close}?" if close else ""
    return ValueError(
        f"Unknown activation function '{name}'.{hint} Known activations: {choices}. "
        "A custom activation can be passed as a callable, or by name through `custom_objects`."
    )


def _lookup(name, custom_objects=None):
    found = find_registered(name, custom_objects)
    if found is not None:
        return found
    if name in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[name]
    raise _unknown(name, custom_objects)


def serialize(activation):
    """Return the config of ``activation``: its name for a built-in, a dict otherwise.

    Args:
        activation: an activation function (or a callable object with ``get_config``).

    Returns:
        A string (built-in activations) or a dict
        ``{"module", "class_name", "config", "registered_name"}`` (custom ones).

    Example:
    >>> from lamina import activations
    >>> activations.serialize(activations.relu)
    'relu'
    >>> activations.serialize(activations.swish)
    'silu'
    """
    if isinstance(activation, types.FunctionType):
        name = activation.__name__
        if ALL_OBJECTS_DICT.get(name) is activation:
            return name
        return {"module": activation.__module__, "class_name": "function", "config": name,
                "registered_name": registered_name(activation)}
    if hasattr(activation, "get_config"):
        cls = type(activation)
        return {"module": cls.__module__, "class_name": cls.__name__,
                "config": activation.get_config(), "registered_name": registered_name(cls)}
    raise ValueError(
        f"activations.serialize: cannot serialize {activation!r}. Expected an activation function "
        "or an object with `get_config()`."
    )


def deserialize(config, custom_objects=None):
    """Return the activation function described by ``config``.

    Args:
        config: a name (``"relu"``) or a dict as returned by ``serialize``.
        custom_objects: optional dict of name -> custom function or class.

    Example:
    >>> from lamina import activations
    >>> activations.deserialize("relu") is activations.relu
    True
    >>> activations.deserialize({"class_name": "function", "config": "tanh"}) is activations.tanh
    True
    """
    if isinstance(config, str):
        return _lookup(config, custom_objects)
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(
                f"activations.deserialize: a dict config needs a 'class_name' key, but received {config!r}."
            )
        class_name, inner = config["class_name"], config.get("config")
        if class_name in ("function", "builtins.function"):
            if not isinstance(inner, str):
                raise ValueError(
                    f"activations.deserialize: a function config must name the function, but received {config!r}."
                )
            registered = config.get("registered_name")
            name = registered if registered and find_registered(registered, custom_objects) else inner
            return _lookup(name, custom_objects)
        obj = _lookup(class_name, custom_objects)
        if isinstance(obj, type):
            inner = inner or {}
            return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
        return obj
    raise ValueError(
        f"activations.deserialize: expected a string or a dict config, but received {config!r}."
    )


def get(identifier):
    """Return the activation function for ``identifier``.

    Args:
        identifier: None (gives ``linear``), a name, a dict config, or a callable
            (returned as is).

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
    >>> from lamina import activations
    >>> activations.get("swish") is activations.silu
    True
    >>> activations.get(None) is activations.linear
    True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. Expected None, a "
        "name such as 'relu', a config dict or a callable."
    )


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize"]
