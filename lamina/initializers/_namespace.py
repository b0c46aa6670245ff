"""Name lookup and (de)serialization for the class-based namespaces.

Used by ``lamina.initializers``, ``lamina.regularizers`` and ``lamina.constraints``.
Names resolve only through ``custom_objects``, ``lamina.saving``'s registry and
custom-object scopes, and the namespace's own table, never by importing modules
named in a config.
"""

import difflib
import inspect


def find_registered(name, custom_objects=None):
    """Return a user object for ``name`` from ``custom_objects``, a custom-object scope or
    ``lamina.saving``'s registry, or None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    try:
        from lamina.saving.serialization import get_registered_object
    except ImportError:  # saving not available: only custom_objects apply
        return None
    return get_registered_object(name)


def registered_name(obj):
    """The name a user class or function is registered under (its own name if not registered)."""
    if inspect.isfunction(obj):
        return getattr(obj, "_registered_name", obj.__name__)
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__dict__.get("_registered_name", cls.__name__)


class ObjectNamespace:
    """The ``get``/``serialize``/``deserialize`` logic of one Keras namespace.

    Args:
        kind: what the objects are, for messages (``"initializer"``).
        module: the module name written into configs (``"keras.initializers"``).
        objects: dict of name -> class (class names and snake_case aliases).
    """

    def __init__(self, kind, module, objects):
        self.kind = kind
        self.module = module
        self.objects = objects

    def _unknown(self, name, custom_objects):
        choices = sorted(set(self.objects) | set(custom_objects or {}))
        close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
        hint = f" Did you mean {close}?" if close else ""
        return ValueError(
            f"Unknown {self.kind} '{name}'.{hint} Known names: {choices}. A custom {self.kind} "
            "class can be passed as an instance, or by name through `custom_objects`."
        )

    def lookup(self, name, custom_objects=None):
        found = find_registered(name, custom_objects)
        if found is not None:
            return found
        if name in self.objects:
            return self.objects[name]
        raise self._unknown(name, custom_objects)

    def serialize(self, obj):
        if obj is None:
            return None
        if not hasattr(obj, "get_config"):
            raise ValueError(
                f"{self.module}.serialize: expected a {self.kind} with `get_config()`, "
                f"but received {obj!r}."
            )
        cls = type(obj)
        builtin = self.objects.get(cls.__name__) is cls
        return {
            "module": self.module if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": None if builtin else registered_name(cls),
        }

    def deserialize(self, config, custom_objects=None):
        if isinstance(config, str):
            config = {"class_name": config, "config": {}}
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"{self.module}.deserialize: expected a name or a dict with 'class_name' and "
                f"'config', but received {config!r}."
            )
        name = config["class_name"]
        registered = config.get("registered_name")
        if registered and find_registered(registered, custom_objects) is not None:
            name = registered
        cls = self.lookup(name, custom_objects)
        inner = config.get("config") or {}
        if not isinstance(inner, dict):
            raise ValueError(
                f"{self.module}.deserialize: 'config' of {name} must be a dict, but received {inner!r}."
            )
        if inspect.isclass(cls):
            return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
        return cls

    def get(self, identifier):
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            obj = self.deserialize(identifier)
        else:
            obj = identifier
        if inspect.isclass(obj):
            obj = obj()
        if callable(obj):
            return obj
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}. Expected None, a name, "
            f"a config dict, or a {self.kind} instance or callable."
        )
