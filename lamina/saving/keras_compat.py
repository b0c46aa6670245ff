"""Reading configs and optimizer state written by Keras 3 and tf.keras 2.

* ``adapt_config``: Keras writes a few settings lamina has no use for (``ragged``,
  ``lora_rank``...) and dtype policies as objects (quantized ones and ``quantization_config``
  pass through to the layers that read them); Keras 2 wrote
  Functional nodes as ``[[name, node, tensor, kwargs], ...]``. This turns such a
  config into lamina's layout, refusing a setting lamina cannot honour. Keras 3's
  op nodes in Functional graphs are mapped to lamina's ops (``keras_op_nodes``).
* ``find_code``: finds serialized Python code (Keras's ``__lambda__`` bytecode,
  Lambda layers) so the loader can refuse it.
* ``optimizer_keras_order``: Keras creates some optimizer slots together and
  interleaves them per variable (Adam: ``m0, v0, m1, v1``); lamina creates them
  slot by slot (``m0, m1, v0, v1``). Files hold Keras's order.
"""

from lamina.saving.keras_op_nodes import adapt_op_entry, is_keras_op_entry

# Keras-only settings lamina accepts when they hold their neutral value.
_NEUTRAL = {
    "ragged": (False, None),
    "lora_rank": (None,),
    "lora_alpha": (None,),
    "shared_object_id": None,  # any value: only an identity marker
    "optional": (False,),
}

# Slot kinds that Keras creates in one ``add_optimizer_variables`` call, so interleaves.
_INTERLEAVED = [("momentum", "velocity"), ("momentum", "norm"), ("accumulator", "linear"),
                ("accumulated_grad", "accumulated_delta_var")]


def adapt_config(config, where="config"):
    """Return a copy of a (Keras or lamina) object config in lamina's layout.

    Example:
    >>> from lamina.saving.keras_compat import adapt_config
    >>> adapt_config({"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "ragged": False,
    ...     "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}}})
    {'class_name': 'InputLayer', 'config': {'batch_shape': [None, 3], 'dtype': 'float32'}}
    """
    if isinstance(config, list):
        return [adapt_config(c, where) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(config.get("config"), dict):
        return config["config"].get("name", "float32")
    out = {}
    for key, value in config.items():
        if key in _NEUTRAL:
            allowed = _NEUTRAL[key]
            if allowed is None or value in allowed:
                continue
            raise ValueError(
                f"The {where} sets '{key}'={value!r}, a Keras feature lamina does not support yet. Remove the "
                "setting (or re-save the model without it) to load the model in lamina.")
        out[key] = adapt_config(value, where)
    inner = out.get("config")
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        layers = [_adapt_nodes(layer) for layer in inner["layers"]]
        if layers != inner["layers"]:  # a Keras 2 graph: one input/output was written as a list of one
            for key in ("input_layers", "output_layers"):
                io_list = inner.get(key)
                if isinstance(io_list, list) and len(io_list) == 1 and isinstance(io_list[0], list):
                    inner[key] = io_list[0]
        # Keras 3 op nodes (``x + y``, ``ops.concatenate``...) become lamina.ops operations.
        inner["layers"] = [adapt_op_entry(layer) if is_keras_op_entry(layer) else layer for layer in layers]
    return out


def _adapt_nodes(layer):
    """Convert Keras 2 ``inbound_nodes`` (lists of ``[name, node, tensor, kwargs]``) to Keras 3's layout."""
    nodes = layer.get("inbound_nodes") if isinstance(layer, dict) else None
    if not nodes or not isinstance(nodes, list) or isinstance(nodes[0], dict):
        return layer
    new_nodes = []
    for node in nodes:
        if not isinstance(node, list):
            raise ValueError(f"Layer '{layer.get('name')}' has an inbound node of unknown layout: {node!r:.100}.")
        tensors, kwargs = [], {}
        for entry in node:
            if not (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[0], str)):
                raise ValueError(f"Layer '{layer.get('name')}' has an inbound tensor of unknown layout: "
                                 f"{entry!r:.100}.")
            tensors.append({"class_name": "__keras_tensor__",
                            "config": {"keras_history": [entry[0], int(entry[1]), int(entry[2])]}})
            if len(entry) > 3 and isinstance(entry[3], dict):
                kwargs.update(entry[3])
        args = [tensors[0]] if len(tensors) == 1 else [tensors]
        new_nodes.append({"args": args, "kwargs": kwargs})
    return dict(layer, inbound_nodes=new_nodes)


