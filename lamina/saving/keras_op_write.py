"""Op nodes of a Functional config (``x + 1``, ``ops.concatenate``...) in the layout Keras 3 writes.

lamina records an op called on symbolic tensors as an ``__operation__`` entry naming a ``lamina.ops``
function, with all the call's arguments in its inbound node. Keras 3 records it as an object of the op's
class (``keras.src.ops.numpy.Concatenate``): the class's constructor arguments (``axis``) in ``config``, the
arguments of its ``call`` (the tensors) in the node. ``keras_op_entry`` converts the former into the latter
using ``keras_op_table`` (the argument layout of Keras's op classes); ``keras_op_nodes.adapt_op_entry``
converts back when a file is read.

An op that Keras has no class for, or whose arguments do not fit that class (a lamina-only argument set to a
value other than its default), keeps lamina's layout: lamina reads the file, Keras cannot.

Example:
>>> from lamina.saving.keras_op_write import keras_op_entry
>>> t = {"class_name": "__keras_tensor__", "config": {"shape": [None, 2], "dtype": "float32",
...      "keras_history": ["x", 0, 0]}}
>>> entry = {"module": "lamina.ops", "class_name": "__operation__", "registered_name": None,
...          "config": {"function": "concatenate", "name": "concatenate"}, "name": "concatenate",
...          "inbound_nodes": [{"args": [[t, t]], "kwargs": {"axis": -1}}]}
>>> out = keras_op_entry(entry)
>>> out["module"], out["class_name"], out["config"], out["inbound_nodes"][0]["kwargs"]
('keras.src.ops.numpy', 'Concatenate', {'name': 'concatenate', 'axis': -1}, {})
"""

import inspect

from lamina.saving.keras_op_table import ALIASES, OPS, REQUIRED

_MISSING = object()
_index = None


def _squash(name):
    return name.replace("_", "").lower()


def keras_class_name(fn_name):
    """The name of Keras 3's op class for the lamina op ``fn_name`` (None when Keras has none)."""
    global _index
    if _index is None:
        _index = {_squash(name): name for name in OPS}
    if fn_name in ALIASES:
        return ALIASES[fn_name]
    return _index.get(_squash(fn_name))


def keras_slices(value):
    """lamina writes a slice as ``{"__slice__", config: [start, stop, step]}``; Keras with named fields."""
    if isinstance(value, list):
        return [keras_slices(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "__slice__" and isinstance(value.get("config"), list):
        return {"class_name": "__slice__", "config": dict(zip(("start", "stop", "step"), value["config"]))}
    return {k: keras_slices(v) for k, v in value.items()}


def _holds_tensor(value):
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__" or any(_holds_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(v) for v in value)
    return False


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _split_node(signature, init, call, node):
    """Return ``(config, args, kwargs)`` of one node in Keras's layout, or None when it does not fit."""
    try:
        given = dict(signature.bind(*node.get("args", []), **node.get("kwargs", {})).arguments)
    except TypeError:
        return None
    params = signature.parameters

    def lamina_default(name):
        p = params.get(name)
        if p is None or p.default is inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return _MISSING
        return p.default

    config = {}
    for name, keras_default in init:
        if name in given:
            config[name] = _plain(given.pop(name))
        elif lamina_default(name) is not _MISSING:
            config[name] = _plain(lamina_default(name))
        elif keras_default != REQUIRED:
            config[name] = keras_default
        else:
            return None
    if _holds_tensor(config):
        return None  # Keras keeps constructor arguments as plain values (``trapezoid(y, x=tensor)``)
    if config.get("data_format", "") is None:  # Keras's functions resolve it before building the op
        from lamina import config as lamina_config

        config["data_format"] = lamina_config.image_data_format()
    values, unmatched = {}, []
    for name, _ in call:
        key = name.lstrip("*")
        if key in given:
            values[name] = given.pop(key)
        elif lamina_default(key) is not _MISSING:  # Keras's functions pass every call argument
            values[name] = lamina_default(key)
        else:
            unmatched.append(name)
    # Keras's call may name a tensor otherwise (``Stack.call(xs)`` for ``stack(x)``): the remaining
    # arguments of lamina's op fill the remaining ones, in order.
    for name in list(unmatched):
        if not given:
            break
        values[name] = given.pop(next(iter(given)))
        unmatched.remove(name)
    for key, value in given.items():  # lamina-only arguments: fine only at lamina's default
        if value is not lamina_default(key) and value != lamina_default(key):
            return None
    args, kwargs, skipped = [], {}, False
    for name, keras_default in call:
        if name not in values:
            if keras_default == REQUIRED:
                return None
            skipped = True  # left to Keras's default: the arguments after it go by name
        elif name.startswith("*"):
            if skipped:
                return None
            args.extend(values[name])
        elif skipped:
            kwargs[name] = values[name]
        else:
            args.append(values[name])
    return config, args, kwargs


def keras_op_entry(entry):
    """Return lamina's ``__operation__`` graph entry in Keras 3's layout (None when Keras cannot express it)."""
    from lamina import ops

    fn_name = (entry.get("config") or {}).get("function")
    class_name = keras_class_name(fn_name) if isinstance(fn_name, str) else None
    fn = getattr(ops, fn_name, None) if class_name else None
    if fn is None or not callable(fn):
        return None
    family, init, call = OPS[class_name]
    signature = inspect.signature(getattr(fn, "__wrapped__", fn))
    config, nodes = None, []
    for node in entry.get("inbound_nodes") or []:
        split = _split_node(signature, init, call, node)
        if split is None or (config is not None and split[0] != config):
            return None  # Keras keeps one set of constructor arguments per op
        config = split[0]
        nodes.append({"args": keras_slices(split[1]), "kwargs": keras_slices(split[2])})
    name = entry.get("name") or entry["config"].get("name")
    return {"module": f"keras.src.ops.{family}", "class_name": class_name,
            "config": {"name": name, **(config or {})}, "registered_name": class_name, "name": name,
            "inbound_nodes": nodes}
