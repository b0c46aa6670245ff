"""Object configs: ``{"class_name", "config", "module", "registered_name"}``.

Deserialization never imports modules named in a config: class names are looked
up in lamina's own classes, objects registered with ``register_serializable``,
and ``custom_objects`` the caller passes.
"""

import difflib
import threading
import types

_REGISTERED = {}
_SCOPE = threading.local()


def register_serializable(package="Custom", name=None):
    """Class decorator: make a custom class loadable from configs as ``package>name``.

    Example:
    >>> import lamina
    >>> @lamina.saving.register_serializable(package="demo")
    ... class Double(lamina.layers.Layer):
    ...     def call(self, x):
    ...         return x * 2
    >>> lamina.saving.get_registered_name(Double)
    'demo>Double'
    """
    def decorator(cls):
        key = f"{package}>{name or cls.__name__}"
        _REGISTERED[key] = cls
        cls._registered_name = key
        return cls
    return decorator


def get_registered_name(obj):
    """Return the name ``obj`` (a class, instance or function) is registered under (else its own name)."""
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return getattr(obj, "__dict__", {}).get("_registered_name", obj.__name__)
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__dict__.get("_registered_name", cls.__name__)


def serialize_function(fn):
    """Config of a plain function, in Keras 3's form: its (registered) name, never its code.

    Example:
    >>> import lamina
    >>> @lamina.saving.register_serializable(package="demo")
    ... def triple(x):
    ...     return x * 3
    >>> lamina.saving.serialization.serialize_function(triple)["config"]
    'demo>triple'
    """
    name = get_registered_name(fn) if callable(fn) else str(fn)
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
            "registered_name": name}


def function_names(config):
    """The names a function config (``serialize_function``'s dict, or a bare name) may be registered under."""
    if isinstance(config, str):
        return [config]
    if isinstance(config, dict) and config.get("class_name") == "function":
        return [n for n in (config.get("config"), config.get("registered_name")) if isinstance(n, str)]
    return []


def resolve_function(config, custom_objects=None, who="a config"):
    """Return the registered function a function config names (a callable passes through).

    Only functions registered with ``register_serializable``, in an active
    ``custom_object_scope`` or in ``custom_objects`` resolve; code is never loaded.

    Raises:
        ValueError: for serialized bytecode, or a name that is not registered.
    """
    if callable(config):
        return config
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        raise ValueError(f"{who} holds serialized Python bytecode ('__lambda__'); lamina never runs code "
                         "stored in a config. Re-create the layer in code.")
    names = function_names(config)
    for name in names:
        fn = get_registered_object(name, custom_objects)
        if callable(fn):
            return fn
    shown = names[0] if names else config
    raise ValueError(
        f"{who} uses the function {shown!r:.80}, which is not a registered object. lamina never loads code "
        "from a config: define the function in your program and register it with "
        "@lamina.saving.register_serializable() (or pass custom_objects={'" + str(shown)[:40] + "': fn}).")


def get_registered_object(name, custom_objects=None):
    """Return the class registered as ``name``, or None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in getattr(_SCOPE, "stack", []):
        if name in scope:
            return scope[name]
    return _REGISTERED.get(name)


def get_custom_objects():
    """Return the global dict of registered custom objects (name -> class)."""
    return _REGISTERED


class CustomObjectScope:
    """Within this scope, configs may name the given custom objects.

    Example:
    >>> import lamina
    >>> with lamina.saving.CustomObjectScope({"MyLayer": lamina.layers.Dense}):
    ...     lamina.saving.get_registered_object("MyLayer") is lamina.layers.Dense
    True
    """

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        if not hasattr(_SCOPE, "stack"):
            _SCOPE.stack = []
        _SCOPE.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPE.stack.pop()
        return False


custom_object_scope = CustomObjectScope


def _builtin_classes():
    import lamina
    from lamina import layers, models

    table = {}
    for module in (layers, models, getattr(lamina, "losses", None), getattr(lamina, "metrics", None),
                   getattr(lamina, "optimizers", None), getattr(lamina, "initializers", None),
                   getattr(lamina, "regularizers", None), getattr(lamina, "constraints", None),
                   getattr(lamina, "distillation", None)):
        if module is None:
            continue
        for k in dir(module):
            v = getattr(module, k)
            if isinstance(v, type):
                table.setdefault(k, v)
    from lamina.utils import feature_space  # lamina.utils.FeatureSpace and its Feature/Cross specs

    for cls in (feature_space.FeatureSpace, feature_space.Feature, feature_space.Cross):
        table.setdefault(cls.__name__, cls)
    # ConvNeXt's layers, which Keras saves under their bare class names (its applications do not register
    # them): a ConvNeXt file must load in a process that has not built one (the module registers them too)
    from lamina.applications import _blocks

    table.setdefault("LayerScale", _blocks.LayerScale)
    table.setdefault("StochasticDepth", _blocks.StochasticDepth)
    # The pass-through and concatenation layers of Keras's FeatureSpace (in its models' files)
    table.setdefault("TFDIdentity", layers.Identity)
    table.setdefault("TFDConcat", layers.Concatenate)
    return table


def serialize_object(obj):
    """Return the config dict of ``obj`` (None, numbers and strings pass through).

    Example:
    >>> import lamina
    >>> cfg = lamina.saving.serialize_object(lamina.layers.Dense(3, name="d"))
    >>> cfg["class_name"], cfg["config"]["units"]
    ('Dense', 3)
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_object(v) for k, v in obj.items()}
    if not hasattr(obj, "get_config"):
        name = getattr(obj, "__name__", None)
        if callable(obj) and name:
            return name
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config().")
    config = {
        "module": type(obj).__module__,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": get_registered_name(obj),
    }
    if hasattr(obj, "get_build_config") and obj.get_build_config() is not None:
        config["build_config"] = obj.get_build_config()
    return config


def deserialize_object(config, custom_objects=None):
    """Create the object described by ``config`` (from ``serialize_object``).

    Only lamina's classes, registered classes and ``custom_objects`` can be
    created; no module named in the config is ever imported.
    """
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize_object expected a dict with a 'class_name', but received {config!r:.200}.")
    name = config.get("registered_name") or config["class_name"]
    cls = get_registered_object(name, custom_objects) or get_registered_object(config["class_name"], custom_objects)
    if cls is None:
        table = _builtin_classes()
        cls = table.get(config["class_name"])
        if cls is None:
            close = difflib.get_close_matches(config["class_name"], list(table) + list(_REGISTERED), n=3)
            raise ValueError(
                f"Could not find class '{name}' while loading a config. Register custom classes with "
                f"@lamina.saving.register_serializable() or pass custom_objects={{'{config['class_name']}': cls}}."
                + (f" Close matches: {close}." if close else "")
            )
    inner = dict(config.get("config") or {})
    # custom_objects reach the configs nested in this one (a model's layers, a layer's sublayers) through
    # the scope, whichever way the class's from_config deserializes them
    with CustomObjectScope(custom_objects):
        obj = cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    build = config.get("build_config")
    if build and hasattr(obj, "build_from_config"):
        obj.build_from_config(build)
    return obj
