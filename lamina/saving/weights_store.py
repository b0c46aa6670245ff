"""Model and optimizer variables in Keras 3's HDF5 layout (``model.weights.h5``, ``*.weights.h5``).

Each layer's own variables go to ``<path>/vars/0``, ``<path>/vars/1``... where the
path follows Keras 3: the layers of a Sequential or Functional model are under
``layers/<class name>`` (``layers/dense``, ``layers/dense_1``, ... counted per model, so two
instances of one architecture share paths whatever their layers' names), a sub-layer held
in an attribute under ``<attribute>`` (a list of them likewise by class), the model's own variables
under ``vars`` and the optimizer's under ``optimizer/vars`` (in Keras's order,
see ``keras_compat.optimizer_keras_order``).

Loading checks every dataset's shape against the variable it is for before
reading it, and names the file, the path and both shapes when they differ.

Example:
>>> import io, h5py, lamina
>>> from lamina.saving import weights_store
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="d")])
>>> buf = io.BytesIO()
>>> with h5py.File(buf, "w") as f:
...     weights_store.save_to_h5(model, f)
...     sorted(f["layers/dense/vars"])
['0', '1']
"""

import warnings

import numpy as np

from lamina.saving.file_safety import FileLoadError, file_error, read_dataset
from lamina.saving.layer_store import LoadStore, SaveStore, write_array
from lamina.saving.keras_compat import optimizer_keras_order
from lamina.utils.naming import to_snake_case

# lamina-internal attributes that hold layers already reached another way.
_SKIP_ATTRS = {"_tracked", "_stack", "_input_layer", "_input_layers", "_graph_layers", "_steps",
               "_output_layers", "_inbound_nodes", "_outbound_nodes", "_loss_tracker",
               "_output_loss_trackers", "compiled_loss", "compiled_metrics", "optimizer", "_history"}
_WEIGHT_ROLES = ("trainable", "non_trainable")


def own_variables(layer):
    """The variables a layer saves itself (its weights, in creation order; no seed or metric state)."""
    state = layer._own_state() if hasattr(layer, "_own_state") else list(layer._own_variables)
    return [v for v in state if v.role in _WEIGHT_ROLES]


def _children(obj):
    """Yield ``(attribute, child)`` pairs in Keras 3's order; ``child`` is a Layer or a list of Layers."""
    from lamina.layers.layer import Layer

    if hasattr(obj, "_graph_layers") or hasattr(obj, "_stack"):  # Functional / Sequential
        yield "layers", [layer for layer in obj.layers if isinstance(layer, Layer)]
    for attr in sorted(vars(obj), key=lambda a: f"~{a}" if a.startswith("_") else a):  # private last
        if attr in _SKIP_ATTRS or attr.startswith("__"):
            continue
        value = vars(obj)[attr]
        if isinstance(value, Layer):
            yield attr, value
        elif isinstance(value, (list, tuple)):
            layers = [v for v in value if isinstance(v, Layer)]
            if layers:
                yield attr, layers
        elif isinstance(value, dict):
            layers = [v for v in value.values() if isinstance(v, Layer)]
            if layers:
                yield attr, layers


def walk(model):
    """Return ``[(path, layer)]`` for the model and every layer in it, each once (Keras 3's paths)."""
    out, seen = [], set()

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        out.append((path, obj))
        for attr, child in _children(obj):
            base = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                # As Keras 3: layers in a list are keyed by class name and a counter, never by their
                # (auto-generated, so not reproducible) names.
                used = {}
                for layer in child:
                    key = to_snake_case(type(layer).__name__)
                    used[key] = used.get(key, -1) + 1
                    visit(layer, f"{base}/{key}" + (f"_{used[key]}" if used[key] else ""))
            else:
                visit(child, base)

    visit(model, "")
    return out


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def _hook_store(layer):
    """The arrays ``layer.save_own_variables`` writes (its own weights, unless it overrides the hook)."""
    store = SaveStore(layer)
    if hasattr(layer, "save_own_variables"):
        layer.save_own_variables(store)
    else:
        for i, v in enumerate(own_variables(layer)):
            store[str(i)] = v
    return store


def entries(model, include_optimizer=True):
    """Yield ``(group path, object name, {key: array})`` for every variable group ``save_to_h5`` writes."""
    for path, layer in walk(model):
        yield _vars_path(path), layer.name, dict(_hook_store(layer))
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and hasattr(optimizer, "variables"):
        variables = optimizer.variables
        yield "optimizer/vars", optimizer.name, {str(i): np.asarray(variables[j].numpy())
                                                 for i, j in enumerate(optimizer_keras_order(optimizer))}


def write_entry(f, path, name, arrays):
    """Write one variable group (``entries``' item: ``arrays`` maps keys to arrays) into the h5py File ``f``."""
    group = f.create_group(path)
    group.attrs["name"] = np.bytes_(name.encode("utf8"))
    for key, value in arrays.items():
        write_array(group, key, value)


