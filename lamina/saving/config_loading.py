"""Turn a model config read from a file into a model, safely.

Safe mode (the default) refuses any config holding code: Keras's serialized
bytecode (``__lambda__``) is refused always, since lamina never runs code read
from a file; a ``Lambda`` layer is refused unless ``safe_mode=False`` *and* its
function name is one the user registered (``register_serializable``) or passed
in ``custom_objects``. Class names resolve only through lamina's registry.
"""

from lamina.saving.file_safety import file_error
from lamina.saving.keras_compat import adapt_config, find_code
from lamina.saving.serialization import CustomObjectScope, deserialize_object, get_registered_object


def _resolve_lambdas(config, custom_objects, source):
    """With safe_mode=False: put the user's registered function into each Lambda config."""
    if isinstance(config, list):
        return [_resolve_lambdas(c, custom_objects, source) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "Lambda" and isinstance(config.get("config"), dict):
        inner = dict(config["config"])
        fn_name = inner.get("function")
        fn = get_registered_object(fn_name, custom_objects) if isinstance(fn_name, str) else None
        if fn is None or not callable(fn):
            raise file_error(source, f"Lambda layer '{inner.get('name')}' uses the function {fn_name!r:.80}, "
                             "which is not a registered object. lamina never loads code from a file: define "
                             "the function in your program and pass custom_objects={'" + str(fn_name)[:40] +
                             "': fn} (with safe_mode=False).")
        inner["function"] = fn
        return dict(config, config=inner)
    return {k: _resolve_lambdas(v, custom_objects, source) for k, v in config.items()}


def check_and_adapt(config, source, custom_objects=None, safe_mode=True):
    """Refuse code in ``config`` (see module doc) and adapt a Keras config to lamina's layout."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise file_error(source, "its model config is not an object config (a dict with a 'class_name').")
    found = find_code(config)
    if found:
        bytecode = "__lambda__" in found
        if safe_mode or bytecode:
            hint = ("lamina never runs bytecode stored in a file, even with safe_mode=False; re-create the "
                    "layer in code." if bytecode else
                    "Loading it would run Python code. If you trust the file, define the function in your "
                    "program and load with safe_mode=False, custom_objects={'<function name>': fn}.")
            raise file_error(source, f"it contains {found}. {hint}")
    try:
        config = adapt_config(config, "model config")
    except ValueError as e:
        raise file_error(source, str(e)) from None
    if found:
        config = _resolve_lambdas(config, custom_objects, source)
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
