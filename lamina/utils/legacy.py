"""``lamina.utils.legacy``: Keras 2's object (de)serialization (see ``lamina.legacy.saving``)."""

from lamina.legacy.saving import deserialize_keras_object, serialize_keras_object  # noqa: F401
