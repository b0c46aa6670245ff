"""``lamina.utils.generic_utils``: Keras 2's ``keras.utils.generic_utils`` import path, for tutorial code
(see lamina/_keras2_paths.py)."""

from lamina._keras2_paths import forwarding as _forwarding

__getattr__, __all__ = _forwarding(__name__, "lamina.utils", [
    "get_custom_objects", "CustomObjectScope", "custom_object_scope", "serialize_keras_object",
    "deserialize_keras_object", "Progbar", "get_registered_name", "get_registered_object",
    "register_keras_serializable"
])
