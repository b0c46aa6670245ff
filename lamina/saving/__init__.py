"""Saving and configs: ``serialize_object`` / ``deserialize_object`` and the custom-object registry."""

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

register_keras_serializable = register_serializable
serialize_keras_object = serialize_object
deserialize_keras_object = deserialize_object
