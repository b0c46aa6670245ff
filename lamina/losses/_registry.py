"""Name lookup and config (de)serialization shared by losses, metrics and optimizers.

Names are resolved only through lamina's own tables, the caller's
``custom_objects`` and objects registered with ``lamina.saving``; nothing named
in a config is ever imported.
"""

import difflib


def registered_object(name, custom_objects=None):
    """Return a user object registered under ``name`` (custom_objects, then lamina.saving), or None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    try:
        from lamina import saving
    except ImportError:  # pragma: no cover - saving is optional while lamina is being assembled
        return None
    getter = getattr(saving, "get_registered_object", None)
    return getter(name) if getter is not None else None


def unknown_name_error(kind, name, table):
    """Return a ``ValueError`` for an unknown ``name``, with close matches from ``table``."""
    found = difflib.get_close_matches(str(name), list(table), n=6, cutoff=0.6)
    found += difflib.get_close_matches(str(name).lower(), [k.lower() for k in table], n=3, cutoff=0.6)
    close, seen = [], set()
    for c in found:
        if c.lower() not in seen:
            seen.add(c.lower())
            close.append(c)
    close = close[:3]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    article = "an" if kind[:1] in "aeiou" else "a"
    return ValueError(
        f"Could not interpret {kind} identifier: unknown {kind} {name!r}.{hint} Pass one of lamina's "
        f"{kind} names, {article} {kind} instance or a callable, or register a custom {kind} with "
        "`lamina.saving.register_serializable` (or pass it in `custom_objects`)."
    )


def serialize(obj, module):
    """Return the config dict of a loss/metric/optimizer object or a named function."""
    if obj is None or isinstance(obj, str):
        return obj
    if not hasattr(obj, "get_config"):
        name = getattr(obj, "__name__", None)
        if callable(obj) and name:
            return {"module": module, "class_name": "function", "config": name, "registered_name": name}
        raise TypeError(f"Cannot serialize {obj!r}: it is not a {module} object or a named function.")
    registered = getattr(type(obj), "_registered_name", None)
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": registered,
    }


def deserialize(config, table, kind, custom_objects=None, lower=False):
    """Create the object a ``serialize`` dict describes, resolving names through ``table`` only."""
    if config is None:
        return None
    if isinstance(config, str):
        return lookup(config, table, kind, custom_objects, lower)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not deserialize {kind}: expected a name or a dict with 'class_name' and 'config', "
            f"but received {config!r:.200}."
        )
    if config["class_name"] == "function":
        return lookup(config["config"], table, kind, custom_objects, lower)
    name = config.get("registered_name") or config["class_name"]
    cls = registered_object(name, custom_objects) or registered_object(config["class_name"], custom_objects)
    if cls is None:
        cls = lookup(config["class_name"], table, kind, None, lower)
    inner = config.get("config") or {}
    if hasattr(cls, "from_config"):
        return cls.from_config(inner)
    return cls(**inner)


def lookup(name, table, kind, custom_objects=None, lower=False):
    """Return the class or function ``table`` holds for ``name``; a ValueError with suggestions if none."""
    obj = registered_object(name, custom_objects)
    if obj is not None:
        return obj
    key = name.lower() if lower else name
    if key in table:
        return table[key]
    raise unknown_name_error(kind, name, table)
