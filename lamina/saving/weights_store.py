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


# Modules of lamina's framework classes, whose properties are not children (Keras skips a base Layer's).
_FRAMEWORK = ("lamina.layers.layer", "lamina.ops.", "lamina.models.", "lamina.training.", "lamina.saving.")


def _sublayer_properties(cls):
    """Public properties that classes below lamina's framework classes define (``query_dense``...)."""
    names = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith(_FRAMEWORK) or klass is object:
            continue
        names.update(n for n, v in vars(klass).items() if isinstance(v, property) and not n.startswith("_"))
    return names


def _children(obj, legacy=False):
    """Yield ``(attribute, child)`` pairs in Keras 3's order; ``child`` is a Layer or a list of Layers.

    As Keras 3 (which walks ``dir(obj)``): public names first, sorted, then private ones; public properties
    count (``MultiHeadAttention.query_dense``), and a subclassed model's ``layers`` (every layer it tracks, in
    order) sits among them, so a layer first reached through it (an attribute named after "layers",
    ``self.mlp``) is saved as ``layers/<class name>_<n>``. ``legacy=True``: the paths of earlier lamina files
    (instance attributes only).
    """
    from lamina.layers.layer import Layer
    from lamina.models.model import Model

    graph = hasattr(obj, "_graph_layers") or hasattr(obj, "_stack")  # Functional / Sequential
    if graph:
        yield "layers", [layer for layer in obj.layers if isinstance(layer, Layer)]
    getters = {}
    if not legacy:
        for name in _sublayer_properties(type(obj)):
            getters[name] = lambda name=name: getattr(obj, name)
        if isinstance(obj, Model) and not graph:
            getters["layers"] = lambda: list(obj.layers)
    for attr in sorted(set(vars(obj)) | set(getters), key=lambda a: f"~{a}" if a.startswith("_") else a):
        if attr in _SKIP_ATTRS or attr.startswith("__"):
            continue
        if attr in getters:
            try:
                value = getters[attr]()
            except Exception:  # a property that cannot be read now holds no layer to save
                continue
        else:
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


def walk(model, legacy=False):
    """Return ``[(path, layer)]`` for the model and every layer in it, each once (Keras 3's paths; with
    ``legacy=True`` those of files lamina wrote before it followed Keras for properties and ``layers``)."""
    out, seen = [], set()

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        out.append((path, obj))
        for attr, child in _children(obj, legacy):
            base = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                # As Keras 3: layers in a list are keyed by class name and a counter (over the whole list,
                # layers saved already included), never by their (auto-generated) names.
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
        if _loss_scaled(optimizer):
            inner = optimizer.inner_optimizer
            inner_arrays = [np.asarray(inner.variables[j].numpy()) for j in optimizer_keras_order(inner)]
            # Keras's LossScaleOptimizer: its own (unused) iteration count and learning rate, its step counter
            # and scale, then the inner optimizer's variables, which it also writes under inner_optimizer/.
            own = [np.asarray(inner._iterations.numpy()).astype("int64"), np.zeros((), "float32"),
                   np.asarray(optimizer.step_counter.numpy()), np.asarray(optimizer.dynamic_scale.numpy())]
            yield "optimizer/vars", optimizer.name, {str(i): a for i, a in enumerate(own + inner_arrays)}
            yield "optimizer/inner_optimizer/vars", inner.name, {str(i): a for i, a in enumerate(inner_arrays)}
            return
        variables = optimizer.variables
        yield "optimizer/vars", optimizer.name, {str(i): np.asarray(variables[j].numpy())
                                                 for i, j in enumerate(optimizer_keras_order(optimizer))}


def _loss_scaled(optimizer):
    """Whether ``optimizer`` is a LossScaleOptimizer (saved in Keras's layout of one)."""
    return all(hasattr(optimizer, a) for a in ("inner_optimizer", "step_counter", "dynamic_scale"))


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
    legacy = None
    for path, layer in walk(model):
        where = _vars_path(path)
        group = _group(f, where)
        if group is None:  # a file lamina wrote before it followed Keras's paths for properties and `layers`
            legacy = legacy if legacy is not None else {id(obj): p for p, obj in walk(model, legacy=True)}
            if id(layer) in legacy and _group(f, _vars_path(legacy[id(layer)])) is not None:
                where = _vars_path(legacy[id(layer)])
                group = _group(f, where)
        try:
            _load_layer(layer, group, source, where)
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
        inner_group = _group(group.parent, "inner_optimizer/vars") if hasattr(group, "parent") else None
        if _loss_scaled(optimizer) and inner_group is not None:  # Keras's layout (see entries)
            inner = optimizer.inner_optimizer
            inner_vars = [inner.variables[j] for j in optimizer_keras_order(inner)]
            if count != 4 + len(inner_vars):
                raise file_error(source, f"'optimizer/vars' holds {count} arrays, but a LossScaleOptimizer "
                                 f"over this model's {type(inner).__name__} has {4 + len(inner_vars)}.")
            _load_vars(inner_group, inner_vars, source, "optimizer/inner_optimizer/vars")
            for key, v in (("2", optimizer.step_counter), ("3", optimizer.dynamic_scale)):
                v.assign(read_dataset(group[key], source, f"optimizer/vars/{key}", tuple(v.shape),
                                      np.dtype(_np_dtype(v)), target=v.path))
            return
        variables = optimizer.variables
        order = optimizer_keras_order(optimizer)
        if inner_group is not None and not _loss_scaled(optimizer):
            # A LossScaleOptimizer's state (Keras wraps the optimizer under "mixed_float16") for this model's
            # plain optimizer: the wrapped optimizer's variables are the ones to restore.
            group, where = inner_group, "optimizer/inner_optimizer/vars"
        else:
            where = "optimizer/vars"
        _load_vars(group, [variables[j] for j in order], source, where)
    except ValueError as e:
        if strict:
            raise
        warnings.warn(f"The optimizer state in '{source}' was not loaded (the optimizer differs from the one "
                      f"saved): {e} Training resumes with a fresh optimizer state.", stacklevel=3)
