"""Turn a model config read from a file into a model, safely.

Safe mode (the default) refuses any config holding code: Keras's serialized
bytecode (``__lambda__``) is refused always, since lamina never runs code read
from a file. A ``Lambda`` layer whose function name the user registered
(``register_serializable``) loads in safe mode, by that name; another Lambda is
refused unless ``safe_mode=False`` *and* its function is passed in
``custom_objects``. Class and function names resolve only through lamina's
registry and the user's objects.
"""

from lamina import config as _config
from lamina.saving.file_safety import file_error
from lamina.saving.keras_compat import adapt_config, find_code
from lamina.saving.serialization import (CustomObjectScope, deserialize_object, function_names,
                                        get_registered_object, resolve_function)


def _registered_lambda(layer_config):
    """True when a Lambda's function names an object registered with ``register_serializable``."""
    fn_config = (layer_config or {}).get("function") if isinstance(layer_config, dict) else None
    return any(callable(get_registered_object(name)) for name in function_names(fn_config))


def _check_lambdas(config, custom_objects, source):
    """With safe_mode=False: every Lambda's function must be registered or in ``custom_objects``."""
    if isinstance(config, list):
        for c in config:
            _check_lambdas(c, custom_objects, source)
        return
    if not isinstance(config, dict):
        return
    if config.get("class_name") == "Lambda" and isinstance(config.get("config"), dict):
        inner = config["config"]
        try:
            resolve_function(inner.get("function"), custom_objects, who=f"Lambda layer '{inner.get('name')}'")
        except ValueError as e:
            raise file_error(source, f"{e} (with safe_mode=False).") from None
        return
    for v in config.values():
        _check_lambdas(v, custom_objects, source)


def check_and_adapt(config, source, custom_objects=None, safe_mode=True):
    """Refuse code in ``config`` (see module doc) and adapt a Keras config to lamina's layout."""
    safe_mode = _config.in_safe_mode(safe_mode)  # lamina.config.enable_unsafe_deserialization() lifts it
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise file_error(source, "its model config is not an object config (a dict with a 'class_name').")
    found = find_code(config, allow_lambda=_registered_lambda)
    if found:
        bytecode = "__lambda__" in found
        if safe_mode or bytecode:
            hint = ("lamina never runs bytecode stored in a file, even with safe_mode=False; re-create the "
                    "layer in code." if bytecode else
                    "Loading it would run Python code that is not registered. Register the function with "
                    "@lamina.saving.register_serializable() (it then loads in safe mode by its registered "
                    "name), or, if you trust the file, define it in your program and load with "
                    "safe_mode=False, custom_objects={'<function name>': fn}.")
            raise file_error(source, f"it contains {found}. {hint}")
    try:
        config = adapt_config(config, "model config")
    except ValueError as e:
        raise file_error(source, str(e)) from None
    if found:
        _check_lambdas(config, custom_objects, source)
    return config


def model_from_file_config(config, source, custom_objects=None, safe_mode=True):
    """Create the model described by ``config`` (already checked and adapted).

    Raises:
        ValueError: naming ``source`` when a class cannot be found or the config
            does not describe a valid model.
    """
    from lamina.layers.layer import Layer

    with CustomObjectScope(custom_objects or {}):
        try:
            model = deserialize_object(config, custom_objects=custom_objects)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            raise file_error(source, f"its model config cannot be rebuilt: {e}") from None
        except RecursionError:
            raise file_error(source, "its model config is nested too deeply.") from None
    if not isinstance(model, Layer):
        raise file_error(source, f"its config describes a {type(model).__name__}, not a model.")
    return model
