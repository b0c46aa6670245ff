"""Config of a Functional model: its layers, how they connect, and its inputs and outputs.

The layout is Keras 3's: ``{"name", "trainable", "layers": [{..., "name", "inbound_nodes"}],
"input_layers": [[name, node, tensor]], "output_layers": [...]}``, where each inbound node
is ``{"args": [...], "kwargs": {...}}`` and a symbolic tensor in them is
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [...]}}``.
"""

from lamina import tree
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.ops.operation import FunctionOperation

_KT = "__keras_tensor__"


def _node_indices(model):
    """Map (id(operation), original node index) -> index among the nodes of this model."""
    in_model = {id(step.node) for step in model._steps}
    for layer in model._input_layers:
        in_model.add(id(layer._inbound_nodes[0]))
    mapping = {}
    for op in model.layers + [s.operation for s in model._steps]:
        count = 0
        for i, node in enumerate(op._inbound_nodes):
            if id(node) in in_model and (id(op), i) not in mapping:
                mapping[(id(op), i)] = count
                count += 1
    return mapping


def _history(t, mapping):
    op, node_index, tensor_index = t._history
    return [op.name, mapping[(id(op), node_index)], tensor_index]


def _io_history(t, mapping):
    """``_history`` for ``input_layers``/``output_layers``: there Keras 3 counts a nested Functional model's
    nodes from 1 (its node 0 is the model's own, from its inputs to its outputs)."""
    from lamina.models.functional import Functional

    op = tuple(t._history)[0]
    name, index, tensor_index = _history(t, mapping)
    return [name, index + 1 if isinstance(op, Functional) else index, tensor_index]


def _serialize_arg(x, mapping):
    if isinstance(x, KerasTensor):
        return {"class_name": _KT, "config": {"shape": list(x.shape), "dtype": x.dtype,
                                              "keras_history": _history(x, mapping)}}
    if isinstance(x, (list, tuple)):
        return [_serialize_arg(v, mapping) for v in x]
    if isinstance(x, dict):
        return {k: _serialize_arg(v, mapping) for k, v in x.items()}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, slice):
        return {"class_name": "__slice__", "config": [x.start, x.stop, x.step]}
    raise TypeError(
        f"Cannot save the Functional model: an argument of type {type(x).__name__} ({x!r:.80}) is passed "
        "to a layer or op. Only tensors, numbers, strings and lists/dicts of them can be saved."
    )


def _operation_config(op):
    from lamina.saving.serialization import serialize_object

    if isinstance(op, FunctionOperation):
        return {"module": "lamina.ops", "class_name": "__operation__",
                "config": {"function": op.function_name, "name": op.name}, "registered_name": None}
    return serialize_object(op)


def functional_config(model):
    """Return the Keras-layout config dict of a Functional model."""
    mapping = _node_indices(model)
    ops_in_order = []
    seen = set()
    for op in model._input_layers + [s.operation for s in model._steps]:
        if id(op) not in seen:
            seen.add(id(op))
            ops_in_order.append(op)
    layers = []
    for op in ops_in_order:
        entry = dict(_operation_config(op))
        entry["name"] = op.name
        nodes = []
        for i, node in enumerate(op._inbound_nodes):
            if (id(op), i) not in mapping or node.is_input:
                continue
            nodes.append({"args": _serialize_arg(list(node.call_args), mapping),
                          "kwargs": _serialize_arg(dict(node.call_kwargs), mapping)})
        entry["inbound_nodes"] = nodes
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": tree.map_structure(lambda t: _io_history(t, mapping), _as_lists(model._inputs_struct)),
        "output_layers": tree.map_structure(lambda t: _io_history(t, mapping), _as_lists(model._outputs_struct)),
    }


def _as_lists(struct):
    if isinstance(struct, tuple):
        return [_as_lists(s) for s in struct]
    if isinstance(struct, list):
        return [_as_lists(s) for s in struct]
    if isinstance(struct, dict):
        return {k: _as_lists(v) for k, v in struct.items()}
    return struct


