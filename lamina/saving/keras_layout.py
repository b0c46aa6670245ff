"""The config written to ``config.json``, in the layout Keras 3 reads.

lamina's own configs name its classes by lamina's modules (``lamina.layers.core.dense``);
Keras 3 resolves a built-in class from ``module`` + ``class_name`` through its public API
(``keras.layers`` + ``Dense``), and a few classes only through their source module with
``registered_name`` set (``keras.src.models.functional`` + ``Functional``). ``keras_layout``
rewrites a serialized config that way; lamina reads both layouts.

Example:
>>> from lamina.saving.keras_layout import keras_layout
>>> keras_layout({"module": "lamina.models.functional", "class_name": "Functional", "config": {},
...               "registered_name": "Functional"})["module"]
'keras.src.models.functional'
"""

from lamina.saving.keras_op_write import keras_op_entry

# lamina's top-level package of a built-in class -> the Keras module that exports it.
_KERAS_MODULES = {"models": "keras", "layers": "keras.layers", "optimizers": "keras.optimizers",
                  "losses": "keras.losses", "metrics": "keras.metrics", "initializers": "keras.initializers",
                  "regularizers": "keras.regularizers", "constraints": "keras.constraints"}

# Classes Keras does not export publicly: it reads them by source module and registered name.
_SOURCE_MODULES = {"Functional": "keras.src.models.functional"}

# lamina's class name -> the name Keras exports the class under, where they differ.
_KERAS_CLASS_NAMES = {"GroupedQueryAttention": "GroupQueryAttention"}

# Keras 3.15 classes whose __init__ takes no ``trainable`` (and no **kwargs); they have no weights.
_NO_TRAINABLE = {"Discretization", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}


def _is_builtin(config):
    module = config.get("module")
    return isinstance(module, str) and module.startswith("lamina.") and ">" not in str(config.get("registered_name"))


def keras_layout(config):
    """Return a copy of a serialized config (``serialize_object``'s dict) in Keras 3's layout."""
    if isinstance(config, list):
        return [keras_layout(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "__operation__":  # an op node of a Functional graph
        converted = keras_op_entry(config)
        if converted is not None:
            return converted
    out = {k: keras_layout(v) for k, v in config.items()}
    if _is_builtin(out):
        class_name = out.get("class_name")
        if class_name in _SOURCE_MODULES:
            out["module"] = _SOURCE_MODULES[class_name]
            out["registered_name"] = class_name
        else:
            parts = out["module"].split(".")
            family = parts[1]
            if family == "optimizers" and len(parts) > 2 and parts[2] == "schedules":
                out["module"] = "keras.optimizers.schedules"
                out["registered_name"] = None
            elif family in _KERAS_MODULES:
                out["module"] = _KERAS_MODULES[family]
                out["registered_name"] = None
                out["class_name"] = _KERAS_CLASS_NAMES.get(class_name, class_name)
        if class_name in _NO_TRAINABLE and isinstance(out.get("config"), dict):
            out["config"] = {k: v for k, v in out["config"].items() if k != "trainable"}
    return out


def keras_compile_config(config):
    """The compile settings in Keras 3's layout (None passes through)."""
    if config is None:
        return None
    out = keras_layout(config)
    if out.get("steps_per_execution") == "auto":  # lamina's default; Keras takes a number (its default is 1)
        del out["steps_per_execution"]
    return out