def find_code(config, trail="config", allow_lambda=None):
    """Return a description of the first serialized code in ``config`` (None when there is none).

    ``allow_lambda(layer_config)`` may accept a Lambda layer (one whose function the
    user registered); serialized bytecode is always reported.

    Example:
    >>> from lamina.saving.keras_compat import find_code
    >>> find_code({"class_name": "Dense", "config": {"activation": {"class_name": "__lambda__"}}})
    "serialized Python bytecode ('__lambda__') at config.config.activation"
    """
    if isinstance(config, dict):
        name = config.get("class_name")
        if name == "__lambda__":
            return f"serialized Python bytecode ('__lambda__') at {trail}"
        if name == "Lambda" and not (allow_lambda and allow_lambda(config.get("config"))):
            layer = (config.get("config") or {}).get("name", "?")
            return f"a Lambda layer ('{layer}') at {trail}, whose function is Python code"
        for k, v in config.items():
            found = find_code(v, f"{trail}.{k}", allow_lambda)
            if found:
                return found
    elif isinstance(config, list):
        for i, v in enumerate(config):
            found = find_code(v, f"{trail}[{i}]", allow_lambda)
            if found:
                return found
    return None


def optimizer_keras_order(optimizer):
    """Return indices into ``optimizer.variables`` listing them in Keras's order.

    Variables whose name does not follow lamina's ``<optimizer>/<reference>_<slot>``
    pattern keep their place.
    """
    variables = optimizer.variables
    refs = [str(getattr(v, "path", None) or v.name).replace("/", "_")
            for v in getattr(optimizer, "_trainable_variables", [])]
    prefix = optimizer.name + "/"
    parsed = []  # (index, ref_index, slot) for slot variables
    head = []
    # A slot knows its variable: exact where two variables share a path (the sublayers of two attention layers)
    index_of = {id(t): r for r, t in enumerate(getattr(optimizer, "_trainable_variables", []))}
    for i, v in enumerate(variables):
        name = str(v.name)
        rest = name[len(prefix):] if name.startswith(prefix) else name
        match = max((r for r in range(len(refs)) if rest.startswith(refs[r] + "_")),
                    key=lambda r: len(refs[r]), default=None)
        if match is not None:
            match = index_of.get(id(getattr(v, "_reference", None)), match)
        if match is None:
            head.append(i)
        else:
            parsed.append((i, match, rest[len(refs[match]) + 1:]))
    kinds = []
    for _, _, slot in parsed:
        if slot not in kinds:
            kinds.append(slot)
    order = list(head)
    k = 0
    while k < len(kinds):
        group = [kinds[k]]
        if k + 1 < len(kinds) and (kinds[k], kinds[k + 1]) in _INTERLEAVED:
            group.append(kinds[k + 1])
        members = [(ref, group.index(slot), i) for i, ref, slot in parsed if slot in group]
        order.extend(i for _, _, i in sorted(members))
        k += len(group)
    # Keras's Nadam creates its ``u_product`` after the slots, so it comes last in Keras's files.
    last = [i for i in order if str(variables[i].name).endswith("/u_product")]
    order = [i for i in order if i not in last] + last
    if sorted(order) != list(range(len(variables))):  # pragma: no cover - defensive
        return list(range(len(variables)))
    return order