def keras_io_indices(config):
    """A model config from a file lamina wrote before it counted, as Keras 3 does, a nested Functional
    model's nodes from 1 in ``input_layers``/``output_layers``, converted to that count (a copy)."""
    if isinstance(config, list):
        return [keras_io_indices(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {k: keras_io_indices(v) for k, v in config.items()}
    inner = out.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list) and "output_layers" in inner:
        nested = {e.get("name") for e in inner["layers"]
                  if isinstance(e, dict) and isinstance(e.get("config"), dict) and "output_layers" in e["config"]}

        def shift(struct):
            if _is_history(struct):
                return [struct[0], struct[1] + 1, struct[2]] if struct[0] in nested else struct
            if isinstance(struct, dict):
                return {k: shift(v) for k, v in struct.items()}
            return [shift(v) for v in struct] if isinstance(struct, list) else struct

        out["config"] = dict(inner, input_layers=shift(inner.get("input_layers")),
                             output_layers=shift(inner.get("output_layers")))
    return out


def _is_history(x):
    return isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and all(isinstance(v, int) for v in x[1:])


def functional_from_config(config, custom_objects=None):
    """Rebuild a Functional model from ``functional_config``'s dict."""
    from lamina import ops
    from lamina.models.functional import Functional
    from lamina.saving.serialization import deserialize_object

    if not isinstance(config, dict) or "layers" not in config:
        raise ValueError("A Functional model config must be a dict with 'layers', 'input_layers' and 'output_layers'.")
    created = {}
    pending = []
    for entry in config["layers"]:
        name = entry.get("name") or entry.get("config", {}).get("name")
        if entry.get("class_name") == "__operation__":
            fn_name = entry["config"]["function"]
            fn = getattr(ops, fn_name, None)
            if fn is None or not callable(fn):
                raise ValueError(f"Unknown op '{fn_name}' in the model config: it is not a lamina.ops function.")
            op = FunctionOperation(getattr(fn, "__wrapped__", fn), name, fn_name)
        else:
            op = deserialize_object({k: v for k, v in entry.items() if k not in ("inbound_nodes", "name")},
                                    custom_objects=custom_objects)
        if name in created:
            raise ValueError(f"The model config has two layers named '{name}'.")
        created[name] = op
        pending.extend((name, n) for n in entry.get("inbound_nodes", []))
    outputs = {}
    for name, op in created.items():
        if hasattr(op, "batch_shape") and op._inbound_nodes:  # InputLayer: its node exists already
            outputs[(name, 0)] = [op.output]

    def resolve(x):
        if isinstance(x, dict) and x.get("class_name") == _KT:
            lname, nidx, tidx = x["config"]["keras_history"]
            return outputs[(lname, nidx)][tidx]
        if isinstance(x, dict) and x.get("class_name") == "__slice__":
            return slice(*x["config"])
        if isinstance(x, list):
            return [resolve(v) for v in x]
        if isinstance(x, dict):
            return {k: resolve(v) for k, v in x.items()}
        return x

    def ready(x):
        if isinstance(x, dict) and x.get("class_name") == _KT:
            lname, nidx, _ = x["config"]["keras_history"]
            return (lname, nidx) in outputs
        if isinstance(x, list):
            return all(ready(v) for v in x)
        if isinstance(x, dict):
            return all(ready(v) for v in x.values())
        return True

    counts = {name: (1 if (name, 0) in outputs else 0) for name in created}
    while pending:
        progressed = False
        waiting = set()  # layers with an earlier node still waiting: a layer's nodes are rebuilt in order
        for item in list(pending):
            name, node = item
            if name in waiting or not (ready(node["args"]) and ready(node["kwargs"])):
                waiting.add(name)
                continue
            op = created[name]
            out = op(*resolve(node["args"]), **resolve(node["kwargs"]))
            outputs[(name, counts[name])] = tree.flatten(out) if isinstance(out, (list, tuple, dict)) else [out]
            counts[name] += 1
            pending.remove(item)
            progressed = True
        if not progressed:
            missing = sorted({n for n, _ in pending})
            raise ValueError(f"The model config cannot be rebuilt: the inputs of layer(s) {missing} are never produced.")

    def pick(h):  # in input_layers/output_layers Keras counts a nested Functional model's nodes from 1
        shift = 1 if isinstance(created.get(h[0]), Functional) else 0
        return outputs[(h[0], h[1] - shift)][h[2]]

    def build_struct(s):
        if _is_history(s):
            return pick(s)
        if isinstance(s, dict):
            return {k: build_struct(v) for k, v in s.items()}
        return [build_struct(v) for v in s]

    inputs = build_struct(config["input_layers"])
    outs = build_struct(config["output_layers"])
    return Functional(inputs, outs, name=config.get("name"), trainable=config.get("trainable", True))
