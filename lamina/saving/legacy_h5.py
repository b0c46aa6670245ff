"""The Keras 2 (tf.keras) HDF5 format: ``save_model(model, "my_model.h5")``.

Layout: root attributes ``model_config`` (JSON), ``training_config`` (JSON),
``keras_version`` and ``backend``; the group ``model_weights`` with the attribute
``layer_names`` and, per layer, a group with the attribute ``weight_names``
(``"dense/kernel:0"``...) and a dataset per weight at that name
(``model_weights/dense/dense/kernel:0``); the group ``optimizer_weights``
likewise. A weights-only file (``save_weights("w.h5")``) has the ``layer_names``
layout at its root.

Example:
>>> import os, tempfile, warnings, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="d")])
>>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     lamina.saving.save_model(model, path)
...     loaded = lamina.saving.load_model(path)
>>> [w.shape for w in loaded.get_weights()]
[(3, 2), (2,)]
"""

import json
import warnings

import numpy as np

from lamina.saving.compile_config import compile_from_legacy, legacy_training_config
from lamina.saving.config_loading import check_and_adapt, model_from_file_config
from lamina.saving.file_safety import atomic_write, file_error, h5_errors, open_h5, parse_json, read_dataset
from lamina.saving.keras2_optimizer import load_keras2_optimizer
from lamina.saving.keras_compat import optimizer_keras_order
from lamina.saving.keras_layout import keras_layout
from lamina.saving.serialization import serialize_object


def _version():
    import lamina

    return f"lamina-{lamina.__version__}"


def _backend():
    import lamina

    return lamina.config.backend()


def _fixed(text):
    """Strings are stored fixed-length (as tf.keras did), not in HDF5's variable-length heap."""
    return np.bytes_(text.encode("utf8"))


def _weight_name(v, layer_name=None):
    """tf.keras 2's name of a weight of the top-level layer ``layer_name``: its path from that layer on
    ("hidden/kernel:0", "lstm/lstm_cell/kernel:0"), without the enclosing model's name."""
    path = str(v.path or v.name)
    if layer_name:
        parts = path.split("/")
        if layer_name in parts:
            path = "/".join(parts[parts.index(layer_name):])
    return f"{path}:0"


def _write_layers(group, layers):
    group.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in layers], dtype="S")
    group.attrs["backend"] = _fixed(_backend())
    group.attrs["keras_version"] = _fixed(_version())
    for layer in layers:
        g = group.create_group(layer.name)
        weights = layer.weights
        names = [_weight_name(v, layer.name) for v in weights]
        if len(set(names)) != len(names):
            names = [f"{layer.name}/weight_{i}:0" for i in range(len(weights))]
        g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names], dtype="S")
        for name, v in zip(names, weights):
            g.create_dataset(name, data=np.asarray(v.numpy()))


def save_weights_legacy(model, filepath):
    """Write ``model``'s weights in tf.keras 2's weights-only HDF5 layout (atomically)."""
    with atomic_write(filepath) as tmp:
        with open_h5(tmp, filepath, "w") as f:
            _write_layers(f, model.layers)


def save_legacy(model, filepath, include_optimizer=True):
    """Write ``model`` in tf.keras 2's whole-model HDF5 layout (atomically)."""
    config = keras_layout(serialize_object(model))  # Keras 3 reads it (lamina reads both layouts)
    training = legacy_training_config(model)
    with atomic_write(filepath) as tmp:
        with open_h5(tmp, filepath, "w") as f:
            f.attrs["keras_version"] = _fixed(_version())
            f.attrs["backend"] = _fixed(_backend())
            f.attrs["lamina_node_indices"] = _fixed("keras")  # see keras_archive.NODE_INDICES
            f.attrs["model_config"] = _fixed(json.dumps({"class_name": config["class_name"], "config": config["config"],
                                                  **({"build_config": config["build_config"]}
                                                     if "build_config" in config else {})}))
            if training is not None:
                f.attrs["training_config"] = _fixed(json.dumps(training))
            _write_layers(f.create_group("model_weights"), model.layers)
            optimizer = model.optimizer if training is not None and include_optimizer else None
            if optimizer is not None:
                g = f.create_group("optimizer_weights")
                variables = [optimizer.variables[j] for j in optimizer_keras_order(optimizer)]
                g.attrs["weight_names"] = np.array([str(v.name).encode("utf8") for v in variables], dtype="S")
                for v in variables:
                    g.create_dataset(str(v.name), data=np.asarray(v.numpy()))


def _attr_text(value):
    if isinstance(value, bytes):
        return value.decode("utf8")
    return str(value)


def _names(group, attr, source):
    raw = group.attrs.get(attr)
    if raw is None:
        return None
    try:
        return [_attr_text(n) for n in np.atleast_1d(raw)]
    except (TypeError, ValueError, UnicodeDecodeError):
        raise file_error(source, f"the attribute '{attr}' of '{group.name}' is not a list of names.") from None


def _dataset(group, name, source):
    try:
        return group[name]
    except (KeyError, ValueError, OSError) as e:
        raise file_error(source, f"weight '{group.name}/{name}' is missing ({e}).") from None