def save_to_h5(model, f, include_optimizer=True):
    """Write the model's variables (and its optimizer's) into the open h5py File ``f``."""
    for path, name, arrays in entries(model, include_optimizer):
        write_entry(f, path, name, arrays)


def _group(f, key):
    import h5py

    try:
        obj = f.get(key)
    except (KeyError, ValueError, OSError, RuntimeError):
        obj = None
    return obj if isinstance(obj, h5py.Group) else None


def _load_vars(group, variables, source, where):
    """Read ``group``'s datasets into ``variables`` after checking count and shapes (nothing assigned on error)."""
    keys = sorted((k for k in group.keys() if k.isdigit()), key=int) if group is not None else []
    if len(keys) != len(variables) or keys != [str(i) for i in range(len(keys))]:
        raise file_error(source, f"'{where}' holds {len(keys)} weight arrays, but the model's layer has "
                         f"{len(variables)} ({[str(v.path) for v in variables]}).")
    values = [read_dataset(group[str(i)], source, f"{where}/{i}", tuple(v.shape), np.dtype(_np_dtype(v)),
                           target=v.path) for i, v in enumerate(variables)]
    for v, value in zip(variables, values):
        v.assign(value)


def _np_dtype(v):
    dtype = str(v.dtype)
    return "float32" if dtype == "bfloat16" else dtype


def load_from_h5(model, f, source, skip_mismatch=False, load_optimizer=True, optimizer_required=False):
    """Read variables written by ``save_to_h5`` (or Keras 3) from ``f`` into ``model``.

    Args:
        model: the model to fill.
        f: an open h5py File (or group) in Keras 3's weights layout.
        source: the file's name, for error messages.
        skip_mismatch: skip (with a warning) layers whose weights do not match
            instead of raising.
        load_optimizer: also restore the optimizer's state when the file has it.
        optimizer_required: raise (instead of warning) when the optimizer state
            does not fit the model's optimizer.

    Raises:
        ValueError: naming ``source`` when a layer's weights are missing or
            their count or shapes differ (unless ``skip_mismatch``).
    """
    if _group(f, "layers") is None and _group(f, "vars") is None:
        raise file_error(source, "it has no 'layers' or 'vars' group, so it is not a weights file in Keras 3's "
                         "layout (for a Keras 2 '.h5' file use lamina.models.load_model or load_weights on "
                         "a '.h5' path).")
    for path, layer in walk(model):
        where = _vars_path(path)
        try:
            _load_layer(layer, _group(f, where), source, where)
        except ValueError as e:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping the weights of layer '{layer.name}' (skip_mismatch=True): {e}", stacklevel=3)
    optimizer = getattr(model, "optimizer", None)
    group = _group(f, "optimizer/vars")
    if load_optimizer and optimizer is not None and group is not None:
        load_optimizer_state(model, group, source, strict=optimizer_required and not skip_mismatch)


def _load_layer(layer, group, source, where):
    """Call ``layer.load_own_variables`` with the store of its saved group ``where``."""
    from lamina.layers.layer import Layer

    hook = getattr(type(layer), "load_own_variables", None)
    if hook is None or hook is Layer.load_own_variables:  # the default: lamina's checks and messages
        variables = own_variables(layer)
        if group is None:
            if variables:
                raise file_error(source, f"it has no weights for layer '{layer.name}' (expected the group "
                                 f"'{where}' with {len(variables)} arrays).")
            return
        keys = sorted((k for k in group.keys() if k.isdigit()), key=int)
        if keys != [str(i) for i in range(len(variables))]:
            raise file_error(source, f"'{where}' holds {len(keys)} weight arrays, but the model's layer "
                             f"'{layer.name}' has {len(variables)} ({[str(v.path) for v in variables]}).")
        store = LoadStore(group, layer, source, where, {str(i): v for i, v in enumerate(variables)})
        if hook is None:
            _load_vars(group, variables, source, where)
        else:
            layer.load_own_variables(store)
        return
    try:
        layer.load_own_variables(LoadStore(group, layer, source, where))
    except FileLoadError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise file_error(source, f"layer '{layer.name}' could not load its saved state '{where}' in its "
                         f"load_own_variables ({type(e).__name__}: {e}).") from e


def load_optimizer_state(model, group, source, strict=True):
    """Load ``optimizer/vars`` into ``model.optimizer`` (building it for the model's variables if needed)."""
    optimizer = model.optimizer
    count = len([k for k in group.keys() if k.isdigit()])
    if count != len(optimizer.variables) and not optimizer.built:
        optimizer.build(model.trainable_variables)
    try:
        variables = optimizer.variables
        order = optimizer_keras_order(optimizer)
        _load_vars(group, [variables[j] for j in order], source, "optimizer/vars")
    except ValueError as e:
        if strict:
            raise
        warnings.warn(f"The optimizer state in '{source}' was not loaded (the optimizer differs from the one "
                      f"saved): {e} Training resumes with a fresh optimizer state.", stacklevel=3)
