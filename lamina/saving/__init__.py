"""Saving and configs: ``save_model``/``load_model``, weights files, ``serialize_object``, the custom-object registry."""

from lamina.saving.serialization import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    deserialize_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_serializable,
    serialize_object,
)
from lamina.saving.saving_api import load_model, load_weights, save_model, save_weights  # noqa: F401,E402
from lamina.saving.file_editor import KerasFileEditor  # noqa: F401,E402

register_keras_serializable = register_serializable
serialize_keras_object = serialize_object
deserialize_keras_object = deserialize_object
