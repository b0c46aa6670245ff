"""A model's compile settings as a config (Keras 3's ``compile_config``), and back.

Example:
>>> import lamina
>>> from lamina.saving.compile_config import get_compile_config
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
>>> cfg = get_compile_config(model)
>>> cfg["optimizer"]["class_name"], cfg["loss"], cfg["metrics"]
('Adam', 'mse', ['mae'])
"""

import warnings


def _function_config(fn):
    """Keras 3's config of a plain function: its registered name (``"package>name"``) or its own name."""
    from lamina.saving.serialization import get_registered_name

    return {"module": "builtins", "class_name": "function", "config": get_registered_name(fn),
            "registered_name": "function"}


def _serialize_fn(obj, module):
    """A loss or metric: names stay names, functions become Keras's function config, objects their config."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_serialize_fn(o, module) for o in obj]
    if isinstance(obj, dict):
        return {k: _serialize_fn(v, module) for k, v in obj.items()}
    if hasattr(obj, "get_config"):
        return module.serialize(obj)
    name = getattr(obj, "__name__", None)
    if callable(obj) and name and name != "<lambda>":
        return _function_config(obj)
    raise ValueError(f"Cannot save the compile settings: {obj!r:.80} cannot be serialized. Use a named "
                     "function or a class with get_config(), registered with register_serializable.")


def _function_names(config):
    """Function configs replaced by their names (tf.keras 2 / Keras's h5 ``training_config`` form)."""
    if isinstance(config, list):
        return [_function_names(c) for c in config]
    if isinstance(config, dict) and config.get("class_name") == "function":
        return config.get("config")
    if isinstance(config, dict) and "class_name" not in config:
        return {k: _function_names(v) for k, v in config.items()}
    return config


def get_compile_config(model):
    """Return the settings ``model.compile`` was called with (None if it was not compiled)."""
    from lamina import losses, metrics, optimizers

    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    loss_weights = None
    if model.compiled_loss is not None and any(w != 1.0 for w in model.compiled_loss.weights):
        loss_weights = list(model.compiled_loss.weights)
    cm = model.compiled_metrics
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _serialize_fn(model.loss, losses),
        "loss_weights": loss_weights,
        "metrics": _serialize_fn(getattr(cm, "_metrics_spec", None), metrics),
        "weighted_metrics": _serialize_fn(getattr(cm, "_weighted_spec", None), metrics),
        "run_eagerly": bool(getattr(model, "run_eagerly", False)),
        "steps_per_execution": getattr(model, "steps_per_execution", 1) or "auto",
        "jit_compile": getattr(model, "jit_compile", "auto"),
    }


def _is_builtin(name, module):
    try:
        module.get(name)
    except (ValueError, TypeError):
        return False
    return True


def _resolve_name(name, module, custom_objects):
    """The loss/metric a saved name stands for: the object passed or registered under that name; else, for
    one of lamina's built-in names, the name itself (``compile`` looks it up); else the function registered
    under the name without its ``package>`` prefix, with the default ``Custom>`` one, or (files of older
    lamina versions) under any package with that ``__name__``. Returns the name when nothing matches."""
    from lamina.saving.serialization import get_custom_objects, get_registered_object

    obj = get_registered_object(name, custom_objects)
    if obj is not None or _is_builtin(name, module):
        return name if obj is None else obj
    for candidate in (name.split(">", 1)[1],) if ">" in name else (f"Custom>{name}",):
        obj = get_registered_object(candidate, custom_objects)
        if obj is not None:
            return obj
    found = [fn for fn in get_custom_objects().values() if callable(fn) and getattr(fn, "__name__", None) == name
             and not isinstance(fn, type)]
    return found[0] if len(found) == 1 else name