def load_weights_legacy(model, group, source, skip_mismatch=False, by_name=False):
    """Load tf.keras 2 layout weights (``layer_names``/``weight_names``) from ``group`` into ``model``.

    Layers with weights are matched by name when the file and the model use the
    same names, otherwise in order (as tf.keras did). ``by_name=True`` (tf.keras's transfer-learning form)
    loads only the model's layers whose names the file has, and leaves the others as they are.
    """
    layer_names = _names(group, "layer_names", source)
    if layer_names is None:
        raise file_error(source, f"'{group.name}' has no 'layer_names' attribute; it is not a Keras 2 HDF5 "
                         "weights file.")
    saved = []
    for name in layer_names:
        g = group.get(name)
        weight_names = _names(g, "weight_names", source) if g is not None else None
        if weight_names is None:
            raise file_error(source, f"layer group '{name}' is missing or has no 'weight_names'.")
        if weight_names:
            saved.append((name, g, weight_names))
    layers = [layer for layer in model.layers if layer.weights]
    if by_name:
        names = {name for name, _, _ in saved}
        layers = [layer for layer in layers if layer.name in names]
    else:
        by_name = {name for name, _, _ in saved} == {layer.name for layer in layers}
    if not by_name and len(saved) != len(layers):
        raise file_error(source, f"it holds weights for {len(saved)} layers ({[n for n, _, _ in saved]}), but "
                         f"the model has {len(layers)} layers with weights ({[l.name for l in layers]}).")
    saved_map = {name: (g, w) for name, g, w in saved}
    pairs = [(layer, saved_map[layer.name]) for layer in layers] if by_name else \
        [(layer, (g, w)) for layer, (_, g, w) in zip(layers, saved)]
    for layer, (g, weight_names) in pairs:
        try:
            variables = layer.weights
            if len(weight_names) != len(variables):
                raise file_error(source, f"layer '{layer.name}' has {len(variables)} weights, but the file "
                                 f"holds {len(weight_names)} for it ({weight_names}).")
            values = [read_dataset(_dataset(g, n, source), source, f"{g.name}/{n}", tuple(v.shape), str(v.dtype))
                      for n, v in zip(weight_names, variables)]
        except ValueError as e:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping the weights of layer '{layer.name}' (skip_mismatch=True): {e}", stacklevel=3)
            continue
        for v, value in zip(variables, values):
            v.assign(value)


def _load_optimizer_legacy(model, group, source):
    optimizer = model.optimizer
    names = _names(group, "weight_names", source) or []
    try:
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables = [optimizer.variables[j] for j in optimizer_keras_order(optimizer)]
        if [str(v.name) for v in variables] != names and (len(names) != len(variables) or
                                                           any(n.endswith(":0") for n in names)):
            # Not lamina's layout: tf.keras 2's (TensorFlow names end in ':0'; slots name model variables).
            load_keras2_optimizer(optimizer, model, group, names, source)
            return
        values = [read_dataset(_dataset(group, n, source), source, f"optimizer_weights/{n}", tuple(v.shape),
                               str(v.dtype)) for n, v in zip(names, variables)]
    except ValueError as e:
        warnings.warn(f"The optimizer state in '{source}' was not loaded: {e} Training resumes with a fresh "
                      "optimizer state.", stacklevel=3)
        return
    for v, value in zip(variables, values):
        v.assign(value)


def load_legacy(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a whole model from a tf.keras 2 (or lamina) HDF5 file."""
    with open_h5(filepath, filepath) as f, h5_errors(filepath):
        raw = f.attrs.get("model_config")
        if raw is None:
            raise file_error(filepath, "it has no 'model_config' attribute: it holds only weights (or is not a "
                             "Keras model file). Build the model in code and call model.load_weights() on it.")
        config = parse_json(filepath, "model_config", _attr_text(raw).encode("utf8"))
        if _attr_text(f.attrs.get("keras_version", "")).startswith("lamina-") and \
                "lamina_node_indices" not in f.attrs:
            from lamina.models.graph_config import keras_io_indices

            config = keras_io_indices(config)  # written by an earlier lamina (see keras_archive.NODE_INDICES)
        config = check_and_adapt(config, filepath, custom_objects, safe_mode)
        model = model_from_file_config(config, filepath, custom_objects, safe_mode)
        weights = f.get("model_weights")
        if weights is None:
            raise file_error(filepath, "it has a model config but no 'model_weights' group.")
        load_weights_legacy(model, weights, filepath)
        training = f.attrs.get("training_config")
        if compile and training is not None:
            training = parse_json(filepath, "training_config", _attr_text(training).encode("utf8"))
            training = check_and_adapt({"class_name": "training_config", "config": training}, filepath,
                                       custom_objects, safe_mode)["config"]
            compile_from_legacy(model, training, custom_objects, f"'{filepath}'")
            if "optimizer_weights" in f:
                _load_optimizer_legacy(model, f["optimizer_weights"], filepath)
    return model
