"""Op nodes in Functional graphs saved by Keras 3 (``x + y``, ``ops.concatenate``...).

Keras 3 saves an op called on symbolic tensors as a graph "layer" whose
``module`` is ``keras.src.ops.<family>`` and whose ``class_name`` is the op's
class (``Add``, ``Concatenate``, ``GetItem``...), with the op's constructor
arguments (``axis``...) as its ``config``. lamina records the same node as an
``__operation__`` naming a ``lamina.ops`` function; ``adapt_op_entry`` turns the
former into the latter, moving the constructor arguments into each node's call
keyword arguments.

Safety: nothing named in the file is imported. The class name is only looked
up among lamina's own public ops (functions that ``lamina.ops`` builds with
``op``); any other name is refused with an error naming the node.

Example:
>>> from lamina.saving.keras_op_nodes import adapt_op_entry
>>> entry = {"module": "keras.src.ops.numpy", "class_name": "Concatenate", "registered_name": "Concatenate",
...          "config": {"name": "concatenate", "axis": -1}, "name": "concatenate",
...          "inbound_nodes": [{"args": [["t1", "t2"]], "kwargs": {}}]}
>>> out = adapt_op_entry(entry)
>>> out["class_name"], out["config"], out["inbound_nodes"]
('__operation__', {'function': 'concatenate', 'name': 'concatenate'}, [{'args': [['t1', 't2']], 'kwargs': {'axis': -1}}])
"""

import inspect

_OP_MODULES = ("keras.src.ops.", "keras.ops.")
_registry = None


def is_keras_op_entry(entry):
    """True for a Functional graph entry that Keras 3 wrote for an op (not a layer)."""
    if not isinstance(entry, dict):
        return False
    module = entry.get("module")
    return isinstance(module, str) and (module.startswith(_OP_MODULES) or module in ("keras.ops", "keras.src.ops"))


def _op_registry():
    """Map a squashed name (``getitem``) to lamina's public op of that name (``get_item``)."""
    global _registry
    if _registry is None:
        from lamina import ops

        found = {}
        for name in dir(ops):
            fn = getattr(ops, name)
            if name.startswith("_") or not callable(fn) or not hasattr(fn, "__wrapped__"):
                continue  # only ops built by lamina.ops.operation.op (not convert_to_numpy, cond...)
            if not str(getattr(fn, "__module__", "")).startswith("lamina."):
                continue
            found[name.replace("_", "").lower()] = name
        _registry = found
    return _registry


def lamina_op_name(class_name):
    """Return the name of lamina's op for a Keras op class name, or None when lamina has none."""
    if not isinstance(class_name, str) or not class_name.isidentifier():
        return None
    return _op_registry().get(class_name.replace("_", "").lower())


def _slices(value, node_name):
    """Keras writes a slice as ``{"__slice__", config: {start, stop, step}}``; lamina as a list of three."""
    if isinstance(value, list):
        return [_slices(v, node_name) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "__slice__" and isinstance(value.get("config"), dict):
        parts = [value["config"].get(k) for k in ("start", "stop", "step")]
        if not all(p is None or (isinstance(p, int) and not isinstance(p, bool)) for p in parts):
            raise ValueError(f"Op node '{node_name}' has a slice with bounds {parts}; expected integers or None.")
        return {"class_name": "__slice__", "config": parts}
    return {k: _slices(v, node_name) for k, v in value.items()}


def adapt_op_entry(entry):
    """Return a Keras 3 op entry of a Functional config as lamina's ``__operation__`` entry.

    Raises:
        ValueError: naming the node when lamina has no such op, or when the op's
            saved arguments do not fit lamina's op.
    """
    from lamina import ops

    node_name = entry.get("name") or (entry.get("config") or {}).get("name")
    class_name = entry.get("class_name")
    fn_name = lamina_op_name(class_name)
    if fn_name is None:
        raise ValueError(f"Op node '{node_name}' is a Keras op '{class_name}' (module '{entry.get('module')}'), "
                         "which lamina does not have. Only ops of lamina.ops can be loaded.")
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"Op node '{node_name}' ({class_name}) has a config of type {type(config).__name__}; "
                         "expected a dict of the op's arguments.")
    # The op's constructor arguments (``axis``...) become call keywords; its name and an unset dtype do not.
    bound = {k: v for k, v in config.items() if k != "name" and not (k == "dtype" and v is None)}
    signature = inspect.signature(getattr(ops, fn_name))
    params = list(signature.parameters.values())
    var_at = next((i for i, p in enumerate(params) if p.kind == p.VAR_POSITIONAL), None)
    # Arguments before a *args (einsum's ``subscripts``) can only be passed positionally, ahead of the tensors.
    leading = [p.name for p in params[:var_at]] if var_at is not None else []
    nodes = []
    for node in entry.get("inbound_nodes") or []:
        if not isinstance(node, dict) or not isinstance(node.get("args", []), list) or \
                not isinstance(node.get("kwargs", {}), dict):
            raise ValueError(f"Op node '{node_name}' has an inbound node of unknown layout: {node!r:.100}.")
        args, kwargs = _slices(node.get("args", []), node_name), _slices(dict(node.get("kwargs", {})), node_name)
        clash = sorted(set(kwargs) & set(bound))
        if clash:
            raise ValueError(f"Op node '{node_name}' ({class_name}) sets {clash} both as op arguments and as call "
                             "arguments.")
        kwargs.update(bound)
        if leading and all(name in kwargs for name in leading):
            args = [kwargs.pop(name) for name in leading] + list(args)
        try:
            signature.bind(*args, **kwargs)
        except TypeError as e:
            raise ValueError(f"Op node '{node_name}' ({class_name}) saves arguments that lamina's ops.{fn_name}"
                             f"{signature} does not take: positional {len(args)}, keywords {sorted(kwargs)} "
                             f"({e}).") from None
        nodes.append({"args": args, "kwargs": kwargs})
    return {"module": "lamina.ops", "class_name": "__operation__", "registered_name": None,
            "config": {"function": fn_name, "name": node_name}, "name": node_name, "inbound_nodes": nodes}