def _deserialize_fn(config, module, custom_objects):
    if isinstance(config, str):
        return _resolve_name(config, module, custom_objects)
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, list):
        return [_deserialize_fn(c, module, custom_objects) for c in config]
    if isinstance(config, dict) and "class_name" not in config:
        return {k: _deserialize_fn(v, module, custom_objects) for k, v in config.items()}
    if isinstance(config, dict) and config.get("class_name") == "MeanMetricWrapper":  # tf.keras 2 metrics
        inner = config.get("config") or {}
        return inner.get("fn") or inner.get("name")
    if isinstance(config, dict) and config.get("class_name") == "function":  # Keras 3's function config
        name = config.get("config")
        if not isinstance(name, str):
            raise ValueError(f"Cannot read the function config {config!r:.200}.")
        fn = _resolve_name(name, module, custom_objects)
        if isinstance(fn, str) and not _is_builtin(fn, module):
            raise ValueError(f"Could not locate the function {fn!r}. Register it with "
                             "@lamina.saving.register_keras_serializable() before loading, or pass "
                             f"custom_objects={{{fn.split('>')[-1]!r}: fn}}.")
        return fn
    return module.deserialize(config, custom_objects=custom_objects)


def compile_from_config(model, config, custom_objects=None, source="the file"):
    """Call ``model.compile`` with the settings of ``get_compile_config`` (or of a Keras file).

    Raises:
        ValueError: naming ``source`` when a setting names an unknown object.
    """
    from lamina import losses, metrics, optimizers
    from lamina.saving.serialization import CustomObjectScope

    if not config:
        return
    with CustomObjectScope(custom_objects or {}):
        try:
            opt = config.get("optimizer", "rmsprop")
            opt = optimizers.deserialize(opt, custom_objects=custom_objects) if isinstance(opt, dict) else opt
            loss = _deserialize_fn(config.get("loss"), losses, custom_objects)
            mets = _deserialize_fn(config.get("metrics"), metrics, custom_objects)
            wmets = _deserialize_fn(config.get("weighted_metrics"), metrics, custom_objects)
        except (ValueError, TypeError) as e:
            raise ValueError(f"Cannot restore the compile settings saved in {source}: {e} Pass the missing "
                             "objects in custom_objects=, or load with compile=False and compile yourself.") from None
        spe = config.get("steps_per_execution", "auto")  # lamina leaves its "auto" out (Keras takes numbers)
        model.compile(optimizer=opt, loss=loss, loss_weights=config.get("loss_weights"),
                      metrics=_single_output_metrics(model, mets), weighted_metrics=wmets,
                      run_eagerly=bool(config.get("run_eagerly", False)),
                      steps_per_execution=spe if isinstance(spe, int) and spe >= 0 else "auto",
                      jit_compile=config.get("jit_compile", "auto"))


def _single_output_metrics(model, mets):
    """tf.keras 2 wrote the metrics of a one-output model as ``[[m1, m2]]``: unwrap that."""
    outputs = getattr(model, "outputs", None) or []
    if isinstance(mets, list) and len(mets) == 1 and isinstance(mets[0], list) and len(outputs) <= 1:
        return mets[0]
    return mets


def legacy_training_config(model):
    """The tf.keras 2 ``training_config`` of an h5 file (``optimizer_config`` instead of ``optimizer``)."""
    cfg = get_compile_config(model)
    if cfg is None:
        return None
    cfg = {k: _function_names(v) if k in ("loss", "metrics", "weighted_metrics") else v for k, v in cfg.items()}
    opt = cfg.pop("optimizer")
    cfg["optimizer_config"] = {"class_name": opt["class_name"], "config": opt["config"]}
    return cfg


def compile_from_legacy(model, training_config, custom_objects, source):
    """Compile from a tf.keras 2 ``training_config`` (warns instead of failing on odd metrics)."""
    cfg = dict(training_config)
    opt = cfg.pop("optimizer_config", None)
    cfg["optimizer"] = opt if opt is not None else "rmsprop"
    try:
        compile_from_config(model, cfg, custom_objects, source)
    except ValueError as e:
        if cfg.get("metrics") is None and cfg.get("weighted_metrics") is None:
            raise
        warnings.warn(f"{e} Compiling without the saved metrics.", stacklevel=3)
        compile_from_config(model, dict(cfg, metrics=None, weighted_metrics=None), custom_objects, source)
