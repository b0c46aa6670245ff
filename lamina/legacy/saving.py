"""Keras 2's object (de)serialization: ``{"class_name": ..., "config": ...}`` dicts without a module, as
``tf.keras`` wrote them (``keras.legacy.saving`` / ``keras.utils.legacy``)."""

from lamina.saving.serialization import deserialize_object, get_registered_name, get_registered_object


def serialize_keras_object(instance):
    """The Keras 2 config of ``instance``: ``{"class_name", "config"}`` for objects with ``get_config``, the
    registered name for functions.

    Example:
    >>> import lamina
    >>> from lamina.legacy.saving import serialize_keras_object
    >>> serialize_keras_object(lamina.layers.Dense(2, name="d"))["class_name"]
    'Dense'
    """
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": get_registered_name(instance), "config": instance.get_config()}
    if callable(instance) and hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(f"serialize_keras_object expected an object with get_config() or a named function, but "
                     f"received {instance!r}.")


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """The object a Keras 2 config describes: a ``{"class_name", "config"}`` dict is created; a name is looked
    up (``custom_objects``, then ``module_objects``, then registered objects) and the class or function
    returned; a callable is returned as is. Only known classes and functions are created: no module named in a
    config is imported.

    Example:
    >>> import lamina
    >>> from lamina.legacy.saving import deserialize_keras_object
    >>> deserialize_keras_object({"class_name": "Dense", "config": {"units": 3}}).units
    3
    """
    if identifier is None:
        return None
    objects = {**(module_objects or {}), **(custom_objects or {})}
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r} (a config needs "
                             "a 'class_name').")
        return deserialize_object(identifier, custom_objects=objects)
    if isinstance(identifier, str):
        found = objects.get(identifier) or get_registered_object(identifier)
        if found is None:
            from lamina.saving.serialization import _builtin_classes

            found = _builtin_classes().get(identifier)
        if found is None:
            raise ValueError(f"Unknown {printable_module_name}: '{identifier}'. Pass it in custom_objects or "
                             "register it with @lamina.saving.register_keras_serializable().")
        return found
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}.")
